package scoring

import (
	"fmt"
	"math"
)

// Recommendations of a standing verdict (StopRule.Recommend).
const (
	// RecommendStop: the choice is settled; another sample is unlikely to
	// change it or to raise the confidence further.
	RecommendStop = "stop"
	// RecommendContinue: another sample is worth it.
	RecommendContinue = "continue"
	// RecommendAbstain: the sampling budget is spent and no choice is
	// good enough.
	RecommendAbstain = "abstain"
)

// Defaults of StopRule, chosen on the dev splits (docs/SCORING.md, "When
// to stop sampling").
const (
	DefaultTargetConfidence = 0.5
)

// StopRule says, after each sample of a streaming job, whether another
// sample is worth drawing. A verdict is settled (stop) when a calibrated
// confidence model speaks for it, its confidence reaches Target, at least
// two samples are in, its choice won on the policy's keys (not a
// tie-break between different changes), and what the choice rests on
// cannot be overturned by the sample that changes it most easily:
//
//   - with test evidence, its tests settle it: it breaks no counted
//     original case and passes at least one reproducing generated test,
//     and as many as any candidate so far (a later sample can then only
//     tie with it on the tests);
//   - without, the last sample left the choice (its cluster) as it was.
//
// Without a calibrated confidence there is no confident stop (no
// evidence, no confident answer): the rule says continue until the budget
// is spent, then abstain. Once MaxSamples samples are in, the rule says
// stop when the confidence reaches the target, abstain otherwise.
type StopRule struct {
	// Target is the confidence the choice must reach, in (0, 1]; 0 means
	// DefaultTargetConfidence.
	Target float64 `json:"target_confidence,omitempty"`
	// MaxSamples is the sampling budget: after this many samples the rule
	// no longer says continue. 0 means no budget: only the job's close
	// ends the sampling.
	MaxSamples int `json:"max_samples,omitempty"`
}

// Validate checks the rule's parameters.
func (r StopRule) Validate() error {
	if math.IsNaN(r.Target) || r.Target < 0 || r.Target > 1 {
		return fmt.Errorf("stop rule: target_confidence %g: want a probability in (0, 1] (0 for the default %g)", r.Target, DefaultTargetConfidence)
	}
	if r.MaxSamples < 0 {
		return fmt.Errorf("stop rule: max_samples %d: want 0 (no budget) or more", r.MaxSamples)
	}
	return nil
}

// target is the rule's target confidence, the default when unset.
func (r StopRule) target() float64 {
	if r.Target <= 0 {
		return DefaultTargetConfidence
	}
	return r.Target
}

// Standing is a streaming job's verdict after some samples: what it would
// choose now, how sure it is, and whether to sample more.
type Standing struct {
	// Samples counts the candidates received so far.
	Samples int `json:"samples"`
	// Choice is the candidate the verdict chooses now (or withheld, when
	// it asked for more samples); empty when none can be chosen.
	Choice string `json:"choice,omitempty"`
	// Confidence is the verdict's calibrated confidence, when a model
	// speaks for it.
	Confidence *float64 `json:"confidence,omitempty"`
	// Recommendation is RecommendStop, RecommendContinue or
	// RecommendAbstain.
	Recommendation string `json:"recommendation"`
	// Why says what the recommendation rests on.
	Why string `json:"why"`
}

// choiceOf is the candidate a verdict points at: chosen, or withheld when
// it asked for more samples.
func choiceOf(v Verdict) string {
	if v.Chosen != "" {
		return v.Chosen
	}
	return v.Withheld
}

// clusterOf is the cluster of a verdict's choice ("" without one).
func clusterOf(v Verdict) string {
	id := choiceOf(v)
	if id == "" {
		return ""
	}
	r, ok := rankedOf(v, id)
	if !ok {
		return "id:" + id
	}
	return clusterKeyOf(r)
}

// Recommend is the standing verdict after samples samples: cur is the
// verdict on all of them (calibrated: Confidence set when a model speaks
// for it), prev the verdict before the last sample (nil for the first).
func (r StopRule) Recommend(cur Verdict, prev *Verdict, samples int) Standing {
	st := Standing{Samples: samples, Choice: choiceOf(cur), Confidence: cur.Confidence}
	target := r.target()
	spent := r.MaxSamples > 0 && samples >= r.MaxSamples
	// not says why the choice is not settled yet: continue, or, with the
	// budget spent, abstain.
	not := func(why string) Standing {
		if spent {
			st.Recommendation, st.Why = RecommendAbstain, fmt.Sprintf("%s; the budget of %d samples is spent", why, r.MaxSamples)
		} else {
			st.Recommendation, st.Why = RecommendContinue, why
		}
		return st
	}
	switch {
	case st.Choice == "":
		if cur.Abstained != "" && !cur.SampleMore {
			return not("the verdict abstains: " + cur.Abstained)
		}
		return not("no candidate can be chosen yet")
	case cur.Confidence == nil:
		return not("no calibrated confidence for this verdict, so no confident stop")
	}
	conf := fmt.Sprintf("confidence %.1f%%", 100**cur.Confidence)
	if *cur.Confidence < target {
		return not(fmt.Sprintf("%s is below the target of %.1f%%", conf, 100*target))
	}
	if spent {
		st.Recommendation, st.Why = RecommendStop, fmt.Sprintf("%s reaches the target of %.1f%%, and the budget of %d samples is spent", conf, 100*target, r.MaxSamples)
		return st
	}
	reached := fmt.Sprintf("%s reaches the target of %.1f%%", conf, 100*target)
	if samples < 2 {
		return not(reached + ", but one sample cannot show that the choice is settled")
	}
	if tiedAcross(cur) {
		return not(reached + ", but the choice is a tie-break between different changes")
	}
	chosen, _ := rankedOf(cur, st.Choice)
	s := chosen.Signals
	if s.FPPP != nil || s.Regressions != nil {
		// Test evidence: settled when a later sample could only tie with
		// the choice on the tests.
		switch {
		case s.Regressions == nil || *s.Regressions > 0:
			return not(reached + ", but the choice breaks original tests (or none were counted): a later sample may break none")
		case s.GeneratedPassed == nil || *s.GeneratedPassed == 0:
			return not(reached + ", but the choice passes no reproducing generated test: its tests do not settle it")
		case cur.Features[FeatureGeneratedShare] < 1:
			return not(reached + ", but another candidate passes more reproducing generated tests")
		}
		st.Recommendation = RecommendStop
		st.Why = fmt.Sprintf("%s, and its tests settle it: it breaks no original test and passes %d reproducing generated test(s), as many as any candidate so far", reached, *s.GeneratedPassed)
		return st
	}
	if prev == nil || clusterOf(*prev) != clusterOf(cur) {
		return not(reached + ", but the last sample changed the choice")
	}
	st.Recommendation = RecommendStop
	st.Why = reached + ", and the last sample left the choice as it was"
	return st
}

// rankedOf is a candidate's place in a verdict.
func rankedOf(v Verdict, id string) (Ranked, bool) {
	for _, r := range v.Ranking {
		if r.ID == id {
			return r, true
		}
	}
	return Ranked{}, false
}

// tiedAcross reports whether the verdict's choice won a tie-break between
// candidates of different clusters.
func tiedAcross(v Verdict) bool {
	if len(v.Ties) < 2 {
		return false
	}
	clusters := map[string]bool{}
	for _, id := range v.Ties {
		r, _ := rankedOf(v, id)
		clusters[clusterKeyOf(r)] = true
	}
	return len(clusters) > 1
}

// clusterKeyOf names a ranked candidate's cluster: its meaning cluster,
// or itself when it has none.
func clusterKeyOf(r Ranked) string {
	if r.Signals.Cluster != "" {
		return r.Signals.Cluster
	}
	return "id:" + r.ID
}
