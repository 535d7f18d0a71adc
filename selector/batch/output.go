package batch

import (
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

// Predictions are the batch's selections in SWE-bench predictions format,
// in instance order: the chosen patch of every instance that chose one,
// and an empty patch for every instance where none could be chosen (the
// harness counts those as unresolved empty patches). Failed and unfinished
// instances have no line: nothing was decided for them. Write them with
// selector.WritePredictions.
func (r *Result) Predictions(model string) []selector.Prediction {
	var out []selector.Prediction
	for _, in := range r.Instances {
		switch in.Status {
		case Selected:
			c, _ := in.Chosen()
			out = append(out, selector.Prediction{InstanceID: in.ID, Model: model, Patch: c.Patch})
		case NoneChosen:
			out = append(out, selector.Prediction{InstanceID: in.ID, Model: model, Patch: ""})
		}
	}
	return out
}

// NotRunCandidates counts the candidates in play whose runs were not made
// because they could not change the choice (adaptive execution), over the
// finished instances, and the instances with any.
func (r *Result) NotRunCandidates() (candidates, instances int) {
	for _, in := range r.Instances {
		if in.Report == nil {
			continue
		}
		n := 0
		for _, c := range in.Report.Verdict.Ranking {
			if c.Signals.Status == scoring.RunNotRun {
				n++
			}
		}
		if n > 0 {
			candidates += n
			instances++
		}
	}
	return candidates, instances
}
