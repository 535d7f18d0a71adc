// Package examples_test runs the Python examples against a real daemon:
// `bestpatch serve` with its HTTP gateway and token authentication, the
// bundled example task on the local executor.
package examples_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/client"
	"github.com/bestpatch/bestpatch/selector/wire"
)

const (
	example = "../../testdata/example"
	token   = "examples-token"
)

// daemon is a `bestpatch serve` process for the examples.
type daemon struct {
	natsURL, httpURL string
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// startDaemon builds bestpatch and starts `serve` with the HTTP gateway.
func startDaemon(t *testing.T) daemon {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bestpatch")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "../../cmd/bestpatch").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	natsAddr, httpAddr := freeAddr(t), freeAddr(t)
	logPath := filepath.Join(dir, "serve.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--listen", natsAddr, "--http-listen", httpAddr, "--store-dir", filepath.Join(dir, "nats"),
		"--executor", "local", "--unsafe-local-executor", "--no-cache", "--workers", "2", "--log-format", "json")
	cmd.Env = append(os.Environ(), "BESTPATCH_NATS_TOKEN="+token)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); logFile.Close() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := <-done; err != nil {
			t.Errorf("serve after SIGTERM: %v", err)
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("serve's log:\n%s", b)
		}
	})
	deadline := time.Now().Add(time.Minute)
	for {
		b, _ := os.ReadFile(logPath)
		if bytes.Contains(b, []byte("HTTP gateway serving")) {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v\n%s", err, b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return daemon{natsURL: "nats://" + natsAddr, httpURL: "http://" + httpAddr}
}

// writeTask writes the bundled example's task in the daemon's form (its
// checkout's absolute path, its generated tests inline) and returns its
// path, the job with every candidate, and the predictions files.
func writeTask(t *testing.T) (string, selector.Job, []string) {
	t.Helper()
	tasks, err := selector.LoadTasks(filepath.Join(example, "task.json"))
	if err != nil {
		t.Fatal(err)
	}
	preds, err := filepath.Glob(filepath.Join(example, "preds", "*.jsonl"))
	if err != nil || len(preds) == 0 {
		t.Fatalf("predictions: %v %v", preds, err)
	}
	cands, err := selector.LoadPredictions(preds)
	if err != nil {
		t.Fatal(err)
	}
	job := selector.Job{Task: tasks[0], Candidates: cands[tasks[0].ID]}
	path := filepath.Join(t.TempDir(), "task.json")
	writeJSON(t, path, wire.FromJob(job).Task)
	return path, job, preds
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// python runs an example and returns its output and exit status.
func python(t *testing.T, script string, args ...string) (string, int) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), "BESTPATCH_NATS_TOKEN="+token)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out.String())
	}
	return out.String(), 0
}

// verdictOf asks the daemon, over NATS with the Go client, for the job the
// example printed ("job ID: queued").
func verdictOf(t *testing.T, d daemon, output string) (string, wire.Status) {
	t.Helper()
	var id string
	for line := range strings.Lines(output) {
		if rest, ok := strings.CutPrefix(line, "job "); ok {
			id, _, _ = strings.Cut(rest, ":")
			break
		}
	}
	if id == "" {
		t.Fatalf("the example printed no job ID:\n%s", output)
	}
	nc, err := nats.Connect(d.natsURL, nats.Token(token))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c, err := client.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return id, st
}

// checkRun: the example streamed the job's progress and printed the verdict
// the daemon holds.
func checkRun(t *testing.T, d daemon, output string, status int, wantRuns int) {
	t.Helper()
	if status != 0 {
		t.Fatalf("exit status %d:\n%s", status, output)
	}
	_, st := verdictOf(t, d, output)
	if st.State != wire.Done || st.Outcome == nil || st.Outcome.Report == nil {
		t.Fatalf("the daemon's status: %+v", st)
	}
	rep := st.Outcome.Report
	for _, want := range []string{
		"accepted: ",
		"  run base/1 completed in ",
		"selected: " + rep.Verdict.Chosen,
		"chosen: " + rep.Verdict.Chosen + "\n",
		"why: " + rep.Verdict.Why,
		fmt.Sprintf("%d runs in ", len(rep.Runs)),
	} {
		if !strings.Contains(output, want) {
			t.Errorf("the example's output lacks %q:\n%s", want, output)
		}
	}
	if finished := strings.Count(output, " completed in ") + strings.Count(output, " apply_failed in ") + strings.Count(output, " empty in "); finished != len(rep.Runs) {
		t.Errorf("the example printed %d finished runs of %d:\n%s", finished, len(rep.Runs), output)
	}
	if len(rep.Runs) < wantRuns {
		t.Errorf("%d runs, want at least %d", len(rep.Runs), wantRuns)
	}
}

// TestExamples runs docs/examples/http_select.py and docs/examples/nats_select.py:
// each submits the bundled example (eight candidates, three generated
// tests) and follows it to its verdict; and examples/nats_stream.py, which
// streams them into an open job until the stop rule says stop.
func TestExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("starts bestpatch serve, which runs go test")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	d := startDaemon(t)
	task, job, preds := writeTask(t)

	t.Run("http", func(t *testing.T) {
		chosenFile := filepath.Join(t.TempDir(), "chosen.jsonl")
		out, status := python(t, "http_select.py", append([]string{"--url", d.httpURL, "--task", task, "--out", chosenFile, "--preds"}, preds...)...)
		checkRun(t, d, out, status, 4)
		b, err := os.ReadFile(chosenFile)
		if err != nil {
			t.Fatal(err)
		}
		var pred struct {
			InstanceID string `json:"instance_id"`
			Patch      string `json:"model_patch"`
		}
		if err := json.Unmarshal(b, &pred); err != nil || pred.InstanceID != job.Task.ID || !strings.HasPrefix(pred.Patch, "diff --git") {
			t.Errorf("--out wrote %s: %v", b, err)
		}
		// Without the token, the gateway refuses, and the example says so.
		out, status = python(t, "http_select.py", "--url", d.httpURL, "--token", "wrong", "--task", task, "--preds", preds[0])
		if status != 1 || !strings.Contains(out, "401: authentication required") {
			t.Errorf("wrong token: exit %d:\n%s", status, out)
		}
	})

	t.Run("nats stream", func(t *testing.T) {
		// With a confidence model for verdicts with test evidence, the
		// fix's twin (the second sample) settles the choice: the script
		// stops sampling there.
		model := filepath.Join(t.TempDir(), "model.json")
		writeJSON(t, model, map[string]any{"scope": "tests", "intercept": -3, "weights": map[string]float64{"fppp": 4, "no_regressions": 2}})
		out, status := python(t, "nats_stream.py", append([]string{"--server", d.natsURL, "--task", task, "--target-confidence", "0.9", "--confidence-model", model, "--preds"}, preds...)...)
		if status != 0 {
			t.Fatalf("exit status %d:\n%s", status, out)
		}
		for _, want := range []string{"after 1: continue (choice 0/agent-a, confidence 0.95)", "after 2: stop (choice 0/agent-a", "chosen: 0/agent-a\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("the example's output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "after 3") {
			t.Errorf("the example sampled on after stop:\n%s", out)
		}
		id, st := verdictOf(t, d, out)
		if st.State != wire.Done || st.Outcome.Report.Verdict.Chosen != "0/agent-a" || len(st.Outcome.Report.Verdict.Ranking) != 2 {
			t.Errorf("job %s: %+v", id, st)
		}
	})

	t.Run("nats", func(t *testing.T) {
		jobFile := filepath.Join(t.TempDir(), "job.json")
		writeJSON(t, jobFile, wire.FromJob(job))
		out, status := python(t, "nats_select.py", "--server", d.natsURL, "--job", jobFile)
		checkRun(t, d, out, status, 4)
		// An invalid job: the daemon's 400, as the daemon says it.
		writeJSON(t, jobFile, map[string]any{"tsk": map[string]any{}, "candidates": []any{}})
		out, status = python(t, "nats_select.py", "--server", d.natsURL, "--job", jobFile)
		if status != 1 || !strings.Contains(out, `400: invalid job: job: field "tsk": unknown field`) {
			t.Errorf("invalid job: exit %d:\n%s", status, out)
		}
		// A wrong token: the server refuses the connection.
		out, status = python(t, "nats_select.py", "--server", d.natsURL, "--token", "wrong", "--job", jobFile)
		if status != 1 || !strings.Contains(strings.ToLower(out), "authorization violation") {
			t.Errorf("wrong token: exit %d:\n%s", status, out)
		}
	})
}
