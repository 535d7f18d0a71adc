package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/bench/testsubject"
	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

// TestNoRelatedTestAbstains: a job whose candidates change no module with
// a related test runs nothing but the listing of the test files, and ends
// as every job without execution evidence ends: select exits 3 with the
// reason and what to use instead; batch counts the instance failed,
// writes no prediction for it and does not journal it (exit 2). Before,
// select failed with an error (exit 1). The daemon's side is
// service.TestRelatedTestsThroughTheDaemon.
func TestNoRelatedTestAbstains(t *testing.T) {
	if testing.Short() {
		t.Skip("runs git")
	}
	py, err := testsubject.PythonWithPytest()
	if err != nil {
		t.Skip(err)
	}
	s, err := testsubject.Related(t.TempDir(), py)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	task := writeTasks(t, dir, selector.Task{
		ID: "pkg__pkg-1", Env: executor.Environment{Repo: s.Repo}, TestCommand: s.Command, Format: executor.Pytest,
		TestFiles: testsubject.RelatedTestFiles, Timeout: selector.Duration(2 * time.Minute),
		TestArgs: &selector.TestArgs{Related: "python", ListPatterns: testsubject.RelatedListPatterns},
	})
	preds := filepath.Join(dir, "preds.jsonl")
	line, _ := json.Marshal(map[string]string{"instance_id": "pkg__pkg-1", "model_name_or_path": "agent", "model_patch": s.Candidates[1].Patch})
	if err := os.WriteFile(preds, append(line, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	const why = "no related test: the candidates change pkg/helpers.py"
	const instead = "use --regression-tests p2p or all (SWE-bench), test_args.original (a task file), or generated tests (--generate-tests N)"

	out, _, err := run(t, "select", "--executor", "local", "--no-cache", "--json", "--task", task, "--preds", preds)
	var ec exitCode
	if !errors.As(err, &ec) || ec != 3 {
		t.Fatalf("select: err = %v, want exit status 3 (abstained)\n%s", err, out)
	}
	var rep selector.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output is not a report: %v\n%s", err, out)
	}
	if v := rep.Verdict; v.Chosen != "" || !strings.Contains(v.Abstained, why) || !strings.Contains(v.Abstained, instead) || v.Basis.Execution != scoring.EvidenceNone {
		t.Errorf("chosen %q, abstained %q, basis %+v: want nothing chosen, abstained because %q, saying %q", v.Chosen, v.Abstained, v.Basis, why, instead)
	}
	if len(rep.Runs) != 1 || rep.Runs[0].ID != selector.ListRunID {
		t.Errorf("runs %+v: want the listing alone (never the whole suite)", rep.Runs)
	}

	selected := filepath.Join(dir, "selected.jsonl")
	stdout, stderr, err := run(t, "batch", "--executor", "local", "--no-cache", "--tasks", task, "--preds", preds, "--out", selected)
	if !errors.As(err, &ec) || ec != 2 {
		t.Fatalf("batch: err = %v, want exit status 2 (an instance failed)\n%s\n%s", err, stdout, stderr)
	}
	if !strings.Contains(stdout+stderr, "abstained: "+why) {
		t.Errorf("batch does not say the instance abstained and why:\n%s\n%s", stdout, stderr)
	}
	if data, _ := os.ReadFile(selected); strings.TrimSpace(string(data)) != "" {
		t.Errorf("a prediction was written for the abstained instance:\n%s", data)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "selected.journal.jsonl")); strings.Contains(string(data), "pkg__pkg-1") {
		t.Errorf("the abstained instance was journaled:\n%s", data)
	}
}
