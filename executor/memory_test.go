package executor

import "testing"

// Only an Infra result whose reason says out of memory is one; other
// infrastructure failures (the process limit among them) and results that
// merely mention memory are not.
func TestResultOutOfMemory(t *testing.T) {
	for _, tc := range []struct {
		res  Result
		want bool
	}{
		{Result{Status: Infra, Reason: OutOfMemoryReason + "a process was killed at the run's memory limit of 4096 MiB"}, true},
		{Result{Status: Infra, Reason: "process limit reached: forks failed 3 times"}, false},
		{Result{Status: Infra, Reason: "the run script stopped before the test command finished (killed, out of memory, or the sandbox died)"}, false},
		{Result{Status: Completed, Reason: OutOfMemoryReason + "in a test's own message"}, false},
		{Result{Status: TimedOut}, false},
	} {
		if got := tc.res.OutOfMemory(); got != tc.want {
			t.Errorf("%+v: OutOfMemory() = %v, want %v", tc.res, got, tc.want)
		}
	}
}
