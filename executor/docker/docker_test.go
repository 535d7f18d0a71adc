package docker

import (
	"context"
	"errors"
	"fmt"
	"github.com/bestpatch/bestpatch/executor/executortest"
	"io"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/versions"
)

// A Go task in the SWE-bench style on the real google/uuid module: the
// hidden test asks for a function the repository lacks (FAIL_TO_PASS), and
// the module's own tests must keep passing (PASS_TO_PASS).
var (
	uuidHiddenTest = executor.TestPatch{ID: "is-zero", Patch: executortest.NewFilePatch("zero_bp_test.go", `package uuid

import "testing"

func TestIsZero(t *testing.T) {
	if !IsZero(Nil) {
		t.Error("IsZero(Nil) = false")
	}
	if IsZero(Must(Parse("f47ac10b-58cc-0372-8567-0e02b2c3d479"))) {
		t.Error("IsZero(a non-nil UUID) = true")
	}
}`)}
	uuidCorrect = executortest.NewFilePatch("zero.go", "package uuid\n\n// IsZero reports whether u is the Nil UUID.\nfunc IsZero(u UUID) bool { return u == Nil }")
	uuidWrong   = executortest.NewFilePatch("zero.go", "package uuid\n\n// IsZero reports whether u is the Nil UUID.\nfunc IsZero(u UUID) bool { return true }")
	// The probe of issue 12: the wrong fix, plus a test file that turns every
	// test into a no-op, hidden from git by a .gitignore it adds.
	uuidSilenced = uuidWrong + executortest.NewFilePatch(".gitignore", "zz_test.go") +
		executortest.NewFilePatch("zz_test.go", "package uuid\n\nimport (\n\t\"os\"\n\t\"testing\"\n)\n\nfunc TestMain(m *testing.M) { os.Exit(0) }")
)

func TestDockerGoCandidates(t *testing.T) {
	d := newTestDocker(t, Config{})
	needImages(t, d, goImage)
	const hidden = goModule + "::TestIsZero"
	const kept = goModule + "::TestNew" // one of the module's own tests
	// The tree each candidate left: none for the base; the tampering twin's
	// test file is stripped but its .gitignore line stays, so it leaves a
	// tree of its own.
	trees, tree := map[string]string{}, ""
	defer func() {
		w, s, c := trees["wrong"], trees["wrong, tests silenced behind .gitignore"], trees["correct"]
		if trees["base"] != "" || w == "" || c == "" || s == "" || w == s || w == c {
			t.Errorf("trees: base %q, correct %q, wrong %q, its tampering twin %q; want none for the base and three different ones", trees["base"], c, w, s)
		}
	}()
	for _, tc := range []struct {
		name       string
		patch      string
		wantHidden string // "" when the package does not build
		wantBroken bool
		restored   []string
	}{
		{name: "base", patch: "", wantBroken: true},
		{name: "correct", patch: uuidCorrect, wantHidden: "PASS"},
		{name: "wrong", patch: uuidWrong, wantHidden: "FAIL"},
		{name: "wrong, tests silenced behind .gitignore", patch: uuidSilenced, wantHidden: "FAIL", restored: []string{"zz_test.go"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() { trees[tc.name] = tree }()
			res := runOK(t, d, executor.Run{
				Env:       executor.Environment{Image: goImage},
				Patch:     tc.patch,
				Tests:     []executor.TestPatch{uuidHiddenTest},
				TestFiles: []string{"*_test.go"},
				Command:   "go test -json ./...",
				Format:    executor.GoJSON,
				Timeout:   5 * time.Minute,
			})
			tree = res.Tree
			if !slices.Equal(res.Restored, tc.restored) {
				t.Errorf("restored %q, want %q", res.Restored, tc.restored)
			}
			if res.Status != executor.Completed {
				t.Fatalf("status %s (%s), want completed\n%s", res.Status, res.Reason, res.Output)
			}
			if !res.TestsApplied["is-zero"] {
				t.Errorf("the hidden test did not apply: %v", res.TestsApplied)
			}
			if tc.patch != "" && res.Applied != "git apply" {
				t.Errorf("applied by %q, want git apply", res.Applied)
			}
			got := outcomes(res.Cases)
			if tc.wantBroken {
				if len(res.Broken) != 1 || res.Broken[0] != goModule {
					t.Errorf("broken %v, want [%s]", res.Broken, goModule)
				}
				return
			}
			if got[hidden] != tc.wantHidden {
				t.Errorf("%s: %s, want %s", hidden, got[hidden], tc.wantHidden)
			}
			if got[kept] != "PASS" {
				t.Errorf("%s: %q, want PASS (%d cases)", kept, got[kept], len(res.Cases))
			}
		})
	}
}

// The SWE-bench way on a Python repository: candidates applied to sympy at
// /testbed and sympy's own pytest tests run next to the hidden test.
func TestDockerSympyCandidates(t *testing.T) {
	d := newTestDocker(t, Config{})
	needImages(t, d, sympyImage)
	hiddenTest := executor.TestPatch{ID: "double", Patch: executortest.NewFilePatch("sympy/core/tests/test_bp_double.py", `from sympy import Integer, Symbol
from sympy.bp_double import double


def test_double_integer():
    assert double(Integer(2)) == 4


def test_double_symbol():
    x = Symbol('x')
    assert double(x) == 2*x`)}
	const (
		hiddenInt = "sympy/core/tests/test_bp_double.py::test_double_integer"
		hiddenSym = "sympy/core/tests/test_bp_double.py::test_double_symbol"
		kept      = "sympy/core/tests/test_basic.py::test_subs" // one of sympy's own tests
	)
	for _, tc := range []struct {
		name             string
		patch            string
		wantInt, wantSym string
	}{
		{name: "correct", patch: executortest.NewFilePatch("sympy/bp_double.py", "def double(e):\n    return 2*e"), wantInt: "PASS", wantSym: "PASS"},
		{name: "wrong", patch: executortest.NewFilePatch("sympy/bp_double.py", "def double(e):\n    return e*e"), wantInt: "PASS", wantSym: "FAIL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runOK(t, d, executor.Run{
				Env:       executor.Environment{Image: sympyImage},
				Patch:     tc.patch,
				Tests:     []executor.TestPatch{hiddenTest},
				TestFiles: []string{"sympy/*/tests/*"},
				Command:   "python3 -m pytest -rA -p no:cacheprovider sympy/core/tests/test_basic.py sympy/core/tests/test_bp_double.py",
				Format:    executor.Pytest,
				Timeout:   5 * time.Minute,
			})
			if res.Status != executor.Completed {
				t.Fatalf("status %s (%s), want completed\n%s", res.Status, res.Reason, res.Output)
			}
			got := outcomes(res.Cases)
			if got[hiddenInt] != tc.wantInt || got[hiddenSym] != tc.wantSym || got[kept] != "PASS" {
				t.Errorf("outcomes %s=%s %s=%s %s=%s, want %s %s PASS", hiddenInt, got[hiddenInt], hiddenSym, got[hiddenSym], kept, got[kept], tc.wantInt, tc.wantSym)
			}
		})
	}
}

// The pytest JUnit report is written inside the container and read back.
func TestDockerJUnitReport(t *testing.T) {
	d := newTestDocker(t, Config{})
	needImages(t, d, sympyImage)
	res := runOK(t, d, executor.Run{
		Env:     executor.Environment{Image: sympyImage, User: "nobody"},
		Command: "python3 -m pytest -q -p no:cacheprovider --junitxml=report.xml sympy/core/tests/test_basic.py",
		Format:  executor.JUnit,
		Report:  "report.xml",
		Timeout: 5 * time.Minute,
	})
	if res.Status != executor.Completed || len(res.Cases) < 10 {
		t.Fatalf("status %s (%s) with %d cases, want completed with sympy's test_basic cases", res.Status, res.Reason, len(res.Cases))
	}
	for _, c := range res.Cases {
		if c.Outcome.String() != "PASS" {
			t.Errorf("%s: %s, want PASS", c.ID, c.Outcome)
		}
	}
}

// The environment's options reach the tests, and the sandbox holds whoever
// the user is: no capabilities, no new privileges, no network.
func TestDockerEnvironmentAndSandbox(t *testing.T) {
	d := newTestDocker(t, Config{})
	needImages(t, d, sympyImage)
	probe := executor.TestPatch{ID: "probe", Patch: executortest.NewFilePatch("test_bp_probe.py", `import os
import socket


def test_environment():
    assert os.environ["BP_ACTIVATED"] == "yes"
    assert os.environ["BP_EXTRA"] == "two words"
    assert os.getcwd() == "/testbed"
    assert str(os.getuid()) == os.environ["WANT_UID"]


def test_no_capabilities():
    status = open("/proc/self/status").read()
    assert "CapEff:\t0000000000000000" in status
    assert "CapBnd:\t0000000000000000" in status
    assert "NoNewPrivs:\t1" in status


def test_network_ip():
    socket.create_connection(("1.1.1.1", 53), timeout=5).close()


def test_network_dns():
    socket.getaddrinfo("deb.debian.org", 80)`)}
	for _, tc := range []struct{ user, uid string }{{"", "0"}, {"nobody", "65534"}} {
		t.Run("user="+tc.user, func(t *testing.T) {
			res := runOK(t, d, executor.Run{
				Env: executor.Environment{
					Image:    sympyImage,
					User:     tc.user,
					Activate: "export BP_ACTIVATED=yes",
					Env:      map[string]string{"BP_EXTRA": "two words", "WANT_UID": tc.uid},
				},
				Tests:   []executor.TestPatch{probe},
				Command: "python3 -m pytest -rA -p no:cacheprovider test_bp_probe.py",
				Format:  executor.Pytest,
				Timeout: 5 * time.Minute,
			})
			want := map[string]string{
				"test_bp_probe.py::test_environment":     "PASS",
				"test_bp_probe.py::test_no_capabilities": "PASS",
				"test_bp_probe.py::test_network_ip":      "FAIL",
				"test_bp_probe.py::test_network_dns":     "FAIL",
			}
			got := outcomes(res.Cases)
			for id, w := range want {
				if got[id] != w {
					t.Errorf("%s: %q, want %s", id, got[id], w)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", res.Output)
			}
		})
	}
}

// Runs that the limits stop: each is contained, reported for what it is,
// and leaves no container and no process behind.
func TestDockerLimits(t *testing.T) {
	d := newTestDocker(t, Config{})
	needImages(t, d, goImage)
	for _, tc := range []struct {
		name       string
		limits     executor.Limits
		env        map[string]string
		command    string
		timeout    time.Duration
		marker     string // a process that must not survive the run
		wantStatus executor.Status
		wantReason string
	}{
		{
			name: "sleeps forever", command: "sleep 98765", timeout: 2 * time.Second, marker: "sleep 98765",
			wantStatus: executor.TimedOut, wantReason: "timeout",
		},
		{
			name: "fork bomb", limits: executor.Limits{PIDs: 64}, command: "bomb() { bomb | bomb & }; bomb; sleep 98764", timeout: 30 * time.Second,
			marker: "sleep 98764", wantStatus: executor.Infra, wantReason: "process limit",
		},
		{
			name: "memory hog", limits: executor.Limits{MemoryMB: 64}, command: "head -c 2000m /dev/zero | tail >/dev/null; sleep 1 # 98763", timeout: time.Minute,
			marker: "98763", wantStatus: executor.Infra, wantReason: "out of memory",
		},
		{
			// git runs an fsmonitor hook on reset: the container hangs in
			// run.sh's first git reset, before its timeout is armed, so only
			// the Go side can stop it.
			name: "script hangs", env: map[string]string{"GIT_CONFIG_PARAMETERS": "'core.fsmonitor'='sleep 98762; :'"}, command: "true", timeout: time.Second,
			marker: "sleep 98762", wantStatus: executor.TimedOut, wantReason: "run script itself hung",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dd := d
			if tc.name == "script hangs" {
				dd = newTestDocker(t, Config{SetupGrace: 2 * time.Second})
			}
			res := runOK(t, dd, executor.Run{
				Env:     executor.Environment{Image: goImage, Limits: tc.limits, Env: tc.env},
				Command: tc.command,
				Format:  executor.GoJSON,
				Timeout: tc.timeout,
			})
			if res.Status != tc.wantStatus || !strings.Contains(res.Reason, tc.wantReason) {
				t.Errorf("status %s (%s), want %s with %q", res.Status, res.Reason, tc.wantStatus, tc.wantReason)
			}
			if oom := tc.wantReason == "out of memory"; res.OutOfMemory() != oom {
				t.Errorf("OutOfMemory() = %v, want %v (status %s, reason %q)", res.OutOfMemory(), oom, res.Status, res.Reason)
			}
			if left := leftBehind(t, dd); len(left) > 0 {
				t.Errorf("containers left after the run: %d", len(left))
			}
			if procs := executortest.MarkedProcesses(t, tc.marker); len(procs) > 0 {
				t.Errorf("processes left after the run: %v", procs)
			}
		})
	}
}

// Cancelling the context stops the run at once and removes its container.
func TestDockerCancel(t *testing.T) {
	d := newTestDocker(t, Config{})
	needImages(t, d, goImage)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		// Cancel once the container runs.
		for ctx.Err() == nil {
			for _, c := range ownedContainers(t, d) {
				if c.State == container.StateRunning {
					cancel()
					return
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	_, err := d.Run(ctx, executor.Run{Env: executor.Environment{Image: goImage}, Command: "sleep 98761", Format: executor.GoJSON, Timeout: time.Hour})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel: %v, want context.Canceled", err)
	}
	if left := leftBehind(t, d); len(left) > 0 {
		t.Errorf("containers left after cancel: %v", left[0].Names)
	}
	if procs := executortest.MarkedProcesses(t, "sleep 98761"); len(procs) > 0 {
		t.Errorf("processes left after cancel: %v", procs)
	}
}

func TestDockerMissingImage(t *testing.T) {
	d := newTestDocker(t, Config{})
	res := runOK(t, d, executor.Run{Env: executor.Environment{Image: "bestpatch/no-such-image:never"}, Command: "true", Format: executor.GoJSON})
	if res.Status != executor.Infra {
		t.Fatalf("status %s, want infra", res.Status)
	}
	for _, want := range []string{"bestpatch/no-such-image:never", "not on the Docker engine", "testdata/images/build.sh", "docker load", "never pulls"} {
		if !strings.Contains(res.Reason, want) {
			t.Errorf("reason %q does not say %q", res.Reason, want)
		}
	}
}

// DOCKER_HOST naming a socket nobody listens on: New says so and
// what to do.
func TestDockerDeadSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close() // the socket file stays; nothing answers on it
	t.Setenv("DOCKER_HOST", "unix://"+sock)
	_, err = New(t.Context(), Config{})
	if err == nil {
		t.Fatal("New on a dead socket: no error")
	}
	for _, want := range []string{"cannot reach the Docker engine at unix://" + sock, "start dockerd", "DOCKER_HOST"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// An engine that goes away after the backend connected: the run is retried
// and then reported as Infra, never as a test result.
func TestDockerEngineGone(t *testing.T) {
	d := newTestDocker(t, Config{})
	proxy := newEngineProxy(t, d.cli.DaemonHost())
	gone, err := New(t.Context(), Config{Host: proxy.host, Retries: 1})
	if err != nil {
		t.Fatalf("New through the proxy: %v", err)
	}
	defer gone.Close()
	proxy.close()
	res, err := gone.Run(t.Context(), executor.Run{Env: executor.Environment{Image: goImage}, Command: "go test -json ./...", Format: executor.GoJSON})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Status != executor.Infra || !strings.Contains(res.Reason, "cannot reach the Docker engine") || !strings.Contains(res.Reason, "DOCKER_HOST") {
		t.Errorf("status %s (%s), want infra saying the engine cannot be reached", res.Status, res.Reason)
	}
}

// engineProxy forwards a unix socket to the engine until closed.
type engineProxy struct {
	host  string
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newEngineProxy(t *testing.T, engine string) *engineProxy {
	network, addr, ok := strings.Cut(engine, "://")
	if !ok || (network != "unix" && network != "tcp") {
		t.Skipf("engine at %s: the proxy forwards unix and tcp engines only", engine)
	}
	sock := filepath.Join(t.TempDir(), "proxy.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	p := &engineProxy{host: "unix://" + sock, l: l}
	t.Cleanup(p.close)
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial(network, addr)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
	return p
}

func (p *engineProxy) close() {
	p.l.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// The caller's mistakes are errors, before any container exists.
func TestDockerInvalidRun(t *testing.T) {
	d := newTestDocker(t, Config{})
	for _, tc := range []struct {
		name string
		run  executor.Run
		want string
	}{
		{"no command", executor.Run{Env: executor.Environment{Image: goImage}, Format: executor.GoJSON}, "test command is empty"},
		{"no image", executor.Run{Env: executor.Environment{Repo: "/some/checkout"}, Command: "go test -json ./...", Format: executor.GoJSON}, "names no image"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.Run(t.Context(), tc.run)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run: %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// The container's settings, without an engine: sandbox, limits (run's over
// the backend's defaults, capped at the engine), environment, workdir.
func TestDockerContainerSpec(t *testing.T) {
	d := &Executor{cfg: Config{Limits: defaultLimits(executor.Limits{})}, slots: newSlots(2, 8<<30, 0, 0)}
	for _, tc := range []struct {
		name    string
		env     executor.Environment
		want    executor.Limits
		workdir string
	}{
		{"defaults", executor.Environment{Image: "img"}, executor.Limits{MemoryMB: DefaultMemoryMB, CPUs: DefaultCPUs, PIDs: DefaultPIDs}, DefaultWorkdir},
		{"run's limits", executor.Environment{Image: "img", Workdir: "/src", Limits: executor.Limits{MemoryMB: 512, CPUs: 1.5, PIDs: 100}}, executor.Limits{MemoryMB: 512, CPUs: 1.5, PIDs: 100}, "/src"},
		{"more CPUs than the engine", executor.Environment{Image: "img", Limits: executor.Limits{CPUs: 16}}, executor.Limits{MemoryMB: DefaultMemoryMB, CPUs: 2, PIDs: DefaultPIDs}, DefaultWorkdir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env
			env.Env = map[string]string{"B": "2", "A": "1"}
			st, err := executor.NewStage(executor.Run{Env: env, Command: "true", Format: executor.GoJSON, Timeout: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			sp := d.containerSpec(executor.Run{Env: env}, st)
			h, c := sp.host, sp.config
			if h.NetworkMode != "none" || !c.NetworkDisabled || h.Privileged || !slices.Equal(h.CapDrop, []string{"ALL"}) ||
				!slices.Equal(h.SecurityOpt, []string{"no-new-privileges"}) || h.Init == nil || !*h.Init || h.LogConfig.Type != "none" {
				t.Errorf("sandbox settings: network %q disabled %v privileged %v capdrop %v secopt %v init %v log %q",
					h.NetworkMode, c.NetworkDisabled, h.Privileged, h.CapDrop, h.SecurityOpt, h.Init, h.LogConfig.Type)
			}
			if sp.limits != tc.want || h.Memory != int64(tc.want.MemoryMB)<<20 || h.MemorySwap != h.Memory ||
				h.NanoCPUs != int64(tc.want.CPUs*1e9) || *h.PidsLimit != tc.want.PIDs {
				t.Errorf("limits %+v (memory %d swap %d nanocpus %d pids %d), want %+v", sp.limits, h.Memory, h.MemorySwap, h.NanoCPUs, *h.PidsLimit, tc.want)
			}
			if c.WorkingDir != tc.workdir || c.Image != "img" {
				t.Errorf("workdir %q image %q, want %q img", c.WorkingDir, c.Image, tc.workdir)
			}
			// The run's own variables come last (sorted), after the script's.
			if n := len(c.Env); n < 4 || c.Env[n-2] != "A=1" || c.Env[n-1] != "B=2" || c.Env[0] != "BP_DIR="+stageDir || !slices.Contains(c.Env, "BP_TIMEOUT=60") {
				t.Errorf("env %q", c.Env)
			}
		})
	}
}

// The client negotiates the engine's API version (1.41 on Docker 20.10)
// rather than speaking its own newest one.
func TestDockerAPIVersion(t *testing.T) {
	d := newTestDocker(t, Config{})
	ping, err := d.cli.Ping(t.Context(), client.PingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := ping.APIVersion
	if versions.GreaterThan(want, client.MaxAPIVersion) {
		want = client.MaxAPIVersion
	}
	if got := d.APIVersion(); got != want {
		t.Errorf("negotiated API %s, want %s (engine %s, client max %s)", got, want, ping.APIVersion, client.MaxAPIVersion)
	}
	t.Logf("engine API %s, negotiated %s", ping.APIVersion, d.APIVersion())
}

// A sandbox without the tools to write the run's inputs says so (run.sh's
// own list of missing tools is tested on the Local backend, which runs the
// same script; an image without bash runs: TestDockerHostilePatches).
func TestDockerMissingTools(t *testing.T) {
	d := newTestDocker(t, Config{})
	needImages(t, d, shOnlyImage)
	res := runOK(t, d, executor.Run{Env: executor.Environment{Image: shOnlyImage, Env: map[string]string{"PATH": "/nonexistent"}}, Patch: executortest.Modify("lib.txt"), Command: "true", Format: executor.Pytest})
	if res.Status != executor.Infra || !strings.Contains(res.Reason, "missing tools: mkdir: the run's inputs are written with mkdir") {
		t.Errorf("status %s reason %q, want infra naming mkdir, which writing the run's inputs needs first", res.Status, res.Reason)
	}
}

// Output without end is streamed, parsed and capped: 200 MB of it, then a
// result, and the result is read.
func TestDockerOutputFlood(t *testing.T) {
	d := newTestDocker(t, Config{})
	needImages(t, d, shOnlyImage)
	res := runOK(t, d, executor.Run{
		Env:     executor.Environment{Image: shOnlyImage},
		Command: "yes 'a line of output that nobody reads' | head -c 200000000; echo; " + executortest.Summary("PASSED t::after_the_flood"),
		Format:  executor.Pytest,
		Timeout: 5 * time.Minute,
	})
	if res.Status != executor.Completed || fmt.Sprint(outcomes(res.Cases)) != "map[t::after_the_flood:PASS]" {
		t.Errorf("status %s (%s) cases %v, want completed with t::after_the_flood", res.Status, res.Reason, outcomes(res.Cases))
	}
	if len(res.Output) > 2*executor.ExcerptHalf+200 {
		t.Errorf("output excerpt is %d bytes, want at most %d", len(res.Output), 2*executor.ExcerptHalf+200)
	}
}
