package docker

import (
	"context"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"
)

// memoryReserveMB is engine memory no run may claim: the engine, the
// kernel and this daemon need some too.
const memoryReserveMB = 1024

// slots bound the containers running at once on one engine: the sum of the
// runs' CPU limits stays within the engine's CPUs, the sum of their memory
// limits within its memory, and, if set, their number within MaxRuns.
type slots struct {
	cpu, mem, runs *semaphore.Weighted
	cpuCap, memCap int64
	create         *rate.Limiter // nil: creations are not spaced out
}

// newSlots sizes the slots from the engine's resources (ncpu CPUs, memTotal
// bytes; zero when unknown) and an optional cap on the number of runs.
func newSlots(ncpu int, memTotal int64, maxRuns int, createGap time.Duration) *slots {
	s := &slots{}
	if ncpu > 0 {
		s.cpuCap = int64(ncpu) * 1000
		s.cpu = semaphore.NewWeighted(s.cpuCap)
	}
	if mb := memTotal>>20 - memoryReserveMB; mb > 0 {
		s.memCap = mb
		s.mem = semaphore.NewWeighted(mb)
	}
	if maxRuns > 0 {
		s.runs = semaphore.NewWeighted(int64(maxRuns))
	}
	if createGap > 0 {
		s.create = rate.NewLimiter(rate.Every(createGap), 1)
	}
	return s
}

// acquire waits until a run with limits lim fits, and returns the function
// that gives its share back. A run larger than the whole engine takes all
// of it rather than waiting forever.
func (s *slots) acquire(ctx context.Context, lim executor.Limits) (release func(), err error) {
	type held struct {
		sem *semaphore.Weighted
		n   int64
	}
	var got []held
	release = func() {
		for _, h := range got {
			h.sem.Release(h.n)
		}
	}
	take := func(sem *semaphore.Weighted, n, capacity int64) error {
		if sem == nil {
			return nil
		}
		n = max(1, min(n, capacity))
		if err := sem.Acquire(ctx, n); err != nil {
			return err
		}
		got = append(got, held{sem, n})
		return nil
	}
	// Always in the same order (runs, cpu, mem), so that two waiting runs
	// cannot each hold what the other needs.
	if err := take(s.runs, 1, 1<<62); err != nil {
		release()
		return nil, err
	}
	if err := take(s.cpu, int64(lim.CPUs*1000), s.cpuCap); err != nil {
		release()
		return nil, err
	}
	if err := take(s.mem, int64(lim.MemoryMB), s.memCap); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// pace waits for the next creation allowed by CreateGap.
func (s *slots) pace(ctx context.Context) error {
	if s.create == nil {
		return nil
	}
	return s.create.Wait(ctx)
}
