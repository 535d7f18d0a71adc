package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/scoring"
)

// TestLoadConfidenceModels reads a list or a single model and refuses what
// is not one, naming the file.
func TestLoadConfidenceModels(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	ms, err := loadConfidenceModels(write("list.json", `[{"scope": "tests", "intercept": 1, "weights": {"fppp": 2}}]`))
	if err != nil || len(ms) != 1 || ms[0].Scope != scoring.ScopeTests || ms[0].Weights["fppp"] != 2 {
		t.Errorf("list: %+v, %v", ms, err)
	}
	ms, err = loadConfidenceModels(write("one.json", `{"scope": "execution_free", "intercept": -1}`))
	if err != nil || len(ms) != 1 || ms[0].Intercept != -1 {
		t.Errorf("one model: %+v, %v", ms, err)
	}
	if ms, err := loadConfidenceModels(""); ms != nil || err != nil {
		t.Errorf("no file: %+v, %v", ms, err)
	}
	for name, body := range map[string]string{
		"priors.json": `{"model_strength": 1, "overall": {"correct": 1, "total": 2}}`,
		"empty.json":  `[]`,
		"twice.json":  `[{"scope": "tests"}, {"scope": "tests"}]`,
		"text.json":   `hello`,
	} {
		if _, err := loadConfidenceModels(write(name, body)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v, want an error naming the file", name, err)
		}
	}
	_, _, err = run(t, "batch", "--executor", "local", "--tasks", filepath.Join(example, "task.json"), "--out", filepath.Join(dir, "o.jsonl"),
		"--fit-confidence", filepath.Join(dir, "m.json"), "--preds", strings.Join(examplePreds(t), ","))
	if err == nil || !strings.Contains(err.Error(), "--fit-confidence needs --labels") {
		t.Errorf("--fit-confidence without labels: %v", err)
	}
}
