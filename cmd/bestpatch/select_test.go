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

	"github.com/bestpatch/bestpatch/generator"
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
	chosenFile := filepath.Join(t.TempDir(), "chosen.jsonl")
	args := append([]string{"select", "--executor", "local", "--no-cache", "--json", "--out", chosenFile, "--model", "my-selector",
		"--task", filepath.Join(example, "task.json"), "--preds"}, strings.Join(examplePreds(t), ","))
	out, stderr, err := run(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		selector.Report
		Chosen *struct {
			ID     string `json:"id"`
			Model  string `json:"model_name_or_path"`
			Sample int    `json:"sample"`
			Patch  string `json:"model_patch"`
		} `json:"chosen_candidate"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output is not a report: %v\n%s", err, out)
	}
	if c := rep.Verdict.Chosen; c != "0/agent-a" && c != "1/agent-b" {
		t.Fatalf("chose %q, want the fix (0/agent-a) or its twin (1/agent-b)", c)
	}
	// The JSON carries the chosen candidate's patch and model, as its
	// predictions file gave them.
	byInstance, err := selector.LoadPredictions(examplePreds(t))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Chosen == nil {
		t.Fatalf("--json has no chosen_candidate:\n%s", out)
	}
	want := byInstance["example__interval-1"][rep.Chosen.Sample]
	if rep.Chosen.ID != rep.Verdict.Chosen || rep.Chosen.Model != want.Model || rep.Chosen.Patch != want.Patch || want.ID != rep.Chosen.ID {
		t.Errorf("chosen_candidate = %+v, want %s's model %q and patch", rep.Chosen, want.ID, want.Model)
	}
	// --out: one prediction, the harness's three fields, the chosen patch.
	preds := readPredictions(t, chosenFile)
	if len(preds) != 1 || preds[0] != (selector.Prediction{InstanceID: "example__interval-1", Model: "my-selector", Patch: want.Patch}) {
		t.Errorf("--out wrote %+v", preds)
	}
	if !strings.Contains(stderr, "written to "+chosenFile) {
		t.Errorf("stderr does not say where the prediction went:\n%s", stderr)
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
	// Adaptive execution leaves out the fix plus a regression and the patch
	// that does not apply: they cannot change the choice.
	for _, want := range []string{"Chosen: ", "Outcome matrix", "base", "not run: cannot change the choice", "2 distinct candidate(s) not run", "Chosen patch", "+\treturn a.Lo <= b.Hi && b.Lo <= a.Hi"} {
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
	chosenFile := filepath.Join(dir, "chosen.json")
	out, stderr, err := run(t, "select", "--executor", "local", "--no-cache", "--json", "--out", chosenFile, "--task", filepath.Join(example, "task.json"), "--preds", preds)
	var ec exitCode
	if !errors.As(err, &ec) || ec != 2 {
		t.Fatalf("err = %v, want exit status 2", err)
	}
	// Nothing chosen: no chosen candidate in the JSON, no predictions file.
	if strings.Contains(out, "chosen_candidate") {
		t.Errorf("--json has a chosen candidate:\n%s", out)
	}
	if _, err := os.Stat(chosenFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("--out %s written although nothing was chosen (%v)", chosenFile, err)
	}
	if !strings.Contains(stderr, "nothing written to "+chosenFile) {
		t.Errorf("stderr does not say that nothing was written:\n%s", stderr)
	}
}

func TestSelectBadInput(t *testing.T) {
	t.Setenv(generator.BaseURLEnv, "") // the judge case wants no endpoint
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
		{"out the harness cannot read", []string{"select", "--task", task, "--preds", examplePreds(t)[0], "--out", filepath.Join(dir, "chosen.txt")}, "--out: predictions file"},
		{"judge without an endpoint", []string{"select", "--task", task, "--preds", examplePreds(t)[0], "--judge"}, "no model endpoint for --judge: give --llm-url"},
		{"model work without an endpoint", []string{"select", "--task", task, "--preds", examplePreds(t)[0], "--generate-tests", "2", "--adversarial-rounds", "1"}, "no model endpoint for --generate-tests and --adversarial-rounds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := run(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
