package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/selector"
)

const example = "../../testdata/example"

// run executes the bestpatch command line in-process.
func run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err = root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func examplePreds(t *testing.T) []string {
	preds, err := filepath.Glob(filepath.Join(example, "preds", "*.jsonl"))
	if err != nil || len(preds) != 8 {
		t.Fatalf("example predictions: %v %v", preds, err)
	}
	return preds
}

// TestSelectExample runs the README's quick start: the bundled example on
// the local backend picks the fix (or its cosmetic twin), not the wrong fix
// that most candidates agree on.
func TestSelectExample(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	args := append([]string{"select", "--executor", "local", "--no-cache", "--json", "--task", filepath.Join(example, "task.json"), "--preds"}, strings.Join(examplePreds(t), ","))
	out, _, err := run(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	var rep selector.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output is not a report: %v\n%s", err, out)
	}
	if c := rep.Verdict.Chosen; c != "0/agent-a" && c != "1/agent-b" {
		t.Fatalf("chose %q, want the fix (0/agent-a) or its twin (1/agent-b)", c)
	}
	if _, ok := rep.Dropped["broken"]; !ok {
		t.Errorf("the generated test that does not compile was not dropped: %v", rep.Dropped)
	}

	// The table form shows the choice, the matrix and the chosen patch.
	args = append([]string{"select", "--executor", "local", "--task", filepath.Join(example, "task.json"), "--cache-dir", t.TempDir()}, examplePreds(t)...)
	out, _, err = run(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Chosen: ", "Outcome matrix", "base", "apply_failed", "Chosen patch", "+\treturn a.Lo <= b.Hi && b.Lo <= a.Hi"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestSelectNoneChosen: a job whose only candidate is empty exits 2.
func TestSelectNoneChosen(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	dir := t.TempDir()
	preds := filepath.Join(dir, "p.jsonl")
	os.WriteFile(preds, []byte(`{"instance_id": "example__interval-1", "model_patch": ""}`+"\n"), 0o644)
	_, _, err := run(t, "select", "--executor", "local", "--no-cache", "--task", filepath.Join(example, "task.json"), "--preds", preds)
	var ec exitCode
	if !errors.As(err, &ec) || ec != 2 {
		t.Fatalf("err = %v, want exit status 2", err)
	}
}

func TestSelectBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(`{"instance_id": "example__interval-1", "model_patch": ["not", "a", "string"]}`+"\n"), 0o644)
	other := filepath.Join(dir, "other.jsonl")
	os.WriteFile(other, []byte(`{"instance_id": "someone-else", "model_patch": ""}`+"\n"), 0o644)
	task := filepath.Join(example, "task.json")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no flags", []string{"select"}, "--task"},
		{"bad predictions", []string{"select", "--task", task, "--preds", bad}, "bad.jsonl:1: field \"model_patch\""},
		{"no matching predictions", []string{"select", "--task", task, "--preds", other}, `instance_id "example__interval-1"`},
		{"missing task file", []string{"select", "--task", filepath.Join(dir, "nope.json"), "--preds", other}, "nope.json"},
		{"unknown executor", []string{"select", "--executor", "vm", "--task", task, "--preds", examplePreds(t)[0]}, `--executor "vm"`},
		{"unknown policy", []string{"select", "--executor", "local", "--policy", "magic", "--task", task, "--preds", examplePreds(t)[0]}, "policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := run(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
