package docker

import (
	"github.com/bestpatch/bestpatch/executor/executortest"
	"sync"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor"
)

// pytestSummary prints a pytest short summary with one case per
// "STATUS id" argument: a test command in POSIX sh for the Pytest format.
const pytestSummary = `printf '%s\n' '==== short test summary info ====' "$@" '==== end ===='`

// A run after another gets a container made ahead, and it is a container
// of its own: nothing the earlier run left (a file in /tmp, a file in the
// repository, a process) is there.
func TestDockerMadeAhead(t *testing.T) {
	var mu sync.Mutex
	var timings []RunTiming
	d := newTestDocker(t, Config{Observe: func(rt RunTiming) {
		mu.Lock()
		timings = append(timings, rt)
		mu.Unlock()
	}})
	needImages(t, d, shOnlyImage)
	leave := `touch /tmp/bp-left untracked-left; (sleep 98760 &); set -- "PASSED t::left"; ` + pytestSummary
	check := `l=PASSED; [ -e /tmp/bp-left ] && l=FAILED
r=PASSED; [ -e untracked-left ] && r=FAILED
m=9876; m="sleep ${m}0" # not written out: this script's own command line holds it
p=PASSED; for f in /proc/[0-9]*/cmdline; do case "$(tr '\0' ' ' <"$f" 2>/dev/null)" in *"$m"*) p=FAILED ;; esac; done
set -- "$l t::tmp_clean" "$r t::repo_clean" "$p t::no_process"; ` + pytestSummary
	env := executor.Environment{Image: shOnlyImage}
	first := runOK(t, d, executor.Run{Env: env, Command: leave, Format: executor.Pytest})
	if first.Status != executor.Completed {
		t.Fatalf("first run: %s %s", first.Status, first.Reason)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for len(d.ready.waiting()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no container was made ahead within 2 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
	second := runOK(t, d, executor.Run{Env: env, Command: check, Format: executor.Pytest})
	for id, want := range map[string]string{"t::tmp_clean": "PASS", "t::repo_clean": "PASS", "t::no_process": "PASS"} {
		if got := outcomes(second.Cases)[id]; got != want {
			t.Errorf("%s: %s, want %s\n%s", id, got, want, second.Output)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(timings) != 2 || timings[0].Create == 0 || timings[1].Create != 0 {
		t.Errorf("timings %+v: want the first run's container made for it (Create > 0) and the second's made ahead (Create 0)", timings)
	}
	if procs := executortest.MarkedProcesses(t, "sleep 98760"); len(leftBehind(t, d)) > 0 || len(procs) > 0 {
		t.Errorf("left behind: processes %v", procs)
	}
}

// A container made ahead that no run takes is removed after the idle time;
// with Ahead negative, none is made.
func TestDockerReadyIdle(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ahead int
	}{{"idle removed", 0}, {"ahead off", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDocker(t, Config{Ahead: tc.ahead})
			needImages(t, d, shOnlyImage)
			// An hour while the containers are made: under load, making the
			// second can take longer than a short idle time, which would
			// remove the first before it is counted.
			d.ready.cfg.idle = time.Hour
			runOK(t, d, executor.Run{Env: executor.Environment{Image: shOnlyImage}, Command: `set -- "PASSED t::x"; ` + pytestSummary, Format: executor.Pytest})
			d.ready.settle()
			want := DefaultAhead
			if tc.ahead < 0 {
				want = 0
			}
			if n := len(d.ready.waiting()); n != want {
				t.Errorf("%d containers made ahead, want %d", n, want)
			}
			// Then their idle time runs out now: the expiry path itself removes them.
			d.ready.mu.Lock()
			for _, list := range d.ready.idle {
				for _, one := range list {
					one.timer.Reset(10 * time.Millisecond)
				}
			}
			d.ready.mu.Unlock()
			deadline := time.Now().Add(time.Minute)
			for len(ownedContainers(t, d)) > 0 {
				if time.Now().After(deadline) {
					t.Fatalf("containers left a minute after the run: %d", len(ownedContainers(t, d)))
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}
