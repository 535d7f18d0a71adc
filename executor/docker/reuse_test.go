package docker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/executortest"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// With Config.Reuse, runs of one environment share a container, one after
// another, and each starts from what docs/DOCKER.md ("Reused containers")
// says: the work tree reset (to the container's first commit, even after a
// run that commits), no process of an earlier run, /tmp empty. What a run
// writes elsewhere is seen by the next (the weaker isolation the docs
// state). Every run finds its tree reset already, by the keeper (BP_CLEAN:
// run.sh skips its own reset): when the container was made, and at the end
// of each run. A run that hits a limit retires its container.
func TestDockerReuse(t *testing.T) {
	// One container, none made ahead: which container serves a run is then
	// known.
	d := newTestDocker(t, Config{Reuse: true, Ahead: -1})
	needImages(t, d, shOnlyImage)
	env := executor.Environment{Image: shOnlyImage, Limits: executor.Limits{MemoryMB: 64}}
	// Each run reports what it found, then leaves the same things behind:
	// a commit, a changed and a new file in the repository, a process, a
	// file in /tmp and one in /root.
	check := `found() { [ "$1" = yes ] && echo PASSED || echo FAILED; }
tree=no; [ "$(git status --porcelain)" = "" ] && tree=yes
committed=no; [ -e committed.txt ] && committed=yes
clean=no; [ "${BP_CLEAN:-}" = 1 ] && clean=yes
echo committed >committed.txt; git add committed.txt && git -c user.name=bp -c user.email=bp@example.com commit -qm committed >/dev/null
n=9876; n=${n}1 # not in this script's own command line
proc=no; for c in /proc/[0-9]*/cmdline; do case "$(tr '\0' ' ' <"$c" 2>/dev/null)" in *"sleep $n"*) proc=yes ;; esac; done
tmp=no; [ -e /tmp/left ] && tmp=yes
home=no; [ -e /root/left ] && home=yes
echo changed >>lib.txt; echo new >new.txt; echo left >/tmp/left; echo left >/root/left
sleep "$n" >/dev/null 2>&1 &
echo "host=$(cat /etc/hostname)"
set -- "$(found $tree) t::tree_clean" "$(found $committed) t::commit_left" "$(found $clean) t::reset_ahead" "$(found $proc) t::process_left" "$(found $tmp) t::tmp_left" "$(found $home) t::home_left"; ` + pytestSummary
	first := runOK(t, d, executor.Run{Env: env, Command: check, Format: executor.Pytest})
	second := runOK(t, d, executor.Run{Env: env, Command: check, Format: executor.Pytest})
	if hostLine(t, first) != hostLine(t, second) {
		t.Errorf("the second run was in container %s, the first in %s: not reused", hostLine(t, second), hostLine(t, first))
	}
	tests := []struct {
		res  executor.Result
		want map[string]string
	}{
		{first, map[string]string{"t::tree_clean": "PASS", "t::commit_left": "FAIL", "t::reset_ahead": "PASS", "t::process_left": "FAIL", "t::tmp_left": "FAIL", "t::home_left": "FAIL"}},
		// The tree (the commit too), the processes and /tmp are reset,
		// the tree before the run; /root is not.
		{second, map[string]string{"t::tree_clean": "PASS", "t::commit_left": "FAIL", "t::reset_ahead": "PASS", "t::process_left": "FAIL", "t::tmp_left": "FAIL", "t::home_left": "PASS"}},
	}
	for i, tt := range tests {
		got := outcomes(tt.res.Cases)
		for id, want := range tt.want {
			if got[id] != want {
				t.Errorf("run %d: %s: %s, want %s\n%s", i, id, got[id], want, tt.res.Output)
			}
		}
	}

	// A memory hog is reported as such and its container is not used again.
	hog := runOK(t, d, executor.Run{Env: env, Command: "head -c 2000m /dev/zero | tail >/dev/null; echo host=$(cat /etc/hostname)", Format: executor.Pytest})
	if !hog.OutOfMemory() {
		t.Errorf("memory hog: %s %q, want killed at the memory limit\n%s", hog.Status, hog.Reason, hog.Output)
	}
	after := runOK(t, d, executor.Run{Env: env, Command: check, Format: executor.Pytest})
	if hostLine(t, after) == hostLine(t, hog) {
		t.Errorf("the run after the memory hog used its container %s", hostLine(t, hog))
	}
	if got := outcomes(after.Cases)["t::home_left"]; got != "FAIL" {
		t.Errorf("after the memory hog: t::home_left %s, want FAIL (a new container)\n%s", got, after.Output)
	}
}

// A run that leaves the repository so that git cannot reset it (a stale
// index lock) retires its container: the keeper's reset after it fails,
// and the next run, in another container, completes from a clean tree
// instead of failing for the earlier run.
func TestDockerReuseResetFails(t *testing.T) {
	d := newTestDocker(t, Config{Reuse: true, Ahead: -1})
	needImages(t, d, shOnlyImage)
	env := executor.Environment{Image: shOnlyImage}
	lock := runOK(t, d, executor.Run{Env: env, Format: executor.Pytest,
		Command: `touch .git/index.lock; echo "host=$(cat /etc/hostname)"; set -- "PASSED t::a"; ` + pytestSummary})
	after := runOK(t, d, executor.Run{Env: env, Format: executor.Pytest,
		Command: `echo "host=$(cat /etc/hostname)"; ok=FAILED; [ ! -e .git/index.lock ] && [ -z "$(git status --porcelain)" ] && ok=PASSED; set -- "$ok t::clean"; ` + pytestSummary})
	if after.Status != executor.Completed || outcomes(after.Cases)["t::clean"] != "PASS" {
		t.Fatalf("the run after a stale lock: %s (%s) %v, want completed from a clean tree\n%s", after.Status, after.Reason, outcomes(after.Cases), after.Output)
	}
	if hostLine(t, after) == hostLine(t, lock) {
		t.Errorf("the run after a stale lock used its container %s", hostLine(t, lock))
	}
}

// A reused container's run exits with the script's status, and the
// selector's result of a failing suite is the same as in a fresh container,
// to the byte of its output: lines that look like the keeper's marks and
// output without a final newline included.
func TestDockerReuseSameResults(t *testing.T) {
	fresh, reused := newTestDocker(t, Config{}), newTestDocker(t, Config{Reuse: true})
	needImages(t, fresh, shOnlyImage)
	run := executor.Run{Env: executor.Environment{Image: shOnlyImage}, Format: executor.Pytest,
		Command: `echo bestpatch:run-start:00; echo bestpatch:run-end:00:0:0; echo bestpatch:run-end:00:0:0 >&2; set -- "PASSED t::a" "FAILED t::b"; ` + pytestSummary + `; printf 'no newline'; exit 1`}
	want := runOK(t, fresh, run)
	for i := range 2 {
		got := runOK(t, reused, run)
		if got.Status != want.Status || got.Reason != want.Reason || len(got.Cases) != len(want.Cases) {
			t.Errorf("reused run %d: %s %q %v; fresh: %s %q %v", i, got.Status, got.Reason, outcomes(got.Cases), want.Status, want.Reason, outcomes(want.Cases))
		}
		if got.Output != want.Output {
			t.Errorf("reused run %d output:\n%q\nfresh:\n%q", i, got.Output, want.Output)
		}
	}
}

// Reused containers are made ahead as fresh ones are (Config.Ahead): after
// an environment's first run, Ahead more of them wait, so that two runs at
// once make none, nor does the run after one whose container was retired
// (here: a memory hog's); with Ahead negative, only the runs make
// containers.
func TestDockerReuseAhead(t *testing.T) {
	var mu sync.Mutex
	var timings []RunTiming
	observe := func(rt RunTiming) {
		mu.Lock()
		timings = append(timings, rt)
		mu.Unlock()
	}
	env := executor.Environment{Image: shOnlyImage, Limits: executor.Limits{MemoryMB: 64}}
	run := executor.Run{Env: env, Format: executor.Pytest, Command: `echo "host=$(cat /etc/hostname)"; set -- "PASSED t::a"; ` + pytestSummary}
	alive := func(d *Executor) int {
		n := 0
		for _, c := range ownedContainers(t, d) {
			if c.State == "running" {
				n++
			}
		}
		return n
	}

	t.Run("made ahead", func(t *testing.T) {
		d := newTestDocker(t, Config{Reuse: true, Observe: observe})
		needImages(t, d, shOnlyImage)
		runOK(t, d, run)
		d.Settle()
		if n := alive(d); n != 1+DefaultAhead {
			t.Fatalf("%d reused containers after the first run, want %d (its own and %d made ahead)", n, 1+DefaultAhead, DefaultAhead)
		}
		mu.Lock()
		timings = nil
		mu.Unlock()
		var wg sync.WaitGroup
		hosts := make([]string, 2)
		for i := range hosts {
			wg.Go(func() { hosts[i] = hostLine(t, runOK(t, d, run)) })
		}
		wg.Wait()
		if hosts[0] == hosts[1] {
			t.Errorf("two runs at once in one container %s", hosts[0])
		}
		mu.Lock()
		for _, tm := range timings {
			if !tm.Reused || tm.Create != 0 {
				t.Errorf("a run at once with another made its container (%+v): want both in containers made ahead", tm)
			}
		}
		mu.Unlock()
		hog := runOK(t, d, executor.Run{Env: env, Format: executor.Pytest, Command: `echo "host=$(cat /etc/hostname)"; head -c 2000m /dev/zero | tail >/dev/null`})
		if !hog.OutOfMemory() {
			t.Fatalf("memory hog: %s %q, want killed at the memory limit", hog.Status, hog.Reason)
		}
		d.Settle()
		mu.Lock()
		timings = nil
		mu.Unlock()
		if next := runOK(t, d, run); hostLine(t, next) == hostLine(t, hog) {
			t.Errorf("the run after the memory hog used its container %s", hostLine(t, hog))
		}
		mu.Lock()
		if len(timings) != 1 || timings[0].Create != 0 {
			t.Errorf("the run after a retired container made its own (%+v): want one made ahead", timings)
		}
		mu.Unlock()
	})
	t.Run("ahead off", func(t *testing.T) {
		d := newTestDocker(t, Config{Reuse: true, Ahead: -1})
		needImages(t, d, shOnlyImage)
		runOK(t, d, run)
		d.Settle()
		if n := alive(d); n != 1 {
			t.Errorf("%d reused containers after one run with Ahead -1, want 1", n)
		}
	})
}

// A reused container whose keeper is gone while it waits (here: killed from
// outside) is not given a run: the next run gets a new container, without
// a retry.
func TestDockerReuseKeeperGone(t *testing.T) {
	d := newTestDocker(t, Config{Reuse: true, Retries: -1})
	needImages(t, d, shOnlyImage)
	run := executor.Run{Env: executor.Environment{Image: shOnlyImage}, Format: executor.Pytest,
		Command: `echo "host=$(cat /etc/hostname)"; set -- "PASSED t::a"; ` + pytestSummary}
	first := runOK(t, d, run)
	d.Settle() // the containers made ahead are made: every one is killed
	for _, c := range ownedContainers(t, d) {
		if _, err := d.cli.ContainerKill(t.Context(), c.ID, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
			t.Fatalf("kill %s: %v", c.ID, err)
		}
	}
	second := runOK(t, d, run)
	if second.Status != executor.Completed {
		t.Fatalf("run after the keeper was killed: %s %q, want completed\n%s", second.Status, second.Reason, second.Output)
	}
	if hostLine(t, second) == hostLine(t, first) {
		t.Errorf("the run after the kill was in the killed container %s", hostLine(t, first))
	}
}

// A reused container whose run script hangs (git's fsmonitor hook, before
// run.sh arms the test timeout) is killed at the backstop and removed; the
// next run gets a new container.
func TestDockerReuseBackstop(t *testing.T) {
	// None made ahead: their keeper's first reset would hang in the same
	// hook, until Close removes them.
	d := newTestDocker(t, Config{Reuse: true, SetupGrace: 2 * time.Second, Ahead: -1})
	needImages(t, d, shOnlyImage)
	hang := runOK(t, d, executor.Run{
		Env:     executor.Environment{Image: shOnlyImage, Env: map[string]string{"GIT_CONFIG_PARAMETERS": "'core.fsmonitor'='sleep 98764; :'"}},
		Command: "true", Format: executor.Pytest, Timeout: time.Second,
	})
	if hang.Status != executor.TimedOut || !strings.Contains(hang.Reason, "run script itself hung") {
		t.Errorf("hung script: %s %q, want timed out at the backstop", hang.Status, hang.Reason)
	}
	if procs := executortest.MarkedProcesses(t, "sleep 98764"); len(procs) > 0 {
		t.Errorf("processes left after the backstop: %v", procs)
	}
	next := runOK(t, d, executor.Run{Env: executor.Environment{Image: shOnlyImage}, Format: executor.Pytest, Command: `set -- "PASSED t::a"; ` + pytestSummary})
	if next.Status != executor.Completed {
		t.Errorf("run after the backstop: %s %q, want completed", next.Status, next.Reason)
	}
}

// A run cancelled in a reused container is stopped there, in the
// background (its processes killed, the keeper's end marks read), and the
// container serves the next run: a run made ahead and dropped costs no new
// container, and its Run returns without waiting for the stop.
func TestDockerReuseCancel(t *testing.T) {
	d := newTestDocker(t, Config{Reuse: true, Ahead: -1}) // one container: the next run can only use it if it was kept
	needImages(t, d, shOnlyImage)
	// The same timeout for all: it is part of the container's environment.
	run := executor.Run{Env: executor.Environment{Image: shOnlyImage}, Format: executor.Pytest, Timeout: time.Hour,
		Command: `echo "host=$(cat /etc/hostname)"; set -- "PASSED t::a"; ` + pytestSummary}
	first := runOK(t, d, run)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if _, err := d.Run(ctx, executor.Run{Env: run.Env, Format: executor.Pytest, Command: "sleep 98765", Timeout: run.Timeout}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled run: %v, want context.DeadlineExceeded", err)
	}
	d.Settle() // the run is stopped in the background
	if procs := executortest.MarkedProcesses(t, "sleep 98765"); len(procs) > 0 {
		t.Errorf("processes left after the cancelled run: %v", procs)
	}
	next := runOK(t, d, run)
	if hostLine(t, next) != hostLine(t, first) {
		t.Errorf("the run after the cancelled one was in container %s, not %s: the container was not kept", hostLine(t, next), hostLine(t, first))
	}
}

// A run cancelled just as it ends on its own (a run made ahead and dropped,
// say) may have its end marks read before the kill that stops it has run:
// that kill must not reach the container's next run. The kill is slowed
// down here, as a busy engine would start it late.
func TestDockerReuseStopAfterEnd(t *testing.T) {
	d := newTestDocker(t, Config{Reuse: true, Ahead: -1})
	d.stopCommand = []string{"/bin/sh", "-c", "sleep 0.3; kill -9 -1"}
	needImages(t, d, shOnlyImage)
	run := executor.Run{Env: executor.Environment{Image: shOnlyImage}, Format: executor.Pytest,
		Command: `echo "host=$(cat /etc/hostname)"; sleep 1; set -- "PASSED t::a"; ` + pytestSummary}
	first := runOK(t, d, run)
	for i := range 3 {
		var k *worker
		d.reuse.mu.Lock()
		for _, list := range d.reuse.idle {
			k = list[0].v
		}
		d.reuse.mu.Unlock()
		if k == nil {
			t.Fatalf("round %d: no idle reused container", i)
		}
		// Both streams' end marks are in already: the run ended.
		outEnd, errEnd := make(chan runEnd, 1), make(chan runEnd, 1)
		outEnd <- runEnd{}
		errEnd <- runEnd{}
		if !d.stopRun(t.Context(), k, spec{config: &container.Config{}}, outEnd, errEnd) {
			t.Fatalf("round %d: the container of a run that had ended could not be stopped in place", i)
		}
		next := runOK(t, d, run)
		if next.Status != executor.Completed || outcomes(next.Cases)["t::a"] != "PASS" {
			t.Fatalf("round %d: the run after a stop: %s %q, want completed with t::a passing\n%s", i, next.Status, next.Reason, next.Output)
		}
		if hostLine(t, next) != hostLine(t, first) {
			t.Fatalf("round %d: the run after a stop was in container %s, not %s", i, hostLine(t, next), hostLine(t, first))
		}
	}
}

// What a run prints cannot break a reused container's framing: 100 MB of
// output (a long line, then a result), lines that look like the keeper's
// marks, and a process left writing after the run are all handled, and
// the container serves the next run with a clean result.
func TestDockerReuseOutputLimits(t *testing.T) {
	d := newTestDocker(t, Config{Reuse: true})
	needImages(t, d, shOnlyImage)
	env := executor.Environment{Image: shOnlyImage}
	for _, tc := range []struct {
		name, cmd string
		want      map[string]string
	}{
		{"a 100 MB line", "head -c 100000000 /dev/zero | tr '\\0' a; echo; " + executortest.Summary("PASSED t::after_the_long_line"),
			map[string]string{"t::after_the_long_line": "PASS"}},
		{"lookalike marks", "echo bestpatch:run-end:0:0:0 >&2; printf 'bestpatch:run-start:\\n' >&2; " + executortest.Summary("PASSED t::a"),
			map[string]string{"t::a": "PASS"}},
		{"a process left writing", "(while :; do echo late; done) & " + executortest.Summary("PASSED t::b"),
			map[string]string{"t::b": "PASS"}},
		{"after", executortest.Summary("PASSED t::c"), map[string]string{"t::c": "PASS"}},
	} {
		res := runOK(t, d, executor.Run{Env: env, Command: tc.cmd, Format: executor.Pytest})
		if res.Status != executor.Completed || fmt.Sprint(outcomes(res.Cases)) != fmt.Sprint(tc.want) {
			t.Errorf("%s: %s %q, cases %v, want completed with %v", tc.name, res.Status, res.Reason, outcomes(res.Cases), tc.want)
		}
		if n := len(res.Output); n > 2*executor.ExcerptHalf+200 {
			t.Errorf("%s: output excerpt of %d bytes", tc.name, n)
		}
	}
}

// hostLine is the host= line a run printed: its container's name.
func hostLine(t *testing.T, res executor.Result) string {
	t.Helper()
	for l := range strings.Lines(res.Output) {
		if h, ok := strings.CutPrefix(strings.TrimSpace(l), "host="); ok {
			return h
		}
	}
	t.Fatalf("no host= line in the output:\n%s", res.Output)
	return ""
}
