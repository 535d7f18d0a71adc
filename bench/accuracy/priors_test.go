package accuracy

import (
	"context"
	"fmt"
	"testing"
)

// labelledSet is n instances where model good is right on every one but
// those listed in wrong.
func labelledSet(n int, wrong map[string]bool) []Instance {
	var out []Instance
	for i := range n {
		id := fmt.Sprintf("o__r-%d", i)
		out = append(out, Instance{ID: id, Candidates: []Candidate{
			{System: "good", Patch: patch("x + 1"), Resolved: !wrong[id]},
			{System: "bad", Patch: patch("x - 1"), Resolved: false},
		}})
	}
	return out
}

// TestDevPriorsOutOfFold: no instance's own label informs its prior, and
// no test label informs any prior.
func TestDevPriorsOutOfFold(t *testing.T) {
	insts := labelledSet(60, nil)
	st := PriorStrengths{Model: 1, Repo: 8}
	base := newDevPriors(insts, st)
	var dev, test string
	for _, inst := range insts {
		if Fold(inst.ID) < 0 || Fold(inst.ID) >= Folds {
			t.Fatalf("fold %d of %s", Fold(inst.ID), inst.ID)
		}
		if Split(inst.ID) == SplitDev && dev == "" {
			dev = inst.ID
		}
		if Split(inst.ID) == SplitTest && test == "" {
			test = inst.ID
		}
	}
	flipped := newDevPriors(labelledSet(60, map[string]bool{dev: true}), st)
	if a, b := base.of(dev).Of("good", "o__r"), flipped.of(dev).Of("good", "o__r"); a != b {
		t.Errorf("dev instance %s: its own label moved its prior from %v to %v", dev, a, b)
	}
	if a, b := base.of(test).Of("good", "o__r"), flipped.of(test).Of("good", "o__r"); a == b {
		t.Errorf("test instance %s: a dev label did not move its prior (%v)", test, a)
	}
	flipTest := newDevPriors(labelledSet(60, map[string]bool{test: true}), st)
	for _, inst := range insts {
		if a, b := base.of(inst.ID).Of("good", "o__r"), flipTest.of(inst.ID).Of("good", "o__r"); a != b {
			t.Errorf("a test label moved the prior of %s from %v to %v", inst.ID, a, b)
		}
	}
	// FitPriors on dev counts dev candidates only.
	p := FitPriors(insts, SplitDev)
	devCount := 0
	for _, inst := range insts {
		if Split(inst.ID) == SplitDev {
			devCount++
		}
	}
	if p.Overall.Total != 2*devCount || p.Models["good"].Correct != devCount {
		t.Errorf("dev priors count %+v, want %d dev instances", p.Overall, devCount)
	}
}

// TestTunePriorsReadsDevOnly: the settings are measured on dev; a test
// label never changes them.
func TestTunePriorsReadsDevOnly(t *testing.T) {
	insts := labelledSet(30, nil)
	ss, err := TunePriors(context.Background(), []DataSet{{Name: "toy", Instances: insts}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != len(PriorGrid.Model)*len(PriorGrid.Repo)*len(PriorGrid.Weight) {
		t.Fatalf("%d settings", len(ss))
	}
	var test []string
	for _, inst := range insts {
		if Split(inst.ID) == SplitTest {
			test = append(test, inst.ID)
		}
	}
	wrong := map[string]bool{}
	for _, id := range test {
		wrong[id] = true
	}
	again, err := TunePriors(context.Background(), []DataSet{{Name: "toy", Instances: labelledSet(30, wrong)}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range ss {
		if ss[i].Mean != again[i].Mean || ss[i].Weight != again[i].Weight {
			t.Fatalf("setting %d: %+v before, %+v after changing test labels", i, ss[i], again[i])
		}
	}
	// good is always right on dev: every setting picks it.
	if ss[0].Dev["toy"] != 1 || ss[0].Weight != PriorGrid.Weight[0] {
		t.Errorf("best setting %+v, want 100%% with the smallest weight", ss[0])
	}
}
