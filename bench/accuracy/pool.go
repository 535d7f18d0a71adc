// Package accuracy measures how often selection methods pick a correct
// candidate on labelled pools, in one table: random pick, majority vote,
// every policy, every signal alone, best-system-on-dev, the oracle and the
// run's own choices, each tie-aware and with its mixed ties. bestpatch eval,
// bench accuracy and the batch summary print this table, so a baseline has
// one definition wherever it appears.
//
// The package also reads labelled SWE-bench candidate sets (Load, Split)
// and evaluates the policies on them (Evaluate, Tune). It is product logic,
// not infrastructure: it decides what the accuracy figures mean.
package accuracy

import (
	"fmt"

	"github.com/bestpatch/bestpatch/scoring"
)

// Pool is one task's candidates with their labels, assessed once so that
// every method ranks the same evidence.
type Pool struct {
	// ID names the task (the SWE-bench instance_id).
	ID string
	// Group is what the table breaks accuracy down by (the repository);
	// empty when not broken down.
	Group string
	// Candidates are the task's candidates; Model names the producing
	// system (best-system rows read it, no policy does).
	Candidates []scoring.Candidate
	// Correct says which candidate IDs are right; a missing ID is wrong.
	Correct map[string]bool
	// Assessment holds every candidate's signals (scoring.Assess).
	Assessment *scoring.Assessment
	// Input is what Assessment was computed from: a method can assess a
	// variant of it (an ablation: the same pool without one kind of
	// evidence).
	Input scoring.Input
	// Selected is the verdict the run itself produced, or nil.
	Selected *scoring.Verdict
}

// NewPool assesses the input's candidates and labels them.
func NewPool(id, group string, in scoring.Input, correct map[string]bool) (Pool, error) {
	a, err := scoring.Assess(in)
	if err != nil {
		return Pool{}, fmt.Errorf("task %s: %w", id, err)
	}
	return Pool{ID: id, Group: group, Candidates: in.Candidates, Correct: correct, Assessment: a, Input: in}, nil
}

// right counts the correct candidates.
func (p Pool) right() int {
	n := 0
	for _, c := range p.Candidates {
		if p.Correct[c.ID] {
			n++
		}
	}
	return n
}

// Contested reports whether choosing matters: the pool holds correct and
// wrong candidates.
func (p Pool) Contested() bool {
	r := p.right()
	return r > 0 && r < len(p.Candidates)
}

// Outcome is one method's result on one pool.
type Outcome struct {
	// Accuracy is the chance that the method's pick is correct: the share
	// of correct candidates among those it cannot tell apart (a uniform
	// pick among them), in [0, 1]; 0 when it chose nothing.
	Accuracy float64
	// Mixed is true when the method ended tied between correct and wrong
	// candidates.
	Mixed bool
	// Abstained is true when the method declined to choose (no evidence,
	// or a confidence below its minimum). In a pool without a correct
	// candidate that is the right answer; elsewhere it scores 0.
	Abstained bool
}

// TieAware scores a pick among equally ranked candidates: the share of
// correct ones, and whether they mix labels. An empty pick scores 0.
func TieAware(ids []string, correct map[string]bool) Outcome {
	if len(ids) == 0 {
		return Outcome{}
	}
	right := 0
	for _, id := range ids {
		if correct[id] {
			right++
		}
	}
	return Outcome{Accuracy: float64(right) / float64(len(ids)), Mixed: right > 0 && right < len(ids)}
}

// VerdictOutcome scores a verdict: its tied top candidates, or the chosen
// one alone; a verdict that chose nothing (or abstained) scores 0.
func VerdictOutcome(v scoring.Verdict, correct map[string]bool) Outcome {
	switch {
	case v.Chosen == "":
		return Outcome{Abstained: v.Abstained != ""}
	case len(v.Ties) > 0:
		return TieAware(v.Ties, correct)
	case v.Chosen != "":
		return TieAware([]string{v.Chosen}, correct)
	}
	return Outcome{}
}
