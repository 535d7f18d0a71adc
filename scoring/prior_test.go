package scoring

import (
	"math"
	"strings"
	"testing"
)

// TestPriorsOf checks the shrinkage by hand: overall 4 of 10; model a 3 of
// 4 overall, 2 of 2 in repo r; model b 1 of 6, none in r.
func TestPriorsOf(t *testing.T) {
	var samples []Labelled
	add := func(model, repo string, correct bool, n int) {
		for range n {
			samples = append(samples, Labelled{Model: model, Repo: repo, Correct: correct})
		}
	}
	add("a", "r", true, 2)
	add("a", "s", true, 1)
	add("a", "s", false, 1)
	add("b", "s", true, 1)
	add("b", "s", false, 5)
	p := FitPriors(samples)
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	overall := 0.4
	a := (3 + DefaultModelStrength*overall) / (4 + DefaultModelStrength)
	b := (1 + DefaultModelStrength*overall) / (6 + DefaultModelStrength)
	for _, tc := range []struct {
		model, repo string
		want        float64
	}{
		{"a", "", a},
		{"a", "r", (2 + DefaultRepoStrength*a) / (2 + DefaultRepoStrength)},
		{"a", "s", (1 + DefaultRepoStrength*a) / (2 + DefaultRepoStrength)},
		{"a", "unseen", a},
		{"b", "r", b},
		{"b", "s", (1 + DefaultRepoStrength*b) / (6 + DefaultRepoStrength)},
		{"nobody", "r", overall},
	} {
		if got := p.Of(tc.model, tc.repo); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Of(%q, %q) = %v, want %v", tc.model, tc.repo, got, tc.want)
		}
	}

	cands := []Candidate{{ID: "1", Model: "a"}, {ID: "2", Model: "b", Prior: ptr(0.9)}}
	got := p.Apply(cands, "r")
	if cands[0].Prior != nil {
		t.Error("Apply modified its input")
	}
	if *got[0].Prior != p.Of("a", "r") || *got[1].Prior != 0.9 {
		t.Errorf("applied priors %v, %v: want the table's for a, and b's own 0.9 kept", *got[0].Prior, *got[1].Prior)
	}
}

func TestPriorsValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		p    Priors
		want string
	}{
		"empty":             {Priors{}, "no labelled candidate"},
		"negative strength": {Priors{Overall: Tally{1, 2}, ModelStrength: -1}, "negative strength"},
		"more correct":      {Priors{Overall: Tally{3, 2}}, "3 correct of 2"},
		"bad model":         {Priors{Overall: Tally{1, 2}, Models: map[string]ModelTally{"m": {Tally: Tally{2, 1}}}}, `model "m"`},
		"bad repo": {Priors{Overall: Tally{1, 2}, Models: map[string]ModelTally{"m": {Tally: Tally{1, 1},
			Repos: map[string]Tally{"r": {2, 1}}}}}, `repository "r"`},
	} {
		err := tc.p.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, tc.want)
		}
	}
}

// TestAutoWeighsPriors: two different fixes agree on nothing with each
// other, so consensus ties them; with priors, auto picks the candidate of
// the more reliable model, by the log-odds difference times priorWeight.
func TestAutoWeighsPriors(t *testing.T) {
	cands := []Candidate{
		{ID: "a", Model: "weak", Patch: patchOf("a.py", "x = 1", "x = 2"), Prior: ptr(0.1)},
		{ID: "b", Model: "strong", Patch: patchOf("b.py", "y = 1", "y = 3"), Prior: ptr(0.5)},
	}
	auto, _ := ParsePolicy(PolicyAuto)
	v, err := Score(Input{Candidates: cands}, auto)
	if err != nil {
		t.Fatal(err)
	}
	if v.Chosen != "b" || len(v.Ties) != 0 {
		t.Fatalf("chose %s (ties %v), want b: %s", v.Chosen, v.Ties, v.Why)
	}
	if !anyContains(v.Notes, "reliability priors weighed") {
		t.Errorf("notes %q do not say priors were weighed", v.Notes)
	}
	gap := *v.Ranking[0].Keys[0] - *v.Ranking[1].Keys[0]
	if want := priorWeight * (math.Log(0.5/0.5) - math.Log(0.1/0.9)); math.Abs(gap-want) > 1e-9 {
		t.Errorf("key gap %v, want %v (the prior's log-odds difference × %v)", gap, want, priorWeight)
	}
	// Without priors the same pool is a tie, broken by the rules.
	for i := range cands {
		cands[i].Prior = nil
	}
	if v, err = Score(Input{Candidates: cands}, auto); err != nil || len(v.Ties) != 2 {
		t.Errorf("without priors: ties %v, err %v; want both tied", v.Ties, err)
	}
	// A prior outside [0, 1] is malformed input.
	cands[0].Prior = ptr(1.5)
	if _, err := Score(Input{Candidates: cands}, auto); err == nil || !strings.Contains(err.Error(), "prior 1.5") {
		t.Errorf("prior 1.5: %v", err)
	}
}

func patchOf(file, old, new string) string {
	return "diff --git a/" + file + " b/" + file + "\n--- a/" + file + "\n+++ b/" + file + "\n@@ -1,1 +1,1 @@\n-" + old + "\n+" + new + "\n"
}
