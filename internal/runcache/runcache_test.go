package runcache

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/outcome"
)

func TestDirRoundTrip(t *testing.T) {
	ctx := context.Background()
	d, err := Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatal(err)
	}
	key := "0123456789abcdef"
	if _, ok, err := d.Get(ctx, key); ok || err != nil {
		t.Fatalf("empty cache: ok=%v err=%v", ok, err)
	}
	want := executor.Result{Status: executor.Completed, Applied: "git-apply",
		Cases: []executor.Case{{ID: "p::TestA", Outcome: outcome.Pass}, {ID: "p::TestB", Outcome: outcome.Fail}}}
	if err := d.Put(ctx, key, want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := d.Get(ctx, key)
	if err != nil || !ok {
		t.Fatalf("get after put: ok=%v err=%v", ok, err)
	}
	if got.Applied != want.Applied || len(got.Cases) != 2 || got.Cases[1].Outcome != outcome.Fail {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestDirDamagedEntryIsAMiss(t *testing.T) {
	ctx := context.Background()
	d, _ := Open(t.TempDir())
	key := "abcdef0123456789"
	f, _ := d.file(key)
	os.MkdirAll(filepath.Dir(f), 0o755)
	os.WriteFile(f, []byte("{not json"), 0o644)
	if _, ok, err := d.Get(ctx, key); ok || err != nil {
		t.Fatalf("damaged entry: ok=%v err=%v, want a miss", ok, err)
	}
}

func TestDirRejectsMalformedKeys(t *testing.T) {
	d, _ := Open(t.TempDir())
	for _, key := range []string{"", "short", "../../etc/passwd", "abc/defghijk"} {
		if err := d.Put(context.Background(), key, executor.Result{}); err == nil {
			t.Errorf("Put(%q) accepted a malformed key", key)
		}
	}
}

func TestDirConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	d, _ := Open(t.TempDir())
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.Put(ctx, "ffffffffffffffff", executor.Result{Status: executor.Completed}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if _, ok, err := d.Get(ctx, "ffffffffffffffff"); !ok || err != nil {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
}
