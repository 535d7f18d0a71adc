package scoring

import (
	"fmt"
	"sort"
	"strings"
)

// Input is everything a selection is computed from.
type Input struct {
	// Candidates are the patches, with unique non-empty IDs.
	Candidates []Candidate
	// Matrix is the outcome matrix, or nil when nothing ran (execution-free
	// selection). A candidate without a row is treated as unknown.
	Matrix *Matrix
	// Sources holds base file contents by repository path, or nil. With them,
	// each touched file is rebuilt and canonicalized whole (see Normalize).
	Sources map[string]string
	// OriginalCases says which cases of the original suite count for
	// regressions (for SWE-bench, PASS_TO_PASS); nil counts every case.
	OriginalCases func(artifactID, caseID string) bool
}

// Score ranks the candidates under a policy and returns the verdict. It is
// a pure function of its arguments. It fails only on malformed input
// (duplicate or empty IDs, a verifier score outside [0, 1], an invalid
// policy); a job where no candidate can be chosen gets a verdict with an
// empty Chosen and a Why that says so.
func Score(in Input, p Policy) (Verdict, error) {
	if err := p.Validate(); err != nil {
		return Verdict{}, err
	}
	if err := checkCandidates(in.Candidates); err != nil {
		return Verdict{}, err
	}
	v := Verdict{Policy: p.Name}
	sig := make(map[string]*Signals, len(in.Candidates))
	outWhy := map[string]string{}
	var live []string
	var liveViews []view
	for _, c := range in.Candidates {
		cv := newView(c, in.Sources)
		s := &Signals{Verifier: c.Verifier, Flags: flagsOf(cv)}
		sig[c.ID] = s
		if in.Matrix != nil {
			row, ok := in.Matrix.Candidates[c.ID]
			switch {
			case !ok:
				s.Status = RunUnknown
			default:
				s.Status = row.Status
			}
		}
		switch {
		case s.Status == RunApplyFailed:
			s.Flags = append(s.Flags, FlagApplyFailed)
			outWhy[c.ID] = "the patch does not apply: out"
		case s.Status == RunEmpty:
			if !hasFlag(s.Flags, FlagEmpty) {
				s.Flags = append(s.Flags, FlagEmpty)
			}
			outWhy[c.ID] = "the patch leaves the tree unchanged: out"
		case hasFlag(s.Flags, FlagEmpty):
			outWhy[c.ID] = "the patch changes nothing once whitespace and comments are normalized: out"
		case hasFlag(s.Flags, FlagOnlyTests):
			outWhy[c.ID] = "the patch changes only test files, which are restored before runs: out"
		case s.Status == RunUnknown || (s.Status != "" && s.Status != RunOK):
			s.Flags = append(s.Flags, FlagUnknown)
		}
		if _, out := outWhy[c.ID]; !out {
			live = append(live, c.ID)
			liveViews = append(liveViews, cv)
		}
	}
	consensus(liveViews, sig)
	exec, notes := readMatrix(in.Matrix, live, in.OriginalCases)
	v.Notes = append(v.Notes, notes...)
	hasTests := false
	for id, e := range exec {
		s := sig[id]
		s.FPPP, s.FP, s.PP = e.fppp, e.fp, e.pp
		s.Regressions, s.GeneratedPassed = e.regressions, e.generatedPassed
		hasTests = hasTests || e.fppp != nil || e.regressions != nil
	}
	for _, s := range sig {
		sort.Strings(s.Flags)
	}

	concrete := p
	if p.Auto {
		hasVerifier := false
		for _, id := range live {
			hasVerifier = hasVerifier || sig[id].Verifier != nil
		}
		var why string
		concrete, why = resolveAuto(hasTests, hasVerifier)
		v.Notes = append(v.Notes, "auto: "+why)
	}
	o := applyPolicy(concrete, live, sig)
	v.Notes = append(v.Notes, o.notes...)

	for _, id := range o.order {
		v.Ranking = append(v.Ranking, Ranked{ID: id, Rank: o.rank[id], Signals: *sig[id], Keys: o.keys[id]})
	}
	next := len(o.order) + 1
	for _, id := range live {
		if why, ok := o.out[id]; ok {
			v.Ranking = append(v.Ranking, Ranked{ID: id, Rank: next, Signals: *sig[id], Out: why})
		}
	}
	for _, c := range in.Candidates {
		if why, ok := outWhy[c.ID]; ok {
			v.Ranking = append(v.Ranking, Ranked{ID: c.ID, Signals: *sig[c.ID], Out: why})
		}
	}
	if len(o.order) == 0 {
		v.Why = "no candidate can be chosen: every patch is empty, only touches tests, or does not apply"
		return v, nil
	}
	v.Chosen = o.order[0]
	for _, id := range o.order {
		if o.rank[id] == 1 {
			v.Ties = append(v.Ties, id)
		}
	}
	if len(v.Ties) < 2 {
		v.Ties = nil
	}
	v.Why = explain(v, o, sig)
	return v, nil
}

func checkCandidates(cs []Candidate) error {
	seen := map[string]bool{}
	for i, c := range cs {
		if c.ID == "" {
			return fmt.Errorf("candidate %d has no ID: give every candidate a unique ID", i+1)
		}
		if seen[c.ID] {
			return fmt.Errorf("candidate ID %q appears twice: IDs must be unique within a job", c.ID)
		}
		seen[c.ID] = true
		if c.Verifier != nil && (*c.Verifier < 0 || *c.Verifier > 1) {
			return fmt.Errorf("candidate %q: verifier score %g is outside [0, 1]", c.ID, *c.Verifier)
		}
	}
	return nil
}

// explain writes the verdict's Why: the keys that decided, and the tie rule
// when one did.
func explain(v Verdict, o ordering, sig map[string]*Signals) string {
	var b strings.Builder
	fmt.Fprintf(&b, "chose %s by policy %s", v.Chosen, v.Policy)
	var parts []string
	for i, name := range o.keyNames {
		if k := o.keys[v.Chosen][i]; k != nil {
			parts = append(parts, fmt.Sprintf("%s %.4g", name, *k))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, "; "))
	}
	if len(v.Ties) > 1 {
		runnerUp := o.order[1]
		rule := "the smaller candidate ID"
		if sig[v.Chosen].ChangedLines != sig[runnerUp].ChangedLines {
			rule = fmt.Sprintf("fewer changed lines (%d against %d)", sig[v.Chosen].ChangedLines, sig[runnerUp].ChangedLines)
		}
		fmt.Fprintf(&b, "; tied on every key with %d other candidate(s), won the tie-break on %s", len(v.Ties)-1, rule)
	}
	return b.String()
}
