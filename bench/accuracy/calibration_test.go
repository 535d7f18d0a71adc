package accuracy

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/scoring"
)

// TestFitConfidenceRecovers: on labels drawn from a known logistic model,
// the fit finds its weights, and its confidence is calibrated.
func TestFitConfidenceRecovers(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var samples []Sample
	for range 20000 {
		a, b := rng.NormFloat64(), float64(rng.IntN(2))
		p := 1 / (1 + math.Exp(-(-0.5 + 1.5*a - 1*b)))
		y := 0.0
		if rng.Float64() < p {
			y = 1
		}
		samples = append(samples, Sample{Features: map[string]float64{"a": a, "b": b}, Scope: scoring.ScopeTests, Correct: y})
	}
	samples = append(samples, Sample{Features: map[string]float64{"c": 1}, Scope: scoring.ScopeExecutionFree, Correct: 1})
	m, err := FitConfidence(samples, scoring.ScopeTests, "synthetic")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Weights["c"]; ok || m.Scope != scoring.ScopeTests || m.Source != "synthetic" {
		t.Errorf("model %+v: fitted on another scope's samples", m)
	}
	for name, want := range map[string]float64{"a": 1.5, "b": -1} {
		if got := m.Weights[name]; math.Abs(got-want) > 0.1 {
			t.Errorf("weight of %s %.3f, want %.1f", name, got, want)
		}
	}
	if math.Abs(m.Intercept+0.5) > 0.1 {
		t.Errorf("intercept %.3f, want -0.5", m.Intercept)
	}
	r := MeasureSamples(m, samples)
	if r.Verdicts != 20000 || r.ECE > 0.02 || math.Abs(r.MeanConfidence-r.Accuracy) > 0.01 {
		t.Errorf("reliability on its own fit set: %+v", r)
	}
	if _, err := FitConfidence(samples, "nowhere", ""); err == nil {
		t.Error("a fit without samples of the scope succeeded")
	}
}

// TestMeasure checks the Brier score, the ECE and the bins by hand.
func TestMeasure(t *testing.T) {
	r := Measure([]float64{0.05, 0.15, 0.95, 0.95, 1}, []float64{0, 1, 1, 0, 1})
	// Brier: (.0025 + .7225 + .0025 + .9025 + 0) / 5.
	if math.Abs(r.Brier-1.63/5) > 1e-12 {
		t.Errorf("Brier %v", r.Brier)
	}
	// Bins: [0,.1) {0.05: 0}, [.1,.2) {0.15: 1}, [.9,1] {0.95, 0.95, 1: 2 of 3}.
	want := (1*0.05 + 1*0.85 + 3*math.Abs((0.95+0.95+1)/3-2.0/3)) / 5
	if math.Abs(r.ECE-want) > 1e-12 {
		t.Errorf("ECE %v, want %v", r.ECE, want)
	}
	if b := r.Bins[9]; b.Verdicts != 3 || math.Abs(b.Accuracy-2.0/3) > 1e-12 || b.Lo != 0.9 || b.Hi != 1 {
		t.Errorf("top bin %+v", b)
	}
	if r := Measure(nil, nil); r.Verdicts != 0 || r.Bins != nil {
		t.Errorf("no verdicts: %+v", r)
	}
}

// TestCalibrateSets: the fit reads the dev splits only, and every split
// gets a row.
func TestCalibrateSets(t *testing.T) {
	insts := labelledSet(40, nil)
	c, err := CalibrateSets(context.Background(), []DataSet{{Name: "toy", Instances: insts}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rows) != 4 || c.Model.Scope != scoring.ScopeExecutionFree {
		t.Fatalf("calibration %+v", c)
	}
	var wrong = map[string]bool{}
	for _, inst := range insts {
		if Split(inst.ID) == SplitTest {
			wrong[inst.ID] = true
		}
	}
	again, err := CalibrateSets(context.Background(), []DataSet{{Name: "toy", Instances: labelledSet(40, wrong)}})
	if err != nil {
		t.Fatal(err)
	}
	if again.Model.Intercept != c.Model.Intercept {
		t.Errorf("test labels moved the fit: intercept %v, then %v", c.Model.Intercept, again.Model.Intercept)
	}
	for _, r := range again.Rows {
		if r.Split == SplitTest && r.Accuracy != 0 {
			t.Errorf("test row %+v: every test verdict is wrong now", r)
		}
	}
}

// TestFitConfidenceModels: one model per scope with enough samples; a
// scope with too few is named, not fitted.
func TestFitConfidenceModels(t *testing.T) {
	var samples []Sample
	for i := range 40 {
		samples = append(samples, Sample{Features: map[string]float64{"a": float64(i % 2)}, Scope: scoring.ScopeTests, Correct: float64(i % 2)})
	}
	for i := range 5 {
		samples = append(samples, Sample{Features: map[string]float64{"a": 1}, Scope: scoring.ScopeExecutionFree, Correct: float64(i % 2)})
	}
	ms, skipped, err := FitConfidenceModels(samples, "toy")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Scope != scoring.ScopeTests || ms[0].Weights["a"] <= 0 {
		t.Errorf("models %+v", ms)
	}
	if len(skipped) != 1 || !strings.Contains(skipped[0], "execution_free: 5 labelled verdicts, fewer than 30") {
		t.Errorf("skipped %q", skipped)
	}
}
