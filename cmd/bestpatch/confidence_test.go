package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/bench"
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

// TestWriteConfidenceModels: a fitted model joins the models of other
// scopes already in the file and replaces the one of its own scope, so that
// eval and bench accuracy each refit their scope of one file; a file that
// holds no models is not overwritten.
func TestWriteConfidenceModels(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "confidence.json")
	free := scoring.ConfidenceModel{Scope: scoring.ScopeExecutionFree, Intercept: -1}
	tests := scoring.ConfidenceModel{Scope: scoring.ScopeTests, Intercept: 1}
	tests2 := scoring.ConfidenceModel{Scope: scoring.ScopeTests, Intercept: 2}
	for _, step := range []struct {
		name     string
		fitted   scoring.ConfidenceModel
		kept     []string
		want     scoring.ConfidenceModels // in the file after, by scope
		wantNote string
	}{
		{"a new file", tests, nil, scoring.ConfidenceModels{tests}, "confidence model (tests) -> " + path + "\n"},
		{"another scope joins", free, []string{scoring.ScopeTests}, scoring.ConfidenceModels{free, tests},
			"confidence model (execution_free) -> " + path + " (kept the model of tests already there)\n"},
		{"the same scope is replaced", tests2, []string{scoring.ScopeExecutionFree}, scoring.ConfidenceModels{free, tests2}, ""},
	} {
		kept, err := writeConfidenceModels(path, scoring.ConfidenceModels{step.fitted})
		if err != nil || strings.Join(kept, ",") != strings.Join(step.kept, ",") {
			t.Fatalf("%s: kept %v, %v; want %v", step.name, kept, err, step.kept)
		}
		got, err := loadConfidenceModels(path)
		if err != nil || len(got) != len(step.want) {
			t.Fatalf("%s: file holds %+v, %v; want %+v", step.name, got, err, step.want)
		}
		for i := range got {
			if got[i].Scope != step.want[i].Scope || got[i].Intercept != step.want[i].Intercept {
				t.Errorf("%s: model %d is %+v, want %+v", step.name, i, got[i], step.want[i])
			}
		}
		if step.wantNote != "" {
			var b strings.Builder
			reportConfidenceWritten(&b, path, scoring.ConfidenceModels{step.fitted}, kept)
			if b.String() != step.wantNote {
				t.Errorf("%s: note %q, want %q", step.name, b.String(), step.wantNote)
			}
		}
	}
	priors := filepath.Join(dir, "priors.json")
	os.WriteFile(priors, []byte(`{"model_strength": 1}`), 0o644)
	if _, err := writeConfidenceModels(priors, scoring.ConfidenceModels{tests}); err == nil || !strings.Contains(err.Error(), "remove it or write elsewhere") {
		t.Errorf("over a priors file: %v", err)
	}
	if b, _ := os.ReadFile(priors); string(b) != `{"model_strength": 1}` {
		t.Errorf("the priors file was changed: %s", b)
	}
}

// TestWriteBenchConfidence: bench accuracy --fit-confidence writes the
// tests-scope model only (an execution-free one fitted on the bench's dev
// pools does not replace the SWE-bench one), and says why when there is
// none.
func TestWriteBenchConfidence(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "confidence.json")
	if err := writeJSONFile(path, scoring.ConfidenceModels{{Scope: scoring.ScopeExecutionFree, Intercept: -2}}); err != nil {
		t.Fatal(err)
	}
	for _, fit := range []*bench.ConfidenceFit{nil, {Skipped: []string{"tests: 12 labelled verdicts, fewer than 30"}}} {
		if err := writeBenchConfidence(io.Discard, path, fit); err == nil || !strings.Contains(err.Error(), "no tests-scope model") {
			t.Errorf("fit %+v: %v", fit, err)
		}
	}
	fit := &bench.ConfidenceFit{Models: scoring.ConfidenceModels{{Scope: scoring.ScopeExecutionFree, Intercept: 5}, {Scope: scoring.ScopeTests, Intercept: 1}}}
	var b strings.Builder
	if err := writeBenchConfidence(&b, path, fit); err != nil || !strings.Contains(b.String(), "kept the model of execution_free already there") {
		t.Fatalf("%v: %s", err, b.String())
	}
	ms, err := loadConfidenceModels(path)
	if err != nil || len(ms) != 2 || ms[0].Intercept != -2 || ms[1].Scope != scoring.ScopeTests || ms[1].Intercept != 1 {
		t.Errorf("file holds %+v, %v: want the old execution-free model and the fitted tests one", ms, err)
	}
}
