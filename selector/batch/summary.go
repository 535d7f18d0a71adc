package batch

import (
	"fmt"
	"github.com/bestpatch/bestpatch/bench/accuracy"
	"github.com/bestpatch/bestpatch/executor/testfile"
	"io"
	"strings"

	"github.com/bestpatch/bestpatch/scoring"
)

// Summary compares the batch's choices with the baselines on labelled
// instances: the one accuracy table (package accuracy), one pool per
// finished, labelled instance, grouped by repository.
type Summary struct {
	// Policy is the batch's policy.
	Policy string `json:"policy"`
	accuracy.Table
	// Failed counts the instances left out because they failed or did not
	// finish; Unlabelled the finished ones without any label.
	Failed     int `json:"failed"`
	Unlabelled int `json:"unlabelled"`
	// UnlabelledCandidates counts candidates of counted instances that no
	// label matches: they count as not resolved.
	UnlabelledCandidates int `json:"unlabelled_candidates"`
	// Calibration is the reliability of the verdicts' confidences (P(the
	// chosen candidate is correct)) on the counted instances whose verdict
	// carries one; nil when none does.
	Calibration *accuracy.Reliability `json:"calibration,omitempty"`
	// SampleMore counts the counted instances whose verdict abstained for a
	// confidence below --min-confidence (the selected row counts them as
	// misses); Answered is the selected row's accuracy on the others.
	SampleMore int     `json:"sample_more,omitempty"`
	Answered   float64 `json:"answered_accuracy,omitempty"`
	// Samples are the counted verdicts with their labels, for fitting
	// confidence models (accuracy.FitConfidenceModels).
	Samples []accuracy.Sample `json:"-"`
	Notes   []string          `json:"notes,omitempty"`
}

// Summarize scores the finished, labelled instances of a batch: the
// batch's choices, random pick, majority vote (normalized patches), every
// built-in policy and each signal alone (re-ranked on the same outcome
// matrix: nothing runs again), and the oracle.
func Summarize(res *Result, labels *Labels, policy string) (*Summary, error) {
	sum := &Summary{Policy: policy}
	var pools, answered []accuracy.Pool
	for _, in := range res.Instances {
		if in.Report == nil {
			sum.Failed++
			continue
		}
		if !labels.Has(in.ID) {
			sum.Unlabelled++
			continue
		}
		correct := map[string]bool{}
		for _, c := range in.Candidates {
			r, known := labels.Resolved(in.ID, c)
			if !known {
				sum.UnlabelledCandidates++
			}
			correct[c.ID] = r
		}
		input := scoring.Input{Candidates: in.Candidates, Matrix: in.Report.Evidence(), TestFiles: testfile.NewMatcher(in.Report.TestFiles...)}
		p, err := accuracy.NewPool(in.ID, in.Repo, input, correct)
		if err != nil {
			return nil, fmt.Errorf("summary: %w", err)
		}
		p.Selected = &in.Report.Verdict
		pools = append(pools, p)
		if s, ok := accuracy.SampleOf(in.Report.Verdict, correct); ok {
			sum.Samples = append(sum.Samples, s)
		}
		if in.Report.Verdict.SampleMore {
			sum.SampleMore++
		} else {
			answered = append(answered, p)
		}
	}
	if n, instances := res.NotRunCandidates(); n > 0 {
		sum.Notes = append(sum.Notes, fmt.Sprintf("%d candidates of %d instances were not run (adaptive execution: their runs could not change the choice of policy %s): the selected row is the same as with every run, the other rows rank them without evidence; run with --execution all to compare every row on every run", n, instances, policy))
	}
	if sum.UnlabelledCandidates > 0 {
		sum.Notes = append(sum.Notes, fmt.Sprintf("%d candidates have no label and count as not resolved", sum.UnlabelledCandidates))
	}
	ms, err := accuracy.Methods(pools, accuracy.Options{Selected: "selected (policy " + policy + ")"})
	if err != nil {
		return nil, err
	}
	if sum.Table, err = accuracy.Compute(pools, ms); err != nil {
		return nil, fmt.Errorf("summary: %w", err)
	}
	sum.Calibration = accuracy.SelectedReliability(pools)
	if sum.SampleMore > 0 && len(answered) > 0 {
		t, err := accuracy.Compute(answered, ms[:1])
		if err != nil {
			return nil, fmt.Errorf("summary: %w", err)
		}
		sum.Answered = t.Rows[0].Accuracy
	}
	return sum, nil
}

// WriteText prints the summary as a table: one row per method, the
// accuracy overall and per repository.
func (s *Summary) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "Accuracy on %d labelled instances (tie-aware)", s.Pools)
	var left []string
	if s.Failed > 0 {
		left = append(left, fmt.Sprintf("%d failed or unfinished", s.Failed))
	}
	if s.Unlabelled > 0 {
		left = append(left, fmt.Sprintf("%d without labels", s.Unlabelled))
	}
	if len(left) > 0 {
		fmt.Fprintf(w, "; not counted: %s", strings.Join(left, ", "))
	}
	fmt.Fprintln(w, ":")
	if err := s.Table.WriteText(w, true); err != nil {
		return err
	}
	if s.SampleMore > 0 {
		fmt.Fprintf(w, "%d verdicts abstained (sample more: confidence below --min-confidence); the selected row counts them as misses; on the %d answered: %s\n",
			s.SampleMore, s.Pools-s.SampleMore, accuracy.Percent(s.Answered))
	}
	if c := s.Calibration; c != nil {
		fmt.Fprintf(w, "Confidence on %d verdicts: mean %s, accuracy %s, Brier %.4f, ECE %.4f\n",
			c.Verdicts, accuracy.Percent(c.MeanConfidence), accuracy.Percent(c.Accuracy), c.Brier, c.ECE)
	}
	for _, n := range s.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	return nil
}
