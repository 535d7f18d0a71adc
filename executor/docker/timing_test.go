package docker

import (
	"sync"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor"
)

// With Observe set, a run's steps are the gaps between run.sh's step marks
// as they arrive: the test command's step holds its sleep, and the steps
// add up to no more than the run. A mark is timed when this process reads
// it, so a busy machine can move a step's end by some milliseconds: the
// bounds leave it half the sleep.
func TestDockerRunTiming(t *testing.T) {
	const sleep = time.Second
	for _, reuse := range []bool{false, true} {
		t.Run(map[bool]string{false: "fresh", true: "reused"}[reuse], func(t *testing.T) {
			var (
				mu   sync.Mutex
				seen []RunTiming
			)
			d := newTestDocker(t, Config{Reuse: reuse, Observe: func(tm RunTiming) {
				mu.Lock()
				defer mu.Unlock()
				seen = append(seen, tm)
			}})
			needImages(t, d, shOnlyImage)
			env := executor.Environment{Image: shOnlyImage, Limits: executor.Limits{MemoryMB: 64}}
			runOK(t, d, executor.Run{Env: env, Command: `sleep 1; set -- "PASSED t::slept"; ` + pytestSummary, Format: executor.Pytest})
			mu.Lock()
			defer mu.Unlock()
			if len(seen) != 1 {
				t.Fatalf("observed %d runs, want 1", len(seen))
			}
			tm := seen[0]
			steps := tm.Boot + tm.Reset + tm.Apply + tm.Tests + tm.Command + tm.Exit
			if tm.Command < sleep/2 || tm.Command > tm.Total || tm.Boot <= 0 || tm.Exit < 0 || steps > tm.Total {
				t.Errorf("steps %+v: want the command at least %s, every step in the run's %s (they add up to %s)", tm, sleep/2, tm.Total, steps)
			}
			for name, step := range map[string]time.Duration{"reset": tm.Reset, "apply": tm.Apply, "tests": tm.Tests} {
				if step < 0 || step >= sleep/2 {
					t.Errorf("step %s took %s: want between 0 and half the command's sleep", name, step)
				}
			}
		})
	}
}
