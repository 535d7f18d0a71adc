package batch

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Snapshot is the batch's progress at one moment.
type Snapshot struct {
	// Instances is the batch's size; ToRun of them are run by this
	// invocation, Resumed were finished before (journal).
	Instances int
	ToRun     int
	Resumed   int
	// Done counts the instances of ToRun finished so far, failures included.
	Done int
	// Failed counts the failed instances, those that could not start included.
	Failed int
	// Runs and Cached count finished runs (cached: from the result cache).
	Runs   int
	Cached int
	Start  time.Time
}

// Left estimates the time until every instance to run is done, from the
// mean time per instance so far; ok is false before the first one is done.
func (s Snapshot) Left(now time.Time) (d time.Duration, ok bool) {
	if s.Done == 0 {
		return 0, false
	}
	per := now.Sub(s.Start) / time.Duration(s.Done)
	return per * time.Duration(s.ToRun-s.Done), true
}

// Display shows a batch's progress. Its methods are called one at a time
// and must not block for long: they run while the batch waits.
type Display interface {
	Start(s Snapshot)
	// Update reports new counts, with a line about what happened (an
	// instance finished or failed) or "" when only counts moved.
	Update(s Snapshot, line string)
	Finish(s Snapshot)
}

type noDisplay struct{}

func (noDisplay) Start(Snapshot)          {}
func (noDisplay) Update(Snapshot, string) {}
func (noDisplay) Finish(Snapshot)         {}

// Lines is a Display for logs and pipes: one plain line per finished
// instance, no control characters.
type Lines struct {
	W io.Writer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (l Lines) now() time.Time {
	if l.Now == nil {
		return time.Now()
	}
	return l.Now()
}

// Start writes what the batch is about to do.
func (l Lines) Start(s Snapshot) {
	fmt.Fprintf(l.W, "batch: %d instances: %d to run, %d finished before (journal), %d cannot run\n",
		s.Instances, s.ToRun, s.Resumed, s.Failed)
}

// Update writes a line when an instance finished; count-only updates are
// not written (they would flood a log).
func (l Lines) Update(s Snapshot, line string) {
	if line == "" {
		return
	}
	eta := "time left unknown"
	if d, ok := s.Left(l.now()); ok {
		eta = "about " + roundDuration(d).String() + " left"
	}
	fmt.Fprintf(l.W, "[%d/%d] %s · runs %d (%d cached) · failed %d · %s\n", s.Done, s.ToRun, line, s.Runs, s.Cached, s.Failed, eta)
}

// Finish writes the totals.
func (l Lines) Finish(s Snapshot) {
	fmt.Fprintf(l.W, "batch: %d of %d instances run in %s · runs %d (%d cached) · failed %d\n",
		s.Done, s.ToRun, roundDuration(l.now().Sub(s.Start)), s.Runs, s.Cached, s.Failed)
}

func roundDuration(d time.Duration) time.Duration {
	if d > time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

// Bar is a Display for terminals: a progress bar of instances done with
// the runs, failures and an estimate of the time left; lines about
// finished instances scroll above it.
type Bar struct {
	W io.Writer

	mu  sync.Mutex
	bar *progressbar.ProgressBar
}

// NewBar returns a Bar drawing on w, which should be a terminal.
func NewBar(w io.Writer) *Bar { return &Bar{W: w} }

func barDescription(s Snapshot) string {
	return fmt.Sprintf("runs %d (%d cached) · failed %d", s.Runs, s.Cached, s.Failed)
}

// Start draws the empty bar.
func (b *Bar) Start(s Snapshot) {
	b.mu.Lock()
	defer b.mu.Unlock()
	fmt.Fprintf(b.W, "batch: %d instances: %d to run, %d finished before (journal), %d cannot run\n",
		s.Instances, s.ToRun, s.Resumed, s.Failed)
	if s.ToRun == 0 {
		return
	}
	b.bar = progressbar.NewOptions(s.ToRun,
		progressbar.OptionSetWriter(b.W),
		progressbar.OptionSetDescription(barDescription(s)),
		progressbar.OptionSetItsString("instances"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(b.W) }),
	)
}

// Update redraws the bar; a line is printed above it.
func (b *Bar) Update(s Snapshot, line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar == nil {
		if line != "" {
			fmt.Fprintln(b.W, line)
		}
		return
	}
	if line != "" {
		progressbar.Bprintln(b.bar, line)
	}
	b.bar.Describe(barDescription(s))
	_ = b.bar.Set(s.Done)
}

// Finish leaves the bar as it is (full, or where an interruption stopped it).
func (b *Bar) Finish(s Snapshot) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar == nil || b.bar.IsFinished() {
		return
	}
	b.bar.Describe(barDescription(s))
	_ = b.bar.Exit()
	fmt.Fprintln(b.W)
}

// Write prints p above the bar, so that a logger can share the terminal
// with it; the text appears at the bar's next redraw.
func (b *Bar) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar == nil || b.bar.IsFinished() {
		return b.W.Write(p)
	}
	if _, err := progressbar.Bprintf(b.bar, "%s", p); err != nil {
		return 0, err
	}
	return len(p), nil
}
