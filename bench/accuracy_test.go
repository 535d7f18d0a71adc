package bench

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/bench/accuracy"
	"github.com/bestpatch/bestpatch/scoring"
)

func onePatch(old, new string) string {
	return "diff --git a/p.go b/p.go\n--- a/p.go\n+++ b/p.go\n@@ -1,3 +1,3 @@\n package p\n-" + old + "\n+" + new + "\n func f() {}\n"
}

// TestWriteAccuracy checks the table bench accuracy prints on hand-made
// pools (no runs): random pick, majority vote (an empty patch is a patch of
// its own), the oracle, and a row for each policy.
func TestWriteAccuracy(t *testing.T) {
	fix := onePatch("var x = 1", "var x = 2")
	fixTwin := onePatch("var x = 1", "var x   =   2")
	wrong := onePatch("var x = 1", "var x = 3")
	mk := func(id string, pool []struct {
		patch    string
		resolved bool
	}) accuracy.Pool {
		var cands []scoring.Candidate
		correct := map[string]bool{}
		for i, p := range pool {
			cid := string(rune('a' + i))
			cands = append(cands, scoring.Candidate{ID: cid, Patch: p.patch})
			correct[cid] = p.resolved
		}
		o, err := accuracy.NewPool(id, "", scoring.Input{Candidates: cands}, correct)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	type c = struct {
		patch    string
		resolved bool
	}
	pools := []accuracy.Pool{
		// The fix is the majority (its twin votes with it); each empty patch
		// is a patch of its own.
		mk("A", []c{{fix, true}, {fixTwin, true}, {wrong, false}, {"", false}, {"", false}, {"", false}}),
		// A wrong patch is the majority.
		mk("B", []c{{wrong, false}, {wrong, false}, {fix, true}, {"", false}}),
		// Nothing resolves.
		mk("C", []c{{wrong, false}, {"", false}}),
	}
	ms, err := accuracy.Methods(pools, accuracy.Options{Policies: []scoring.Policy{{Name: "mine", Keys: []scoring.Key{{Signal: scoring.SignalVotes}}}}})
	if err != nil {
		t.Fatal(err)
	}
	table, err := accuracy.Compute(pools, ms)
	if err != nil {
		t.Fatal(err)
	}
	res := AccuracyResult{Test: table}
	if table.Pools != 3 || table.Contested != 2 || table.Candidates != 12 || table.NoCorrect != 1 {
		t.Errorf("pools %d, contested %d, candidates %d, no correct %d; want 3, 2, 12, 1", table.Pools, table.Contested, table.Candidates, table.NoCorrect)
	}
	want := map[string]float64{
		"random pick":   (2.0/6 + 1.0/4 + 0) / 3,
		"majority vote": (1 + 0 + 0) / 3.0,
		"policy mine":   (1 + 0 + 0) / 3.0,
		"oracle":        2.0 / 3,
	}
	got := map[string]float64{}
	for _, r := range table.Rows {
		got[r.Method] = r.Accuracy
	}
	for m, w := range want {
		if g, ok := got[m]; !ok || g < w-1e-9 || g > w+1e-9 {
			t.Errorf("%s: got %v (present %v), want %v", m, g, ok, w)
		}
	}
	res.Confidence = &ConfidenceFit{Models: scoring.ConfidenceModels{{Scope: scoring.ScopeTests, Intercept: -0.5, Weights: map[string]float64{scoring.FeatureFPPP: 1.25}}},
		MinConfide: 0.4, Test: accuracy.Measure([]float64{0.8, 0.3}, []float64{1, 0})}
	var b strings.Builder
	if err := WriteAccuracy(&b, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"test split: 3 pools", "policy mine", "min confidence chosen on dev: 40%", "test             2", "model (tests): intercept -0.500, fppp 1.250"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

// TestDescribeSet: a model fitted on a set names the configuration that
// makes the set again.
func TestDescribeSet(t *testing.T) {
	dir := t.TempDir()
	if got := describeSet(dir); got != "a bench set" {
		t.Errorf("no manifest: %q", got)
	}
	b, _ := json.Marshal(manifest{Version: 3, Config: GenConfig{Modules: []Module{{Path: "github.com/kr/text", Version: "v0.2.0"}, {Path: "github.com/google/uuid"}}, Tasks: 6, Candidates: 16, Seed: 1}})
	if err := os.WriteFile(filepath.Join(dir, manifestFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	want := "the bench set of bestpatch bench gen --tasks 6 --candidates 16 --seed 1 (generator version 3; modules github.com/kr/text@v0.2.0, github.com/google/uuid)"
	if got := describeSet(dir); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
