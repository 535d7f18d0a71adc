package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/bestpatch/bestpatch/executor/executortest"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor"
)

const (
	localHelperEnv = "BESTPATCH_LOCAL_HELPER"     // what the helper does: "hang" or "hog"
	localTempEnv   = "BESTPATCH_LOCAL_HELPER_TMP" // its Local's TempDir
	localCgroupEnv = "BESTPATCH_LOCAL_HELPER_CG"  // the memory cgroup it moves into first
)

// TestLocalHelper is the process the Local tests below run apart: "hang"
// starts a run that never ends (TestLocalSweep kills the process); "hog"
// moves itself into a memory cgroup and runs a memory hog (TestLocalOOM),
// "hog-shared" does the same with a Local that cannot make run cgroups, and
// "beside" runs a hog of its own, outside any run, while a run waits for it
// to be killed; the last three print the result as JSON.
func TestLocalHelper(t *testing.T) {
	mode := os.Getenv(localHelperEnv)
	if mode == "" {
		t.Skip("the helper process of TestLocalSweep and TestLocalOOM; runs only when re-executed by them")
	}
	if cg := os.Getenv(localCgroupEnv); cg != "" {
		if err := os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l := New(Config{Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)), TempDir: os.Getenv(localTempEnv)})
	defer l.Close()
	if mode == "hog-shared" {
		l.cgroups = runCgroups{} // as where none can be made
	}
	repo := executortest.GitRepo(t, map[string]string{"a.txt": "a\n"})
	// tail keeps the whole "line" of /dev/zero: it grows until killed.
	const hog = "head -c 4000m /dev/zero | tail >/dev/null"
	killed := filepath.Join(t.TempDir(), "killed")
	cmd := map[string]string{
		"hang":       "exec -a bestpatch-sweep-98758 sleep 98758",
		"hog":        hog + "; " + executortest.Summary("PASSED t::survived"),
		"hog-shared": hog + "; " + executortest.Summary("PASSED t::survived"),
		"beside":     fmt.Sprintf("while [ ! -e %s ]; do sleep 0.05; done; %s", killed, executortest.Summary("PASSED t::survived")),
	}[mode]
	if mode == "beside" {
		go func() {
			// The run waits for this hog's end: its OOM kill happens while
			// the run is on, in the cgroup of the process that runs it.
			err := exec.Command("sh", "-c", hog).Run()
			fmt.Fprintf(os.Stderr, "the hog beside the run ended: %v\n", err)
			_ = os.WriteFile(killed, nil, 0o644)
		}()
	}
	res, err := l.Run(t.Context(), executor.Run{Env: executor.Environment{Repo: repo}, Command: cmd, Format: executor.Pytest, Timeout: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
}

// A process killed with kill -9 in the middle of a run leaves its scratch
// directory; the next Local in the same temp dir removes it, and nothing
// else.
func TestLocalSweep(t *testing.T) {
	tmp := t.TempDir()
	host, _ := os.Hostname()
	me := os.Getpid()
	decoys := []string{
		fmt.Sprintf("%s%d-%s-%s-1", scratchPrefix, me, executor.ProcessStart(me), host), // a live owner: this process
		fmt.Sprintf("%s%d--%s-2", scratchPrefix, executortest.DeadPID(t), "another-host.example"),
		scratchPrefix + "not-an-owner",
		"bestpatch-clone-123", // not a Local's scratch directory
	}
	for _, d := range decoys {
		if err := os.Mkdir(filepath.Join(tmp, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}

	helper := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestLocalHelper$", "-test.count=1")
	helper.Env = append(os.Environ(), localHelperEnv+"=hang", localTempEnv+"="+tmp)
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait for the run's command: then its clone and inputs exist.
	var sleeper []string
	for sleeper == nil && t.Context().Err() == nil {
		time.Sleep(50 * time.Millisecond)
		for _, p := range executortest.MarkedProcesses(t, "bestpatch-sweep-98758") {
			if _, cmdline, _ := strings.Cut(p, ": "); strings.HasPrefix(cmdline, "bestpatch-sweep-98758") {
				sleeper = append(sleeper, p)
			}
		}
	}
	orphans, _ := filepath.Glob(filepath.Join(tmp, fmt.Sprintf("%s%d-*", scratchPrefix, helper.Process.Pid)))
	if err := helper.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = helper.Wait()
	// The run's processes outlive a kill -9 of their daemon until the run's
	// timeout (docs/DOCKER.md, threat model); end this test's now.
	for _, p := range sleeper {
		pid, _ := strconv.Atoi(p[:strings.IndexByte(p, ':')])
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if len(orphans) != 1 {
		t.Fatalf("the killed helper left %v, want its one scratch directory", orphans)
	}
	if runs, _ := filepath.Glob(filepath.Join(orphans[0], "clone-*")); len(runs) != 1 {
		t.Fatalf("the helper's scratch directory holds clones %v, want the one of its run", runs)
	}

	l := New(Config{Logger: slog.New(slog.NewTextHandler(t.Output(), nil)), TempDir: tmp})
	defer l.Close()
	repo := executortest.GitRepo(t, map[string]string{"a.txt": "a\n"})
	if res, err := l.Run(t.Context(), executor.Run{Env: executor.Environment{Repo: repo}, Command: executortest.Summary("PASSED t::a"), Format: executor.Pytest}); err != nil || res.Status != executor.Completed {
		t.Fatalf("run: %v %s %s", err, res.Status, res.Reason)
	}
	if _, err := os.Stat(orphans[0]); !os.IsNotExist(err) {
		t.Errorf("the killed helper's scratch directory %s survived the sweep: %v", orphans[0], err)
	}
	for _, d := range decoys {
		if _, err := os.Stat(filepath.Join(tmp, d)); err != nil {
			t.Errorf("the sweep touched %s, which it must leave alone: %v", d, err)
		}
	}
}

func TestParseScratchName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want executor.Owner
		ok   bool
	}{
		{scratchPrefix + "42-123456-vm-01.example-987", executor.Owner{Host: "vm-01.example", PID: 42, Start: "123456"}, true},
		{scratchPrefix + "42--host-987", executor.Owner{Host: "host", PID: 42}, true},
		{scratchPrefix + "0-1-host-2", executor.Owner{}, false},
		{scratchPrefix + "x-1-host-2", executor.Owner{}, false},
		{scratchPrefix + "42-1-host", executor.Owner{}, false},
		{"bestpatch-run-42-1-host-2", executor.Owner{}, false},
	} {
		got, ok := parseScratchName(tc.name)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseScratchName(%q) = %+v %v, want %+v %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// A run whose tests the kernel kills for memory is infra on Local, as it is
// on Docker; a kill of anything else is not the run's. The helper runs in a
// memory cgroup of its own, limited to 256 MiB (cgroup v1, as root), so that
// the OOM killer stays inside it; its Local makes each run's cgroup in it.
func TestLocalOOM(t *testing.T) {
	self, err1 := os.ReadFile("/proc/self/cgroup")
	mounts, err2 := os.ReadFile("/proc/self/mountinfo")
	if err := errors.Join(err1, err2); err != nil {
		t.Skipf("no /proc: %v", err)
	}
	parent, v2, err := memoryCgroupDir(string(self), string(mounts))
	if err != nil || v2 {
		t.Skipf("needs a cgroup v1 memory hierarchy (found v2 %v, err %v)", v2, err)
	}
	cg := filepath.Join(parent, fmt.Sprintf("bestpatch-oom-test-%d", os.Getpid()))
	if os.Mkdir(cg, 0o755) != nil {
		t.Skip("needs a writable cgroup v1 memory hierarchy (run as root on a host with one) to make a memory cgroup for the test")
	}
	defer func() {
		for range 50 { // the cgroup empties once its processes are reaped
			if os.Remove(cg) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("cannot remove the test's memory cgroup %s", cg)
	}()
	for _, f := range []string{"memory.limit_in_bytes", "memory.memsw.limit_in_bytes"} {
		if err := os.WriteFile(filepath.Join(cg, f), []byte("268435456"), 0o644); err != nil && f == "memory.limit_in_bytes" {
			t.Fatal(err)
		}
	}

	for _, tc := range []struct {
		mode   string
		status executor.Status
		reason string
		shared bool // the kill is counted in the helper's cgroup, not a run's
	}{
		{"hog", executor.Infra, "out of memory: the kernel's OOM killer killed 1 process(es) of the run", false},
		// Without a cgroup of its own, a kill cannot be told from a crash:
		// the run is what its output says (docs/DOCKER.md, threat model).
		{"hog-shared", executor.Completed, "", true},
		{"beside", executor.Completed, "", true},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			before := oomKillsOf(t, cg)
			helper := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestLocalHelper$", "-test.count=1")
			helper.Env = append(os.Environ(), localHelperEnv+"="+tc.mode, localTempEnv+"="+t.TempDir(), localCgroupEnv+"="+cg)
			helper.Stderr = t.Output()
			out, err := helper.Output()
			if err != nil {
				t.Fatalf("helper: %v\n%s", err, out)
			}
			var res executor.Result
			line, _, _ := strings.Cut(string(out), "\n")
			if err := json.Unmarshal([]byte(line), &res); err != nil {
				t.Fatalf("helper output %q: %v", out, err)
			}
			if res.Status != tc.status || !strings.Contains(res.Reason, tc.reason) {
				t.Errorf("status %s reason %q, want %s saying %q", res.Status, res.Reason, tc.status, tc.reason)
			}
			if res.OutOfMemory() != (tc.mode == "hog") {
				t.Errorf("OutOfMemory() = %v for %s (status %s, reason %q)", res.OutOfMemory(), tc.mode, res.Status, res.Reason)
			}
			if len(res.Cases) != 1 {
				t.Errorf("cases %v: the command went on after the kill and printed its summary, which the result keeps", res.Cases)
			}
			// On cgroup v1 a kill counts in the victim's own cgroup only.
			if n := oomKillsOf(t, cg) - before; tc.shared && n != 1 {
				t.Errorf("the helper's cgroup counts %d OOM kills, want 1: the hog beside the run was not killed, the test proves nothing", n)
			}
		})
	}
}

// oomKillsOf reads the oom_kill count of a cgroup v1 memory cgroup.
func oomKillsOf(t *testing.T, dir string) int64 {
	t.Helper()
	n, err := (&runCgroup{dir: dir}).oomKills()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Where run cgroups can be made, a run's processes are in one of their own,
// which is removed with whatever it held, processes that left the run's
// session included.
func TestLocalRunCgroup(t *testing.T) {
	l, _ := newTestLocal(t)
	if l.cgroups.parent == "" {
		t.Skip("this process cannot make memory cgroups (needs root on cgroup v1, or a delegated cgroup v2)")
	}
	repo := executortest.GitRepo(t, map[string]string{"a.txt": "a\n"})
	marker := fmt.Sprintf("bestpatch-escapee-%d", time.Now().UnixNano())
	cmd := fmt.Sprintf(`grep -E '(memory|^0:):' /proc/self/cgroup; setsid sh -c 'exec -a %s sleep 1000' </dev/null >/dev/null 2>&1 & %s`, marker, executortest.Summary("PASSED t::a"))
	res, err := l.Run(t.Context(), executor.Run{Env: executor.Environment{Repo: repo}, Command: cmd, Format: executor.Pytest})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != executor.Completed || len(res.Cases) != 1 {
		t.Errorf("status %q reason %q cases %v, want completed with t::a", res.Status, res.Reason, res.Cases)
	}
	if !strings.Contains(res.Output, "/"+l.cgroups.prefix) {
		t.Errorf("the run's process is not in a run cgroup (%s*): %s", l.cgroups.prefix, res.Output)
	}
	if left := executortest.MarkedProcesses(t, marker); len(left) > 0 {
		t.Errorf("a process that left the run's session survived its cgroup: %v", left)
	}
	if left, _ := filepath.Glob(filepath.Join(l.cgroups.parent, l.cgroups.prefix+"*")); len(left) > 0 {
		t.Errorf("run cgroups left behind: %v", left)
	}
}
