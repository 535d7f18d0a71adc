package service_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/bestpatch/bestpatch/selector/wire"
)

// binary is the bestpatch command built for the tests that run daemons as
// processes; empty when the tests run with -short. buildErr says why the
// build failed: those tests fail, the others still run.
var (
	binary   string
	buildErr error
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(func() int {
		if !testing.Short() {
			dir, err := os.MkdirTemp("", "bestpatch-bin-")
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			defer os.RemoveAll(dir)
			binary = filepath.Join(dir, "bestpatch")
			build := exec.Command("go", "build", "-o", binary, "github.com/bestpatch/bestpatch/cmd/bestpatch")
			out, err := build.CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("go build: %w\n%s", err, out)
			}
		}
		return m.Run()
	}())
}

// daemonProc is a `bestpatch serve` process.
type daemonProc struct {
	name string
	cmd  *exec.Cmd
	log  string // its stderr, a file
	done chan struct{}
	err  error // Wait's, once done is closed
}

// unsafeLocal are the arguments that let a daemon run jobs on local
// checkouts: the tests' jobs are the bundled example, a checkout.
var unsafeLocal = []string{"--executor", "local", "--unsafe-local-executor"}

// startProc starts `bestpatch serve` joining the server at url, with one
// worker slot, the local executor and no cache, and waits until it serves.
func startProc(t *testing.T, url, name string, args ...string) *daemonProc {
	return startServe(t, name, append(append([]string{"--nats-url", url}, unsafeLocal...), args...)...)
}

// startServe starts `bestpatch serve` with one worker slot and no cache,
// and more arguments, and waits until it serves.
func startServe(t *testing.T, name string, args ...string) *daemonProc {
	t.Helper()
	if buildErr != nil {
		t.Fatalf("the bestpatch binary did not build: %v", buildErr)
	}
	if binary == "" {
		t.Skip("no bestpatch binary (-short)")
	}
	p := &daemonProc{name: name, log: filepath.Join(t.TempDir(), name+".log"), done: make(chan struct{})}
	logFile, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(binary, append([]string{"serve", "--name", name, "--workers", "1",
		"--no-cache", "--ack-wait", "3s", "--log-level", "debug"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		<-p.done
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			t.Logf("log of %s:\n%s", name, b)
		}
	})
	ctx := ctxFor(t, time.Minute)
	waitFor(ctx, t, name+" to start", func() bool {
		b, _ := os.ReadFile(p.log)
		select {
		case <-p.done:
			t.Fatalf("%s exited: %v\n%s", name, p.err, b)
		default:
		}
		return strings.Contains(string(b), "daemon started")
	})
	return p
}

// runStarts reports each run_started event of a job: the daemon and run.
func runStarts(t *testing.T, nc *nats.Conn, job string) <-chan [2]string {
	ch := make(chan [2]string, 100)
	sub, err := nc.Subscribe(wire.EventsSubject(job), func(m *nats.Msg) {
		var ev wire.Event
		if json.Unmarshal(m.Data, &ev) == nil && ev.Kind == wire.EventRunStarted {
			select {
			case ch <- [2]string{m.Header.Get(wire.DaemonHeader), ev.Run}:
			default:
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Unsubscribe() })
	return ch
}

// TestProcessesShareAJob: three daemon processes on one server split one
// job's runs between them, and the verdict is the in-process one.
func TestProcessesShareAJob(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes that run go test")
	}
	want := referenceReport(t)
	ns := startNATS(t)
	var procs []*daemonProc
	for _, name := range []string{"p1", "p2", "p3"} {
		procs = append(procs, startProc(t, ns.ClientURL(), name))
	}
	c := newClient(t, ns.ClientURL())
	ctx := ctxFor(t, 15*time.Minute)
	got, err := c.Run(ctx, exampleJob(t, "shared"), nil)
	if err != nil {
		t.Fatal(err)
	}
	sameVerdict(t, got, want)
	byDaemon := map[string][]string{}
	for run, rr := range storedResults(t, ns.ClientURL(), "shared") {
		byDaemon[rr.Daemon] = append(byDaemon[rr.Daemon], run)
	}
	t.Logf("runs by daemon: %v", byDaemon)
	for _, p := range procs {
		if len(byDaemon[p.name]) == 0 {
			t.Errorf("daemon %s ran none of the job's runs: %v", p.name, byDaemon)
		}
	}
}

// TestKilledDaemon: kill -9 of a daemon in the middle of a run; the run goes
// to another daemon once its ack wait passes, and the job completes with no
// result lost and none written twice.
func TestKilledDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes that run go test")
	}
	want := referenceReport(t)
	ns := startNATS(t)
	var procs []*daemonProc
	for _, name := range []string{"p1", "p2", "p3"} {
		procs = append(procs, startProc(t, ns.ClientURL(), name))
	}
	starts := runStarts(t, connect(t, ns.ClientURL()), "killed")
	c := newClient(t, ns.ClientURL())
	ctx := ctxFor(t, 15*time.Minute)
	if _, err := c.Submit(ctx, slowJob(t, "killed", "2")); err != nil {
		t.Fatal(err)
	}
	var killedRun string
	for killedRun == "" {
		select {
		case s := <-starts:
			if s[0] == "p2" {
				killedRun = s[1]
			}
		case <-ctx.Done():
			t.Fatal("p2 never started a run")
		}
	}
	if err := procs[1].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-procs[1].done
	got, err := c.Wait(ctx, "killed", nil)
	if err != nil {
		t.Fatal(err)
	}
	sameVerdict(t, got, want)
	res := storedResults(t, ns.ClientURL(), "killed")
	if len(res) != len(got.Runs) {
		t.Errorf("%d results stored, the report used %d", len(res), len(got.Runs))
	}
	rr, ok := res[killedRun]
	if !ok || rr.Daemon == "p2" {
		t.Errorf("the run %s killed on p2 should be stored by another daemon: %+v (stored: %v)", killedRun, rr, ok)
	}
}

// TestGracefulShutdown: SIGTERM stops a daemon at once: its run in progress
// goes back to the queue (no ack wait) and another daemon does it; the
// process exits cleanly.
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes that run go test")
	}
	want := referenceReport(t)
	ns := startNATS(t)
	p1 := startProc(t, ns.ClientURL(), "p1")
	startProc(t, ns.ClientURL(), "p2")
	starts := runStarts(t, connect(t, ns.ClientURL()), "graceful")
	c := newClient(t, ns.ClientURL())
	ctx := ctxFor(t, 15*time.Minute)
	if _, err := c.Submit(ctx, slowJob(t, "graceful", "2")); err != nil {
		t.Fatal(err)
	}
	var stoppedRun string
	for stoppedRun == "" {
		select {
		case s := <-starts:
			if s[0] == "p1" {
				stoppedRun = s[1]
			}
		case <-ctx.Done():
			t.Fatal("p1 never started a run")
		}
	}
	if err := p1.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p1.done
	if p1.err != nil {
		t.Errorf("p1 exited with %v after SIGTERM, want 0", p1.err)
	}
	b, _ := os.ReadFile(p1.log)
	if !strings.Contains(string(b), "run handed back") {
		t.Errorf("p1 did not hand its run back:\n%s", b)
	}
	got, err := c.Wait(ctx, "graceful", nil)
	if err != nil {
		t.Fatal(err)
	}
	sameVerdict(t, got, want)
	if rr := storedResults(t, ns.ClientURL(), "graceful")[stoppedRun]; rr.Daemon != "p2" {
		t.Errorf("run %s handed back by p1 was stored by %q, want p2", stoppedRun, rr.Daemon)
	}
}

// TestServeEmbedded: `bestpatch serve` alone is the whole service: the
// embedded server takes a job, the metrics endpoint counts it, and SIGTERM
// stops the daemon and the server cleanly.
func TestServeEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process that runs go test")
	}
	listen, metricsAddr := freeAddr(t), freeAddr(t)
	p := startServe(t, "solo", append([]string{"--listen", listen, "--store-dir", filepath.Join(t.TempDir(), "nats"),
		"--metrics-addr", metricsAddr, "--log-format", "json"}, unsafeLocal...)...)
	c := newClient(t, "nats://"+listen)
	ctx := ctxFor(t, 15*time.Minute)
	job := exampleJob(t, "solo")
	job.Task.GeneratedTests = nil
	job.Candidates = job.Candidates[:2]
	rep, err := c.Run(ctx, job, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict.Chosen == "" || len(rep.Runs) != 3 {
		t.Errorf("report: chose %q after %d runs", rep.Verdict.Chosen, len(rep.Runs))
	}
	// The daemon counts the job just after publishing its outcome.
	wants := []string{`bestpatch_jobs_total{event="done"} 1`, `bestpatch_runs_total{outcome="completed"} 3`, "bestpatch_slots 1"}
	waitFor(ctx, t, "the metrics to count the job", func() bool {
		resp, err := http.Get("http://" + metricsAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range wants {
			if !strings.Contains(string(body), want) {
				return false
			}
		}
		return true
	})
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
	if p.err != nil {
		t.Errorf("exit after SIGTERM: %v, want 0", p.err)
	}
	log, _ := os.ReadFile(p.log)
	for _, want := range []string{`"msg":"embedded NATS server started"`, `"msg":"daemon stopped"`, `"msg":"UNSAFE: --unsafe-local-executor`} {
		if !strings.Contains(string(log), want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
}
