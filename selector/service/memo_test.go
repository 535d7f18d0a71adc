package service

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor"
)

// countingCache is a result cache in a map that counts its reads.
type countingCache struct {
	m     map[string]executor.Result
	reads int
}

func (c *countingCache) Get(_ context.Context, key string) (executor.Result, bool, error) {
	c.reads++
	r, ok := c.m[key]
	return r, ok, nil
}

func (c *countingCache) Put(_ context.Context, key string, res executor.Result) error {
	c.m[key] = res
	return nil
}

// TestMemo: results read or written once are served from memory, within
// the byte budget, the least recently used dropped first; a result too big
// for the budget is never kept; a miss stays a miss.
func TestMemo(t *testing.T) {
	ctx := context.Background()
	next := &countingCache{m: map[string]executor.Result{}}
	res := func(i int) executor.Result {
		return executor.Result{Status: executor.Completed, Output: strings.Repeat("x", 700), Reason: fmt.Sprint(i)}
	}
	m := newMemo(next, 10*resultSize(res(0)))
	for i := range 10 {
		if err := m.Put(ctx, fmt.Sprint(i), res(i)); err != nil {
			t.Fatal(err)
		}
	}
	if r, ok, err := m.Get(ctx, "0"); !ok || err != nil || r.Reason != "0" || next.reads != 0 {
		t.Fatalf("Get 0: %v %v %q after %d reads of the cache; want it from memory", ok, err, r.Reason, next.reads)
	}
	// One more: the least recently used (1, since 0 was just read) goes.
	if err := m.Put(ctx, "10", res(10)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key   string
		reads int
	}{{"0", 0}, {"10", 0}, {"1", 1}, {"1", 1}, {"missing", 2}, {"missing", 3}} {
		r, ok, err := m.Get(ctx, tc.key)
		if err != nil || ok != (tc.key != "missing") || ok && r.Reason != tc.key || next.reads != tc.reads {
			t.Errorf("Get %s: %q %v %v, %d reads of the cache; want %d", tc.key, r.Reason, ok, err, next.reads, tc.reads)
		}
	}
	big := executor.Result{Output: strings.Repeat("x", m.limit)}
	if err := m.Put(ctx, "big", big); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.byKey["big"]; ok || m.size > m.limit {
		t.Errorf("a result bigger than the budget was kept (size %d of %d)", m.size, m.limit)
	}
}
