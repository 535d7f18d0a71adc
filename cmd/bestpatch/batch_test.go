package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/bestpatch/bestpatch/executor/local"
	"github.com/bestpatch/bestpatch/generator"
	"github.com/bestpatch/bestpatch/internal/natsserver"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/batch"
	"github.com/bestpatch/bestpatch/selector/batch/report"
	"github.com/bestpatch/bestpatch/selector/service"
)

// exampleLabels labels the bundled example's candidates: the fix (agent-a)
// and its cosmetic twin (agent-b) resolve it.
func exampleLabels(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	for i, m := range []string{"agent-a", "agent-b", "agent-c", "agent-d", "agent-e", "agent-f", "agent-g", "agent-h"} {
		line, _ := json.Marshal(map[string]any{"instance_id": "example__interval-1", "model_name_or_path": m, "resolved": i < 2})
		b.Write(append(line, '\n'))
	}
	p := filepath.Join(dir, "labels.jsonl")
	os.WriteFile(p, []byte(b.String()), 0o644)
	return p
}

// exampleHarnessLabels labels the same candidates as exampleLabels, as the
// SWE-bench harness reports them: a run report per predictions file for
// agent-a to agent-d (named <model>.<run_id>.json, as the harness names
// it), and report.json files in the harness's log layout for the others.
func exampleHarnessLabels(t *testing.T, dir string) []string {
	t.Helper()
	const id = "example__interval-1"
	var sources []string
	for i, m := range []string{"agent-a", "agent-b", "agent-c", "agent-d"} {
		rep := map[string]any{"resolved_ids": []string{}, "unresolved_ids": []string{}, "error_ids": []string{}, "empty_patch_ids": []string{}, "schema_version": 2}
		if i < 2 {
			rep["resolved_ids"] = []string{id}
		} else {
			rep["unresolved_ids"] = []string{id}
		}
		data, _ := json.Marshal(rep)
		p := filepath.Join(dir, m+".eval-1.json")
		os.WriteFile(p, data, 0o644)
		sources = append(sources, p)
	}
	logs := filepath.Join(dir, "logs", "run_evaluation", "eval-1")
	for _, m := range []string{"agent-e", "agent-f", "agent-g", "agent-h"} {
		p := filepath.Join(logs, m, id, "report.json")
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(`{"`+id+`": {"patch_is_None": false, "patch_exists": true, "patch_successfully_applied": true, "resolved": false}}`), 0o644)
	}
	return append(sources, logs)
}

// exampleTask is the bundled example's task, its repository an absolute
// path so that the task can be written anywhere.
func exampleTask(t *testing.T) selector.Task {
	t.Helper()
	tasks, err := selector.LoadTasks(filepath.Join(example, "task.json"))
	if err != nil {
		t.Fatal(err)
	}
	if tasks[0].Env.Repo, err = filepath.Abs(tasks[0].Env.Repo); err != nil {
		t.Fatal(err)
	}
	return tasks[0]
}

// writeTasks writes a JSONL tasks file into dir.
func writeTasks(t *testing.T, dir string, tasks ...selector.Task) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, task := range tasks {
		enc.Encode(task)
	}
	p := filepath.Join(dir, "tasks.jsonl")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// tasksWithBroken writes a tasks file: the example, and a task whose
// repository does not exist.
func tasksWithBroken(t *testing.T, dir string) string {
	t.Helper()
	ex := exampleTask(t)
	broken := ex
	broken.ID, broken.Env.Repo = "acme__missing-1", filepath.Join(dir, "no-such-repository")
	return writeTasks(t, dir, ex, broken)
}

func readPredictions(t *testing.T, path string) []selector.Prediction {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []selector.Prediction
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var p selector.Prediction
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("%s: %v: %s", path, err, line)
		}
		out = append(out, p)
	}
	return out
}

// TestBatchCommand runs `bestpatch batch` on the bundled example as a user
// would: the selected predictions, the summary, the report, then a second
// invocation that finds everything done, then a tasks file with a broken
// instance (exit status 2, the example still selected).
func TestBatchCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	dir, cache := t.TempDir(), t.TempDir()
	out := filepath.Join(dir, "selected.jsonl")
	withLabels := func(labels ...string) []string {
		args := []string{"batch", "--executor", "local", "--cache-dir", cache, "--tasks", filepath.Join(example, "task.json"),
			"--out", out, "--model", "my-selector", "--report", filepath.Join(dir, "report")}
		for _, l := range labels {
			args = append(args, "--labels", l)
		}
		return append(append(args, "--preds"), examplePreds(t)...)
	}
	args := withLabels(exampleLabels(t, dir))
	stdout, stderr, err := run(t, args...)
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, stdout, stderr)
	}
	preds := readPredictions(t, out)
	if len(preds) != 1 || preds[0].InstanceID != "example__interval-1" || preds[0].Model != "my-selector" ||
		!strings.Contains(preds[0].Patch, "+\treturn a.Lo <= b.Hi && b.Lo <= a.Hi") && !strings.Contains(preds[0].Patch, "+\treturn a.Lo<=b.Hi && b.Lo<=a.Hi") {
		t.Errorf("selected predictions: %+v", preds)
	}
	for _, want := range []string{"selected (policy auto)", "random pick", "25.0%", "majority vote", "oracle", "1 instances: 1 selected", "report: "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	// Not a terminal: plain progress lines.
	if !strings.Contains(stderr, "[1/1] example__interval-1: chose ") || strings.Contains(stderr, "\r") {
		t.Errorf("stderr is not plain progress lines:\n%q", stderr)
	}
	for _, f := range []string{report.HTMLFile, report.JSONFile} {
		if _, err := os.Stat(filepath.Join(dir, "report", f)); err != nil {
			t.Error(err)
		}
	}

	// Again, with the labels as the SWE-bench harness writes them: the
	// journal has the instance, so nothing runs, and the accuracy summary
	// is the same.
	summary, _, _ := strings.Cut(stdout, "1 instances:")
	stdout, stderr, err = run(t, withLabels(exampleHarnessLabels(t, dir)...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if again, _, _ := strings.Cut(stdout, "1 instances:"); again != summary {
		t.Errorf("with the harness's reports as labels the summary is\n%s\nwant\n%s", again, summary)
	}
	if !strings.Contains(stderr, "0 to run, 1 finished before (journal)") || !strings.Contains(stderr, "runs 0 (0 cached)") {
		t.Errorf("second invocation did not resume from the journal:\n%s", stderr)
	}
	if again := readPredictions(t, out); len(again) != 1 || again[0] != preds[0] {
		t.Errorf("second invocation wrote %+v, want %+v", again, preds)
	}

	// A broken instance: reported, exit status 2, the example still selected
	// (its runs come from the cache).
	out2 := filepath.Join(dir, "with-broken", "selected.jsonl")
	args = append([]string{"batch", "--executor", "local", "--cache-dir", cache, "--tasks", tasksWithBroken(t, dir), "--out", out2, "--preds"}, examplePreds(t)...)
	stdout, stderr, err = run(t, args...)
	var ec exitCode
	if !errors.As(err, &ec) || ec != 2 {
		t.Fatalf("err = %v, want exit status 2\n%s\n%s", err, stdout, stderr)
	}
	if !strings.Contains(stdout, "FAILED acme__missing-1: ") || !strings.Contains(stdout, "2 instances: 1 selected, 0 none chosen, 1 failed") {
		t.Errorf("stdout:\n%s", stdout)
	}
	if p := readPredictions(t, out2); len(p) != 1 || p[0].InstanceID != "example__interval-1" {
		t.Errorf("with a broken instance: %+v", p)
	}
}

func TestBatchBadInput(t *testing.T) {
	t.Setenv(generator.BaseURLEnv, "") // the judge case wants no endpoint
	dir := t.TempDir()
	task := filepath.Join(example, "task.json")
	ex := exampleTask(t)
	dup := writeTasks(t, t.TempDir(), ex, ex)
	badLabels := filepath.Join(dir, "labels.jsonl")
	os.WriteFile(badLabels, []byte(`{"instance_id": "x"}`+"\n"), 0o644)
	preds := examplePreds(t)[0]
	out := filepath.Join(dir, "selected.jsonl")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no flags", []string{"batch"}, "--tasks"},
		{"no out", []string{"batch", "--tasks", task, "--preds", preds}, "--out"},
		{"judge without an endpoint", []string{"batch", "--tasks", task, "--preds", preds, "--out", out, "--judge"}, "no model endpoint for --judge: give --llm-url"},
		{"out the harness cannot read", []string{"batch", "--tasks", task, "--preds", preds, "--out", filepath.Join(dir, "selected.txt")}, "--out: predictions file"},
		{"duplicate instance", []string{"batch", "--executor", "local", "--tasks", dup, "--preds", preds, "--out", out}, `instance_id "example__interval-1" twice`},
		{"bad labels", []string{"batch", "--tasks", task, "--preds", preds, "--out", out, "--labels", badLabels}, `labels.jsonl:1: field "model_name_or_path"`},
		{"unknown policy", []string{"batch", "--tasks", task, "--preds", preds, "--out", out, "--policy", "magic"}, "--policy"},
		{"unknown executor", []string{"batch", "--executor", "vm", "--tasks", task, "--preds", preds, "--out", out}, `--executor "vm"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := run(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// TestBatchDaemon runs the batch on a daemon over NATS (an embedded server
// and an in-process daemon on the local executor): the same choice as in
// process, and resubmitting after the journal is lost is answered from the
// jobs the daemon already has.
func TestBatchDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	srv, err := natsserver.Start(context.Background(), natsserver.Config{Listen: "127.0.0.1:0", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	loc := local.New(local.Config{Logger: slog.New(slog.DiscardHandler), TempDir: t.TempDir()})
	t.Cleanup(func() { loc.Close() })
	d, err := service.Start(context.Background(), service.Config{Conn: nc, Exec: loc, Slots: 2, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })

	dir := t.TempDir()
	out := filepath.Join(dir, "selected.jsonl")
	args := append([]string{"batch", "--nats-url", srv.ClientURL(), "--tasks", filepath.Join(example, "task.json"), "--out", out, "--preds"}, examplePreds(t)...)
	stdout, stderr, err := run(t, args...)
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, stdout, stderr)
	}
	preds := readPredictions(t, out)
	if len(preds) != 1 || !strings.Contains(preds[0].Patch, "b.Lo <= a.Hi") && !strings.Contains(preds[0].Patch, "b.Lo<=a.Hi") {
		t.Fatalf("selected on the daemon: %+v", preds)
	}
	if !strings.Contains(stderr, "[1/1] example__interval-1: chose ") || strings.Contains(stderr, "runs 0 ") {
		t.Errorf("progress from the daemon's events missing:\n%s", stderr)
	}

	os.Remove(batch.JournalPath(out))
	stdout, stderr, err = run(t, args...)
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, stdout, stderr)
	}
	if again := readPredictions(t, out); len(again) != 1 || again[0] != preds[0] {
		t.Errorf("resubmitted: %+v, want %+v", again, preds)
	}
}
