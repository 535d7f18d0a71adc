package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/scoring"
)

// writeCandidateSet writes a labelled candidate set: on every instance,
// model good is right and model bad wrong, with different changes.
func writeCandidateSet(t *testing.T, ids ...string) string {
	t.Helper()
	var b strings.Builder
	for _, id := range ids {
		line := map[string]any{"instance_id": id, "candidates": []map[string]any{
			{"system": "good", "patch": "diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -1,1 +1,1 @@\n-x = 1\n+x = 2\n", "resolved": true},
			{"system": "bad", "patch": "diff --git a/n.py b/n.py\n--- a/n.py\n+++ b/n.py\n@@ -1,1 +1,1 @@\n-y = 1\n+y = 3\n", "resolved": false},
		}}
		enc, _ := json.Marshal(line)
		b.Write(enc)
		b.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "set.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEvalPriors: eval prints best-system-on-dev and auto with priors
// fitted on dev; --fit-priors writes the dev split's counts; select and
// batch refuse a file that is not priors, naming it.
func TestEvalPriors(t *testing.T) {
	// o__r-3, -5, -6, -10, -11 are dev; o__r-0, -1, -2 test.
	data := writeCandidateSet(t, "o__r-0", "o__r-1", "o__r-2", "o__r-3", "o__r-5", "o__r-6", "o__r-10", "o__r-11")
	out, _, err := run(t, "eval", "--data", data)
	if err != nil {
		t.Fatal(err)
	}
	// Two candidates that share nothing tie on consensus; on test, the
	// priors fitted on dev make auto pick the good model every time.
	test := out[strings.Index(out, "test split"):]
	for method, want := range map[string]string{"best system on dev": "100.0%", "policy auto": "100.0%", "policy consensus": "50.0%", "signal prior": "100.0%"} {
		if got := tableCell(test, method); got != want {
			t.Errorf("test table: %s %q, want %q:\n%s", method, got, want, test)
		}
	}

	priors := filepath.Join(t.TempDir(), "priors.json")
	out, _, err = run(t, "eval", "--data", data, "--fit-priors", priors)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "2 models, 10 labelled candidates (5 correct)") {
		t.Errorf("fit output: %s", out)
	}
	b, err := os.ReadFile(priors)
	if err != nil {
		t.Fatal(err)
	}
	var p scoring.Priors
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if p.Models["good"].Correct != 5 || p.Models["bad"].Total != 5 || p.Models["good"].Repos["o__r"].Total != 5 || p.RepoStrength != scoring.DefaultRepoStrength {
		t.Errorf("priors %+v", p)
	}
	byInstance := map[string][]scoring.Candidate{"o__r-99": {{ID: "a", Model: "good"}, {ID: "b", Model: "bad"}}}
	if err := applyPriors(priors, byInstance); err != nil {
		t.Fatal(err)
	}
	if got := byInstance["o__r-99"]; *got[0].Prior <= 0.5 || *got[1].Prior >= 0.5 {
		t.Errorf("applied priors %v and %v: want good above one half, bad below", *got[0].Prior, *got[1].Prior)
	}

	if _, _, err := run(t, "eval", "--data", data, "--fit-priors", priors, "--fit-on", "test"); err == nil || !strings.Contains(err.Error(), "want dev or all") {
		t.Errorf("--fit-on test: %v", err)
	}
	notPriors := filepath.Join(t.TempDir(), "not.json")
	os.WriteFile(notPriors, []byte(`{"overall": {"correct": 0, "total": 0}}`), 0o644)
	for _, cmd := range []string{"select", "batch"} {
		task := "--task"
		if cmd == "batch" {
			task = "--tasks"
		}
		_, _, err := run(t, cmd, "--executor", "local", task, filepath.Join(example, "task.json"),
			"--out", filepath.Join(t.TempDir(), "o.jsonl"), "--priors", notPriors, "--preds", strings.Join(examplePreds(t), ","))
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("--priors %s: priors: no labelled candidate", notPriors)) {
			t.Errorf("%s with an empty priors file: %v", cmd, err)
		}
	}
}

// tableCell is the accuracy printed on the table line of a method.
func tableCell(table, method string) string {
	for _, line := range strings.Split(table, "\n") {
		if rest, ok := strings.CutPrefix(line, method+"  "); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				return f[0]
			}
		}
	}
	return ""
}
