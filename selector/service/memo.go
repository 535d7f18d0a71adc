package service

import (
	"container/list"
	"context"
	"sync"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/selector"
)

// memoBytes bounds the results the daemon keeps decoded in memory in front
// of its result cache (by their approximate size).
const memoBytes = 32 << 20

// memo keeps the most recently used results of a result cache decoded in
// memory, within a byte budget: a job answered from the cache reads each
// of its runs' results, and decoding them from disk every time cost a
// job of cached runs as much as everything else it does. Results are
// content-addressed, so a memorized one never goes stale.
type memo struct {
	next  selector.Cache
	limit int

	mu    sync.Mutex
	size  int
	order *list.List // of *memoEntry, most recently used first
	byKey map[string]*list.Element
}

type memoEntry struct {
	key  string
	res  executor.Result
	size int
}

func newMemo(next selector.Cache, limit int) *memo {
	return &memo{next: next, limit: limit, order: list.New(), byKey: map[string]*list.Element{}}
}

// Get returns the result under key, from memory or else from the cache.
func (m *memo) Get(ctx context.Context, key string) (executor.Result, bool, error) {
	m.mu.Lock()
	if e, ok := m.byKey[key]; ok {
		m.order.MoveToFront(e)
		res := e.Value.(*memoEntry).res
		m.mu.Unlock()
		return res, true, nil
	}
	m.mu.Unlock()
	res, ok, err := m.next.Get(ctx, key)
	if ok && err == nil {
		m.keep(key, res)
	}
	return res, ok, err
}

// Put stores a result in the cache, and keeps it.
func (m *memo) Put(ctx context.Context, key string, res executor.Result) error {
	if err := m.next.Put(ctx, key, res); err != nil {
		return err
	}
	m.keep(key, res)
	return nil
}

// keep memorizes a result, dropping the least recently used ones past the
// budget. A result bigger than an eighth of the budget is not kept.
func (m *memo) keep(key string, res executor.Result) {
	size := resultSize(res)
	if size > m.limit/8 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.byKey[key]; ok {
		m.order.MoveToFront(e)
		return
	}
	m.byKey[key] = m.order.PushFront(&memoEntry{key: key, res: res, size: size})
	m.size += size
	for m.size > m.limit {
		last := m.order.Back()
		ent := last.Value.(*memoEntry)
		m.order.Remove(last)
		delete(m.byKey, ent.key)
		m.size -= ent.size
	}
}

// resultSize is roughly the memory a decoded result holds.
func resultSize(res executor.Result) int {
	n := 256 + len(res.Reason) + len(res.Output) + len(res.Tree) + len(res.Applied)
	for _, c := range res.Cases {
		n += len(c.ID) + 48
	}
	for k := range res.TestsApplied {
		n += len(k) + 48
	}
	for _, s := range [][]string{res.Restored, res.Broken, res.BrokenFiles} {
		for _, x := range s {
			n += len(x) + 16
		}
	}
	return n
}
