package bench

import (
	"context"
	"fmt"

	"github.com/bestpatch/bestpatch/executor"
)

// grader labels candidates as SWE-bench does: the candidate applied to the
// visible repository, then the hidden tests added back, then the full
// original suite run. Resolved means every case that passed (stably) on the
// published module passes: all hidden tests pass and no visible test that
// passed breaks. Test files the candidate touched are restored first, as
// during selection.
type grader struct {
	s      *suite
	repo   string
	stable map[string]bool
	// hidden holds the hidden top-level tests.
	hidden      map[string]bool
	hiddenPatch string
	// extra are test patches every grading run carries (the generated
	// tests): their outcomes tell a weak test from a strong one. They take
	// no part in the label.
	extra []executor.TestPatch
}

// graded is a candidate with its label and what its grading run showed.
type graded struct {
	entry Entry
	// built: the run completed and every package built.
	built bool
	// failsHidden: some hidden case does not pass.
	failsHidden bool
	// visibleFailing holds the visible top-level tests with a case that
	// passed on the published module and does not now.
	visibleFailing map[string]bool
	// applied is how the patch applied; tree the tree it left.
	applied, tree string
	// out holds every case's outcome in the grading run (the extra tests'
	// included).
	out outcomes
}

func (g *grader) grade(ctx context.Context, name, kind, patch string) (*graded, error) {
	gr, _, err := g.gradeWith(ctx, name, kind, patch, g.extra)
	return gr, err
}

// gradeWith grades a candidate with extra test patches in the same run (the
// generated tests, checked on the exact fix); their cases are returned and
// take no part in the label.
func (g *grader) gradeWith(ctx context.Context, name, kind, patch string, extra []executor.TestPatch) (*graded, outcomes, error) {
	tests := extra
	if g.hiddenPatch != "" { // empty when every catching test was left visible
		tests = append([]executor.TestPatch{{ID: "hidden", Patch: g.hiddenPatch}}, extra...)
	}
	res, out, err := g.s.run(ctx, g.repo, patch, tests)
	if err != nil {
		return nil, nil, err
	}
	if res.Status == executor.Completed && g.hiddenPatch != "" && !res.TestsApplied["hidden"] {
		return nil, nil, fmt.Errorf("grade %s in %s: the hidden tests did not apply after the candidate", name, g.repo)
	}
	gr := &graded{
		entry:          Entry{Name: name, Kind: kind, Patch: patch, Status: string(res.Status)},
		built:          built(res),
		visibleFailing: map[string]bool{},
		applied:        res.Applied,
		tree:           res.Tree,
		out:            out,
	}
	resolved := res.Status == executor.Completed
	for c := range g.stable {
		if out[c] == pass {
			continue
		}
		resolved = false
		if top := topLevel(c); g.hidden[top] {
			gr.failsHidden = true
		} else {
			gr.visibleFailing[top] = true
		}
	}
	gr.entry.Resolved = resolved
	return gr, out, nil
}
