package bench

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/bestpatch/bestpatch/executor/docker"
)

// Timings collects where the Docker backend's runs spent their time: pass
// Observe as docker.Config.Observe.
type Timings struct {
	mu   sync.Mutex
	runs []docker.RunTiming
}

// Observe records one run's timing.
func (t *Timings) Observe(rt docker.RunTiming) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.runs = append(t.runs, rt)
}

// take returns the timings recorded since the last take.
func (t *Timings) take() []docker.RunTiming {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	runs := t.runs
	t.runs = nil
	return runs
}

// Steps is the mean time of each step of a set of runs (docker.RunTiming).
type Steps struct {
	Runs                             int
	Ready, Boot, Reset, Apply, Tests time.Duration
	Command, Exit, Collect, Total    time.Duration
	// MadeAhead counts the runs whose container was made ahead; Reused
	// the runs in a container that served an earlier one.
	MadeAhead, Reused int
}

func meanSteps(runs []docker.RunTiming) Steps {
	s := Steps{Runs: len(runs)}
	if len(runs) == 0 {
		return s
	}
	for _, r := range runs {
		s.Ready += r.Ready
		s.Boot += r.Boot
		s.Reset += r.Reset
		s.Apply += r.Apply
		s.Tests += r.Tests
		s.Command += r.Command
		s.Exit += r.Exit
		s.Collect += r.Collect
		s.Total += r.Total
		switch {
		case r.Reused:
			s.Reused++
		case r.Create == 0:
			s.MadeAhead++
		}
	}
	n := time.Duration(len(runs))
	for _, d := range []*time.Duration{&s.Ready, &s.Boot, &s.Reset, &s.Apply, &s.Tests, &s.Command, &s.Exit, &s.Collect, &s.Total} {
		*d /= n
	}
	return s
}

func (s Steps) String() string {
	if s.Runs == 0 {
		return "no timings"
	}
	var b strings.Builder
	r := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	fmt.Fprintf(&b, "ready %s, boot %s, reset %s, apply %s, tests %s, command %s, exit %s, collect %s; outside the command %s of %s",
		r(s.Ready), r(s.Boot), r(s.Reset), r(s.Apply), r(s.Tests), r(s.Command), r(s.Exit), r(s.Collect), r(s.Total-s.Command), r(s.Total))
	if s.Reused > 0 {
		fmt.Fprintf(&b, " (%d of %d runs in a container that served an earlier run)", s.Reused, s.Runs)
	} else {
		fmt.Fprintf(&b, " (%d of %d containers made ahead)", s.MadeAhead, s.Runs)
	}
	return b.String()
}
