package docker

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
)

// fakeContainers makes and removes numbered containers for a pool, with
// no engine: the pool's own rules are what is tested here; the backends'
// tests run them on Docker.
type fakeContainers struct {
	mu      sync.Mutex
	next    int
	removed []int
	dead    map[int]bool
	hold    chan struct{} // when set, a make waits for it
}

func (f *fakeContainers) make(ctx context.Context, _ spec) (int, error) {
	if f.hold != nil {
		select {
		case <-f.hold:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	return f.next, nil
}

func (f *fakeContainers) remove(_ context.Context, v int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed = append(f.removed, v)
}

func (f *fakeContainers) usable(v int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.dead[v]
}

func (f *fakeContainers) removedSorted() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(slices.Values(f.removed))
}

func newFakePool(f *fakeContainers, ahead int, newest bool, idle time.Duration) *pool[int] {
	return newPool(poolConfig[int]{log: slog.New(slog.DiscardHandler), ahead: ahead, idle: idle, newest: newest, what: "a test container",
		make: f.make, remove: f.remove, usable: f.usable})
}

var fakeSpec = spec{key: "k", config: &container.Config{Image: "img"}}

// fill makes Ahead idle containers of a spec, no more; take hands out the
// oldest (fresh containers) or the newest (reused ones, warmest caches),
// skipping and removing the ones no longer usable; none idle is false.
func TestPoolTakeOrder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		newest bool
		dead   map[int]bool
		want   []int // the values taken, in order, until none is left
		gone   []int // removed on the way
	}{
		{name: "oldest first", want: []int{1, 2, 3}},
		{name: "newest first", newest: true, want: []int{3, 2, 1}},
		{name: "newest first, the newest dead", newest: true, dead: map[int]bool{3: true}, want: []int{2, 1}, gone: []int{3}},
		{name: "oldest first, one dead", dead: map[int]bool{1: true}, want: []int{2, 3}, gone: []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeContainers{dead: tc.dead}
			p := newFakePool(f, 1, tc.newest, time.Hour)
			defer p.close()
			p.fill(fakeSpec)
			p.fill(fakeSpec) // Ahead (1) is being made or idle: no more
			p.settle()
			if n := len(p.waiting()); n != 1 {
				t.Fatalf("%d idle after two fills, want 1", n)
			}
			p.put(fakeSpec.key, 2) // containers back from their runs
			p.put(fakeSpec.key, 3)
			var got []int
			for {
				v, ok := p.take(fakeSpec.key)
				if !ok {
					break
				}
				got = append(got, v)
			}
			p.settle()
			if !slices.Equal(got, tc.want) {
				t.Errorf("taken %v, want %v", got, tc.want)
			}
			if gone := f.removedSorted(); !slices.Equal(gone, tc.gone) {
				t.Errorf("removed %v, want %v", gone, tc.gone)
			}
			if _, ok := p.take("other"); ok {
				t.Error("took a container of a spec never filled")
			}
		})
	}
}

// An idle container is removed after the idle time; close cancels the
// makes under way, waits for them and removes the idle ones; after close,
// a container put back or discarded is removed at once, and background
// work runs at once.
func TestPoolExpireAndClose(t *testing.T) {
	f := &fakeContainers{}
	p := newFakePool(f, 2, false, 10*time.Millisecond)
	p.put(fakeSpec.key, 7)
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Equal(f.removedSorted(), []int{7}) {
		if time.Now().After(deadline) {
			t.Fatalf("removed %v after the idle time, want [7]", f.removedSorted())
		}
		time.Sleep(5 * time.Millisecond)
	}

	f = &fakeContainers{hold: make(chan struct{})}
	p = newFakePool(f, 2, false, time.Hour)
	p.put(fakeSpec.key, 100)
	p.fill(fakeSpec) // one idle (100), one make held
	closed := make(chan struct{})
	go func() { p.close(); close(closed) }()
	// close cancels the held make (its context is the pool's life): it
	// makes nothing, and close waits for it.
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("close did not return")
	}
	if gone := f.removedSorted(); !slices.Equal(gone, []int{100}) {
		t.Errorf("removed %v at close, want [100]", gone)
	}
	p.put(fakeSpec.key, 101) // a run that ended after close
	p.discard(context.Background(), 102)
	ran := false
	p.background(func() { ran = true })
	if gone := f.removedSorted(); !slices.Equal(gone, []int{100, 101, 102}) || !ran {
		t.Errorf("after close: removed %v, background ran %v; want [100 101 102], at once", gone, ran)
	}
	if _, ok := p.take(fakeSpec.key); ok {
		t.Error("took a container after close")
	}
}
