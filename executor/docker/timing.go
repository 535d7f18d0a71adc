package docker

import (
	"time"
)

// RunTiming is where the time of one Docker run went, for measurements
// (Config.Observe). Each field is one step on the run's critical
// path, in order; a step a run did not reach is zero. The script's steps
// are the gaps between its step marks as they arrive on its stderr, so Boot
// is the time from the start request to the script's first mark.
type RunTiming struct {
	Image string
	// Slot is the wait for a concurrency slot; Ready the wait for a
	// container (near zero when one was made ahead).
	Slot, Ready time.Duration
	// Create and Start are the engine calls that made the container, when
	// it was made for this run (zero for one made ahead).
	Create, Start time.Duration
	// Boot is the time from sending the run's stage to run.sh's first line
	// (the stage written in the container); Send the time until the stage
	// was written to the container's stdin.
	Boot, Send time.Duration
	// Reset, Apply and Tests are run.sh's steps: the first git reset and
	// clean, the candidate's application (with its vetting against links and
	// the change check), and the test patches.
	Reset, Apply, Tests time.Duration
	// Command is the test command; Exit the time from its end to the
	// engine's report that the container exited (the cgroup read, the
	// container's teardown).
	Command, Exit time.Duration
	// Collect is the inspection and the JUnit report's copy.
	Collect time.Duration
	// Total is the run's whole duration (Result.Duration).
	Total time.Duration
	// Reused: the run was an exec in a container that served an earlier
	// run (Config.Reuse).
	Reused bool
}

// Overhead is the run's time outside the test command.
func (t RunTiming) Overhead() time.Duration { return t.Total - t.Command }

// scriptSteps fills the script's steps from its stamps (when the end mark
// of each step arrived), given when the run was sent and when the engine
// reported the exit.
func (t *RunTiming) scriptSteps(stamps map[string]time.Time, started, exited time.Time) {
	prev, ok := stamps["begin"]
	if !ok {
		return
	}
	t.Boot = prev.Sub(started)
	for _, s := range []struct {
		name string
		d    *time.Duration
	}{{"reset", &t.Reset}, {"apply", &t.Apply}, {"command", &t.Tests}, {"end", &t.Command}} {
		next, ok := stamps[s.name]
		if !ok {
			return
		}
		*s.d = next.Sub(prev)
		prev = next
	}
	t.Exit = exited.Sub(prev)
}
