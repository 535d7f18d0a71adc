package scoring

import (
	"math"
	"strings"
	"testing"
)

// TestVerdictFeatures reads the features off real verdicts: one candidate
// alone; three where two agree; and one with test evidence.
func TestVerdictFeatures(t *testing.T) {
	auto, _ := ParsePolicy(PolicyAuto)
	one, err := Score(Input{Candidates: []Candidate{{ID: "a", Patch: patchOf("a.py", "x = 1", "x = 2"), Prior: ptr(0.8)}}}, auto)
	if err != nil {
		t.Fatal(err)
	}
	f, scope := VerdictFeatures(one)
	if scope != ScopeExecutionFree || f[FeatureSingle] != 1 || f[FeatureLogCandidates] != 0 || f[FeatureHasPrior] != 1 ||
		math.Abs(f[FeaturePrior]-math.Log(4)) > 1e-12 || f[FeatureMargin] != 0 {
		t.Errorf("one candidate: %s %v", scope, f)
	}

	three, err := Score(Input{Candidates: []Candidate{
		{ID: "a", Patch: patchOf("a.py", "x = 1", "x = 2")},
		{ID: "b", Patch: patchOf("a.py", "x = 1", "x  =  2")},
		{ID: "c", Patch: patchOf("c.py", "y = 1", "y = 3")},
	}}, auto)
	if err != nil {
		t.Fatal(err)
	}
	f, _ = VerdictFeatures(three)
	// a and b are cosmetic twins: tied, each with all of the other's vote.
	if f[FeatureTied] != 1 || f[FeatureVoteShare] != 0.5 || f[FeatureSingle] != 0 || f[FeatureHasPrior] != 0 || f[FeatureMargin] <= 0 {
		t.Errorf("three candidates: %v", f)
	}
	if math.Abs(f[FeatureLogCandidates]-math.Log(3)) > 1e-12 {
		t.Errorf("log candidates %v", f[FeatureLogCandidates])
	}
	if f, scope := VerdictFeatures(Verdict{}); f != nil || scope != "" {
		t.Errorf("nothing chosen: %v %q", f, scope)
	}

	// Test evidence: the scope is tests and the chosen run's evidence is read.
	tested := Verdict{Chosen: "a", Ranking: []Ranked{
		{ID: "a", Rank: 1, Signals: Signals{FPPP: ptr(1.5), Regressions: ptr(0), GeneratedPassed: ptr(2)}},
		{ID: "b", Rank: 2, Signals: Signals{FPPP: ptr(0.5), Regressions: ptr(3), GeneratedPassed: ptr(4)}},
	}}
	f, scope = VerdictFeatures(tested)
	if scope != ScopeTests || f[FeatureFPPP] != 1.5 || f[FeatureNoRegressions] != 1 || f[FeatureGeneratedShare] != 0.5 {
		t.Errorf("tests: %s %v", scope, f)
	}
}

// TestCalibrate: a model of the verdict's scope sets the confidence; none
// leaves it nil and says why.
func TestCalibrate(t *testing.T) {
	v := Verdict{Chosen: "a", Ranking: []Ranked{{ID: "a", Rank: 1}}}
	ms := ConfidenceModels{{Scope: ScopeExecutionFree, Intercept: 0, Weights: map[string]float64{FeatureSingle: math.Log(3)}}}
	ms.Calibrate(&v)
	if v.Confidence == nil || math.Abs(*v.Confidence-0.75) > 1e-12 || v.Features[FeatureSingle] != 1 {
		t.Fatalf("confidence %v, features %v; want 0.75", v.Confidence, v.Features)
	}
	v.Ranking[0].Signals.Regressions = ptr(0)
	ms.Calibrate(&v)
	if v.Confidence != nil || !anyContains(v.Notes, "no calibrated model for tests verdicts") {
		t.Errorf("tests verdict, execution-free model: confidence %v, notes %q", v.Confidence, v.Notes)
	}
	for _, bad := range []ConfidenceModel{{Scope: "x"}, {Scope: ScopeTests, Intercept: math.NaN()}, {Scope: ScopeTests, Weights: map[string]float64{"a": math.Inf(1)}}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v validated", bad)
		}
	}
}

// TestDefaultConfidence: the built-in models load, one per scope, so that
// every verdict that chose a candidate carries a confidence; the
// execution-free one ranks a lone candidate of a reliable model above one
// tied in a crowd, and the tests one a candidate that reproduces the bug,
// breaks nothing and passes every generated test above one that does not.
func TestDefaultConfidence(t *testing.T) {
	ms := DefaultConfidence()
	if err := ms.Validate(); err != nil || len(ms) != 2 {
		t.Fatalf("built-in models %+v (%v): want one per scope", ms, err)
	}
	byScope := map[string]ConfidenceModel{}
	for _, m := range ms {
		byScope[m.Scope] = m
	}
	free, tests := byScope[ScopeExecutionFree], byScope[ScopeTests]
	if !strings.Contains(free.Source, "dev splits") || !strings.Contains(tests.Source, "dev pools") {
		t.Errorf("sources %q, %q: want both fitted on dev data", free.Source, tests.Source)
	}
	lone := free.Predict(map[string]float64{FeatureSingle: 1, FeatureHasPrior: 1, FeaturePrior: logOdds(0.75)})
	crowd := free.Predict(map[string]float64{FeatureLogCandidates: math.Log(10), FeatureTied: 1, FeatureSimilarity: 0.3})
	if lone <= crowd || lone <= 0.5 || crowd >= 0.5 {
		t.Errorf("lone reliable candidate %.3f, tied in a crowd %.3f", lone, crowd)
	}
	crowd16 := map[string]float64{FeatureLogCandidates: math.Log(16), FeatureSimilarity: 0.5, FeatureVoteShare: 0.2}
	reproduces := map[string]float64{FeatureFPPP: 2, FeatureNoRegressions: 1, FeatureGeneratedShare: 1, FeatureMargin: 0.3}
	weak := map[string]float64{}
	for _, f := range []map[string]float64{reproduces, weak} {
		for k, v := range crowd16 {
			f[k] = v
		}
	}
	if good, bad := tests.Predict(reproduces), tests.Predict(weak); good <= bad || good <= 0.5 {
		t.Errorf("tests: reproducing candidate %.3f, one without evidence %.3f", good, bad)
	}

	// A verdict with test evidence gets a confidence from the built-in
	// models, and no note that one is missing.
	v := Verdict{Chosen: "a", Ranking: []Ranked{{ID: "a", Rank: 1, Signals: Signals{FPPP: ptr(2.0), Regressions: ptr(0)}}}}
	ms.Calibrate(&v)
	if v.Confidence == nil || *v.Confidence <= 0 || *v.Confidence >= 1 || anyContains(v.Notes, "no confidence") {
		t.Errorf("tests verdict: confidence %v, notes %q; want a calibrated confidence", v.Confidence, v.Notes)
	}
}

// TestConfidenceModelsWith: a custom model replaces the built-in one of its
// scope and joins for a scope the built-in ones lack.
func TestConfidenceModelsWith(t *testing.T) {
	builtIn := ConfidenceModels{{Scope: ScopeExecutionFree, Intercept: 1}}
	got := builtIn.With(ConfidenceModels{{Scope: ScopeExecutionFree, Intercept: 2}})
	if len(got) != 1 || got[0].Intercept != 2 {
		t.Errorf("replace: %+v", got)
	}
	got = builtIn.With(ConfidenceModels{{Scope: ScopeTests, Intercept: 3}})
	if len(got) != 2 || got[0].Scope != ScopeTests || got[1].Intercept != 1 || got.Validate() != nil {
		t.Errorf("join: %+v", got)
	}
	if got := builtIn.With(nil); len(got) != 1 || got[0].Intercept != 1 {
		t.Errorf("none: %+v", got)
	}
}

// TestRequireConfidence: below the minimum, or without a confidence, the
// verdict abstains asking for more samples and names what it withheld;
// Reopen undoes it.
func TestRequireConfidence(t *testing.T) {
	low, high := 0.3, 0.8
	for _, tc := range []struct {
		name string
		conf *float64
		min  float64
		want string // "" keeps the choice
	}{
		{"above", &high, 0.5, ""},
		{"below", &low, 0.5, "sample more: confidence 30.0% is below the minimum of 50.0%"},
		{"no confidence", nil, 0.5, "sample more: no calibrated confidence for this verdict"},
		{"no minimum", &low, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Verdict{Chosen: "a", Ties: []string{"a", "b"}, Why: "chose a by policy auto", Confidence: tc.conf}
			v.RequireConfidence(tc.min)
			if tc.want == "" {
				if v.Chosen != "a" || v.SampleMore || v.Abstained != "" {
					t.Fatalf("verdict %+v: want a kept", v)
				}
				return
			}
			if v.Chosen != "" || !v.SampleMore || v.Withheld != "a" || !strings.HasPrefix(v.Abstained, tc.want) ||
				!strings.HasPrefix(v.Why, "abstained: "+tc.want) || !strings.Contains(v.Why, "chose a by policy auto") {
				t.Fatalf("verdict %+v", v)
			}
			v.Reopen()
			if v.Chosen != "a" || v.SampleMore || v.Withheld != "" || v.Abstained != "" || v.Why != "chose a by policy auto" {
				t.Errorf("reopened %+v", v)
			}
		})
	}
	v := Verdict{Why: "no candidate can be chosen"}
	v.RequireConfidence(0.9)
	if v.SampleMore || v.Abstained != "" {
		t.Errorf("a verdict that chose nothing: %+v", v)
	}
}
