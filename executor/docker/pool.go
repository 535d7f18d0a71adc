package docker

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// readyIdle is how long a container made ahead waits for a run before it is
// removed: a job's next run comes within seconds; a container kept longer
// only holds the engine's memory.
const readyIdle = 30 * time.Second

// pool keeps idle containers by container spec, made ahead of need: once a
// run of a spec took one (or found none), fill makes them in the
// background until Ahead of that spec are idle or being made, so that
// creating and starting a container is off the next run's critical path.
// Each waits at most idle, and close removes them. The fresh containers
// made ahead (ready.go: one run each) and the reused ones (reuse.go: put
// back after each run) are two pools of it.
type pool[T comparable] struct {
	cfg poolConfig[T]

	// life ends the background makes at close.
	life context.Context
	stop context.CancelFunc

	mu     sync.Mutex
	idle   map[string][]*idleOne[T] // by spec key, oldest first
	making map[string]int           // by spec key: background makes under way
	closed bool
	wg     sync.WaitGroup // background makes, removals and stops
}

// poolConfig is what a pool holds and how it makes, checks and removes one.
type poolConfig[T any] struct {
	log   *slog.Logger
	ahead int
	idle  time.Duration
	// newest takes the container that went idle last (its file system's
	// caches are the warmest) rather than the oldest.
	newest bool
	// what names the containers in the log ("a container", "a reused
	// container").
	what   string
	make   func(ctx context.Context, sp spec) (T, error)
	remove func(ctx context.Context, v T)
	// usable, when set, says whether an idle container can still serve;
	// take removes the ones that cannot (a reused container's keeper
	// killed from outside).
	usable func(v T) bool
}

type idleOne[T any] struct {
	v     T
	timer *time.Timer
}

func newPool[T comparable](cfg poolConfig[T]) *pool[T] {
	life, stop := context.WithCancel(context.Background())
	return &pool[T]{cfg: cfg, life: life, stop: stop, idle: map[string][]*idleOne[T]{}, making: map[string]int{}}
}

// take returns an idle container of spec key, or false when none is; the
// ones that are no longer usable are removed on the way.
func (p *pool[T]) take(key string) (T, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		list := p.idle[key]
		if len(list) == 0 {
			var zero T
			return zero, false
		}
		i := 0
		if p.cfg.newest {
			i = len(list) - 1
		}
		one := p.unidle(key, i)
		one.timer.Stop()
		if p.cfg.usable == nil || p.cfg.usable(one.v) {
			return one.v, true
		}
		p.wg.Go(func() { p.cfg.remove(context.Background(), one.v) })
	}
}

// unidle takes the i-th idle container of spec key out of the pool; call
// with p.mu held.
func (p *pool[T]) unidle(key string, i int) *idleOne[T] {
	list := p.idle[key]
	one := list[i]
	if list = slices.Delete(list, i, i+1); len(list) == 0 {
		delete(p.idle, key)
	} else {
		p.idle[key] = list
	}
	return one
}

// fill starts making containers of spec sp in the background until ahead
// of them are idle or being made.
func (p *pool[T]) fill(sp spec) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	for len(p.idle[sp.key])+p.making[sp.key] < p.cfg.ahead {
		p.making[sp.key]++
		p.wg.Go(func() {
			v, err := p.cfg.make(p.life, sp)
			p.mu.Lock()
			if p.making[sp.key]--; p.making[sp.key] == 0 {
				delete(p.making, sp.key)
			}
			p.mu.Unlock()
			if err != nil {
				if p.life.Err() == nil {
					p.cfg.log.Warn("cannot make "+p.cfg.what+" ahead; the next run makes its own", "image", sp.config.Image, "err", err)
				}
				return
			}
			p.put(sp.key, v)
		})
	}
}

// put makes v an idle container of spec key, removed after the pool's idle
// time unused, or at once after close.
func (p *pool[T]) put(key string, v T) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.cfg.remove(context.Background(), v)
		return
	}
	defer p.mu.Unlock()
	one := &idleOne[T]{v: v}
	one.timer = time.AfterFunc(p.cfg.idle, func() { p.expire(key, one) })
	p.idle[key] = append(p.idle[key], one)
}

// expire removes a container that waited too long for a run.
func (p *pool[T]) expire(key string, one *idleOne[T]) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := slices.Index(p.idle[key], one)
	if i < 0 {
		return // taken meanwhile
	}
	p.unidle(key, i)
	if !p.closed {
		p.wg.Go(func() { p.cfg.remove(context.Background(), one.v) })
	}
}

// discard removes a container that serves no other run: in the
// background, off the run's critical path (close waits for it), or at once
// after close.
func (p *pool[T]) discard(ctx context.Context, v T) {
	p.background(func() { p.cfg.remove(context.WithoutCancel(ctx), v) })
}

// background runs f in the background, counted by settle and close; after
// close, at once.
func (p *pool[T]) background(f func()) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		f()
		return
	}
	p.wg.Go(f)
	p.mu.Unlock()
}

// settle waits for the background makes, removals and stops started so
// far.
func (p *pool[T]) settle() { p.wg.Wait() }

// close stops making containers, removes the idle ones and waits for
// every make, removal and stop under way (a make that ends after this
// removes what it made: put).
func (p *pool[T]) close() {
	p.stop()
	p.mu.Lock()
	p.closed = true
	all := p.takeAll()
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, v := range all {
		wg.Go(func() { p.cfg.remove(context.Background(), v) })
	}
	wg.Wait()
	p.wg.Wait()
}

// takeAll takes every idle container out of the pool; call with p.mu held.
func (p *pool[T]) takeAll() []T {
	var all []T
	for _, list := range p.idle {
		for _, one := range list {
			one.timer.Stop()
			all = append(all, one.v)
		}
	}
	p.idle = map[string][]*idleOne[T]{}
	return all
}
