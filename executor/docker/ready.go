package docker

import (
	"context"
	"sync"
	"time"
)

// readyIdle is how long a container made ahead waits for a run before it is
// removed: a job's next run comes within seconds; a container kept longer
// only holds the engine's memory.
const readyIdle = 30 * time.Second

// ready keeps containers made ahead of need, by container spec: each is
// created, started, its work tree reset, and waits for exactly one run. A
// run takes one and a replacement is made in the background, so that
// creating, starting and resetting a container are off the next run's
// critical path. Nothing is shared: every run still gets a container of
// its own.
type ready struct {
	d     *Executor
	ahead int
	idle  time.Duration

	// life ends the background makes at Close.
	life context.Context
	stop context.CancelFunc

	mu     sync.Mutex
	spares map[string][]*spare // by spec key, oldest first
	making map[string]int
	closed bool
	wg     sync.WaitGroup // background makes and removals
}

type spare struct {
	sb    *sandbox
	timer *time.Timer
}

func newReady(d *Executor, ahead int, idle time.Duration) *ready {
	life, stop := context.WithCancel(context.Background())
	return &ready{d: d, ahead: ahead, idle: idle, life: life, stop: stop, spares: map[string][]*spare{}, making: map[string]int{}}
}

// take returns a container made ahead for spec key, or nil.
func (r *ready) take(key string) *sandbox {
	r.mu.Lock()
	defer r.mu.Unlock()
	list := r.spares[key]
	if len(list) == 0 {
		return nil
	}
	s := list[0]
	r.spares[key] = list[1:]
	if len(r.spares[key]) == 0 {
		delete(r.spares, key)
	}
	s.timer.Stop()
	return s.sb
}

// fill starts making containers for sp in the background until ahead of
// them are ready or being made.
func (r *ready) fill(sp spec) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	for len(r.spares[sp.key])+r.making[sp.key] < r.ahead {
		r.making[sp.key]++
		r.wg.Go(func() { r.make(sp) })
	}
}

func (r *ready) make(sp spec) {
	sb, err := r.d.makeSandbox(r.life, sp)
	r.mu.Lock()
	r.making[sp.key]--
	if r.making[sp.key] == 0 {
		delete(r.making, sp.key)
	}
	closed := r.closed
	if err == nil && !closed {
		s := &spare{sb: sb}
		s.timer = time.AfterFunc(r.idle, func() { r.expire(sp.key, s) })
		r.spares[sp.key] = append(r.spares[sp.key], s)
	}
	r.mu.Unlock()
	switch {
	case err != nil && r.life.Err() == nil:
		r.d.log.Warn("cannot make a container ahead; the next run makes its own", "image", sp.config.Image, "err", err)
	case err == nil && closed:
		r.d.removeNow(context.Background(), sb) // Close waits for this goroutine
	}
}

// expire removes a container that waited too long for a run.
func (r *ready) expire(key string, s *spare) {
	r.mu.Lock()
	defer r.mu.Unlock()
	list := r.spares[key]
	for i, x := range list {
		if x == s {
			r.spares[key] = append(list[:i:i], list[i+1:]...)
			if len(r.spares[key]) == 0 {
				delete(r.spares, key)
			}
			if !r.closed {
				r.wg.Go(func() { r.d.removeNow(context.Background(), s.sb) })
			}
			return
		}
	}
}

// discard removes a container whose run is over: in the background, off
// the run's critical path (Close waits for it), or at once after Close.
func (r *ready) discard(ctx context.Context, sb *sandbox) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		r.mu.Unlock()
		r.d.removeNow(ctx, sb)
		r.mu.Lock()
		return
	}
	r.wg.Go(func() { r.d.removeNow(ctx, sb) })
}

// drain removes the containers waiting for a run and waits for every make
// and removal under way, until none is left waiting.
func (r *ready) drain() {
	for {
		r.mu.Lock()
		var left []*sandbox
		for _, list := range r.spares {
			for _, s := range list {
				s.timer.Stop()
				left = append(left, s.sb)
			}
		}
		r.spares = map[string][]*spare{}
		busy := len(r.making) > 0
		r.mu.Unlock()
		if len(left) == 0 && !busy {
			r.wg.Wait()
			return
		}
		var wg sync.WaitGroup
		for _, sb := range left {
			wg.Go(func() { r.d.removeNow(context.Background(), sb) })
		}
		wg.Wait()
		r.wg.Wait()
	}
}

// close stops making containers, removes the ones waiting, and waits for
// every removal.
func (r *ready) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.stop()
	r.drain()
	r.d.removeUnstarted()
}

// settle waits for the background makes and removals started so far.
func (r *ready) settle() { r.wg.Wait() }

// waiting lists the IDs of the containers made ahead that wait for a run.
func (r *ready) waiting() map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := map[string]bool{}
	for _, list := range r.spares {
		for _, s := range list {
			ids[s.sb.id] = true
		}
	}
	return ids
}
