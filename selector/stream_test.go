package selector_test

import (
	"context"
	"slices"
	"testing"

	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

// TestStreamUUID streams the uuid job's candidates one at a time into an
// open job: the base runs once, when the job opens; each new change costs
// one run and a cosmetic twin none; after each append the standing verdict
// follows the stop rule, with a tests-scope confidence model given by the
// job (the built-in models have none: without it no verdict here would be
// confident).
func TestStreamUUID(t *testing.T) {
	s, job := uuidJob(t)
	byID := map[string]scoring.Candidate{}
	for _, c := range s.Candidates {
		byID[c.ID] = c
	}
	job.Candidates = nil
	job.Options.Stream = &scoring.StopRule{Target: 0.9, MaxSamples: 5}
	job.Options.ConfidenceModels = scoring.ConfidenceModels{{Scope: scoring.ScopeTests, Intercept: -3,
		Weights: map[string]float64{scoring.FeatureFPPP: 4, scoring.FeatureNoRegressions: 2}}}
	exec := &countingExec{Executor: newLocal(t)}
	var events []selector.EventKind
	sel := &selector.Selector{Exec: exec, Pool: selector.NewPool(2), OnEvent: func(e selector.Event) { events = append(events, e.Kind) }}
	ctx := context.Background()
	st, err := sel.Open(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	base := exec.runs.Load()
	if base != 3 {
		t.Errorf("opening ran %d runs, want the 3 base runs (the broken generated test is screened out)", base)
	}
	if _, ok := st.Standing(); ok {
		t.Error("a standing verdict before any candidate")
	}
	for _, step := range []struct {
		id       string
		runs     int64 // new runs
		choice   []string
		rec      string
		withConf bool
	}{
		{"wrong", 1, []string{"wrong"}, scoring.RecommendContinue, true}, // one sample cannot show the choice is settled
		{"fix", 1, []string{"fix"}, scoring.RecommendStop, true},         // its tests settle it: no regression, the reproducing test passes
		{"twin", 0, []string{"fix", "twin"}, scoring.RecommendStop, true},
	} {
		before := exec.runs.Load()
		rep, err := st.Append(ctx, byID[step.id])
		if err != nil {
			t.Fatal(err)
		}
		sd := rep.Standing
		if sd == nil {
			t.Fatalf("append %s: no standing verdict", step.id)
		}
		t.Logf("append %s: %s", step.id, selector.StandingLine(*sd))
		if n := exec.runs.Load() - before; n != step.runs {
			t.Errorf("append %s ran %d runs, want %d", step.id, n, step.runs)
		}
		if !slices.Contains(step.choice, sd.Choice) || sd.Recommendation != step.rec || (sd.Confidence != nil) != step.withConf {
			t.Errorf("append %s: standing %+v, want a choice among %v and %s", step.id, *sd, step.choice, step.rec)
		}
		if sd.Samples != len(rep.Verdict.Ranking) {
			t.Errorf("append %s: %d samples, %d candidates ranked", step.id, sd.Samples, len(rep.Verdict.Ranking))
		}
	}
	rep, err := st.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Correct[rep.Verdict.Chosen] || rep.Standing.Recommendation != scoring.RecommendStop {
		t.Errorf("closed: chose %q, standing %+v", rep.Verdict.Chosen, *rep.Standing)
	}
	if n := exec.runs.Load(); n != base+2 || len(rep.Runs) != int(n) {
		t.Errorf("%d runs in all (%d in the report), want %d: the base once, one run per change", n, len(rep.Runs), base+2)
	}
	if _, err := st.Append(ctx, byID["noapply"]); err == nil {
		t.Error("an append after close was taken")
	}
	if events[0] != selector.EventAccepted || events[len(events)-1] != selector.EventSelected {
		t.Errorf("events %v", events)
	}
}
