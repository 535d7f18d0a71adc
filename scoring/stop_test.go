package scoring

import (
	"strings"
	"testing"
)

func TestStopRuleRecommend(t *testing.T) {
	p := func(x float64) *float64 { return &x }
	n := func(x int) *int { return &x }
	verdict := func(chosen, cluster string, conf *float64) Verdict {
		v := Verdict{Chosen: chosen, Confidence: conf}
		if chosen != "" {
			v.Ranking = []Ranked{{ID: chosen, Rank: 1, Signals: Signals{Cluster: cluster}}}
		}
		return v
	}
	fix := verdict("fix", "k1", p(0.9))
	twin := verdict("twin", "k1", p(0.92))
	other := verdict("wrong", "k2", p(0.95))
	withheld := Verdict{Withheld: "fix", SampleMore: true, Abstained: "sample more", Confidence: p(0.9),
		Ranking: []Ranked{{ID: "fix", Rank: 1, Signals: Signals{Cluster: "k1"}}}}
	tied := verdict("a", "k1", p(0.9))
	tied.Ties = []string{"a", "b"}
	tied.Ranking = append(tied.Ranking, Ranked{ID: "b", Rank: 1, Signals: Signals{Cluster: "k2"}})
	tiedTwins := verdict("a", "k1", p(0.9))
	tiedTwins.Ties = []string{"a", "b"}
	tiedTwins.Ranking = append(tiedTwins.Ranking, Ranked{ID: "b", Rank: 1, Signals: Signals{Cluster: "k1"}})
	// With test evidence: settled by the tests, whatever the last sample did.
	tested := func(regressions, generated int, share float64) Verdict {
		v := verdict("fix", "k3", p(0.8))
		s := &v.Ranking[0].Signals
		s.FPPP, s.Regressions, s.GeneratedPassed = p(1), n(regressions), n(generated)
		v.Features = map[string]float64{FeatureGeneratedShare: share}
		return v
	}
	for _, c := range []struct {
		name    string
		rule    StopRule
		cur     Verdict
		prev    *Verdict
		samples int
		want    string
		why     string
	}{
		{"first sample, confident", StopRule{Target: 0.8}, fix, nil, 1, RecommendContinue, "one sample cannot show"},
		{"confident, same cluster by another candidate", StopRule{Target: 0.8}, twin, &fix, 2, RecommendStop, "left the choice as it was"},
		{"confident, the choice changed", StopRule{Target: 0.8}, other, &fix, 2, RecommendContinue, "changed the choice"},
		{"below the target", StopRule{Target: 0.95}, twin, &fix, 2, RecommendContinue, "below the target of 95.0%"},
		{"default target", StopRule{}, twin, &fix, 2, RecommendStop, "target of 50.0%"},
		{"a tie-break between different changes", StopRule{Target: 0.8}, tied, &tied, 3, RecommendContinue, "tie-break between different changes"},
		{"a tie within one cluster", StopRule{Target: 0.8}, tiedTwins, &fix, 3, RecommendStop, "left the choice"},
		{"no calibrated confidence", StopRule{Target: 0.5}, verdict("fix", "k1", nil), &fix, 2, RecommendContinue, "no calibrated confidence"},
		{"no calibrated confidence, budget spent", StopRule{Target: 0.5, MaxSamples: 2}, verdict("fix", "k1", nil), &fix, 2, RecommendAbstain, "budget of 2 samples is spent"},
		{"below the target, budget spent", StopRule{Target: 0.95, MaxSamples: 3}, twin, &fix, 4, RecommendAbstain, "below the target"},
		{"confident at the budget, choice just changed", StopRule{Target: 0.8, MaxSamples: 2}, other, &fix, 2, RecommendStop, "budget of 2 samples is spent"},
		{"nothing chosen", StopRule{}, Verdict{Why: "every candidate is out"}, nil, 1, RecommendContinue, "no candidate can be chosen"},
		{"no evidence", StopRule{MaxSamples: 1}, Verdict{Abstained: "the base run ended unknown"}, nil, 1, RecommendAbstain, "the verdict abstains: the base run ended unknown"},
		{"withheld for min_confidence counts as the choice", StopRule{Target: 0.8}, withheld, &twin, 3, RecommendStop, "left the choice"},
		{"tests settle it", StopRule{Target: 0.7}, tested(0, 2, 1), &other, 2, RecommendStop, "passes 2 reproducing generated test(s), as many as any candidate so far"},
		{"tests settle it, but one sample", StopRule{Target: 0.7}, tested(0, 2, 1), nil, 1, RecommendContinue, "one sample"},
		{"regressions", StopRule{Target: 0.7}, tested(1, 2, 1), &fix, 3, RecommendContinue, "breaks original tests"},
		{"no reproducing test passed", StopRule{Target: 0.7}, tested(0, 0, 0), &fix, 3, RecommendContinue, "passes no reproducing generated test"},
		{"another passes more", StopRule{Target: 0.7}, tested(0, 1, 0.5), &fix, 3, RecommendContinue, "another candidate passes more"},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := c.rule.Recommend(c.cur, c.prev, c.samples)
			if st.Recommendation != c.want || !strings.Contains(st.Why, c.why) || st.Samples != c.samples {
				t.Errorf("got %s (%q, %d samples), want %s with %q", st.Recommendation, st.Why, st.Samples, c.want, c.why)
			}
			if st.Choice != choiceOf(c.cur) {
				t.Errorf("choice %q, want %q", st.Choice, choiceOf(c.cur))
			}
		})
	}
}

func TestStopRuleValidate(t *testing.T) {
	for _, r := range []StopRule{{Target: -0.1}, {Target: 1.5}, {MaxSamples: -1}} {
		if r.Validate() == nil {
			t.Errorf("%+v: no error", r)
		}
	}
	for _, r := range []StopRule{{}, {Target: 1, MaxSamples: 16}} {
		if err := r.Validate(); err != nil {
			t.Errorf("%+v: %v", r, err)
		}
	}
}
