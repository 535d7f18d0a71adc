package scoring

import (
	"fmt"
	"maps"
	"math"
	"sort"
	"strings"

	"github.com/bestpatch/bestpatch/executor/testfile"
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
	// TestFiles says which files are test files: the same matcher the
	// executor strips them with (the task's test_files, or its format's
	// defaults). Changes to them are flagged (only_tests, touches_tests) and
	// left out of the change consensus compares. The zero value matches no
	// file.
	TestFiles testfile.Matcher
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
	a, err := Assess(in)
	if err != nil {
		return Verdict{}, err
	}
	return a.Select(p)
}

// Assessment is every candidate's signals for one job, computed once, so
// that several policies can rank the same job without recomputing them.
type Assessment struct {
	candidates  []Candidate
	views       []view // by candidate, in input order
	sig         map[string]*Signals
	live        []string          // candidates in play, input order
	outWhy      map[string]string // candidates out before any policy, and why
	notes       []string
	hasTests    bool
	hasVerifier bool
	hasPrior    bool
	// executed: a matrix was given (the job ran its tests).
	executed bool
	// baseCases counts the base run's cases that count; baseWhy says why
	// the base holds no evidence, when it does not.
	baseCases int
	baseWhy   string
	// unknownWhy holds, for the candidates in play without evidence, why.
	unknownWhy map[string]string
	// notRun holds the candidates in play that were not run (RunNotRun).
	notRun map[string]bool
}

// Assess computes the signals of every candidate: normalization and the
// execution-free signals, and the execution signals when a matrix is given.
func Assess(in Input) (*Assessment, error) {
	if err := checkCandidates(in.Candidates); err != nil {
		return nil, err
	}
	a := &Assessment{
		candidates: in.Candidates,
		sig:        make(map[string]*Signals, len(in.Candidates)),
		outWhy:     map[string]string{},
		executed:   in.Matrix != nil,
		unknownWhy: map[string]string{},
		notRun:     map[string]bool{},
	}
	if in.Matrix != nil {
		a.baseCases, a.baseWhy = baseEvidence(in.Matrix)
	}
	var liveViews []view
	a.views = viewsOf(in.Candidates, in.Sources, in.TestFiles)
	for i, c := range in.Candidates {
		cv := a.views[i]
		s := &Signals{Verifier: c.Verifier, Prior: c.Prior, Flags: flagsOf(cv)}
		a.sig[c.ID] = s
		unknownWhy := "no run recorded"
		if in.Matrix != nil {
			s.Status = RunUnknown // no row: no evidence
			if row, ok := in.Matrix.Candidates[c.ID]; ok {
				s.Status = row.Status
				if s.Status == "" {
					s.Status = RunOK // a row with no status holds evidence
				}
				if row.Reason != "" {
					unknownWhy = row.Reason
				}
			}
		}
		switch why := patchOut(s.Flags); {
		case s.Status == RunApplyFailed:
			s.Flags = append(s.Flags, FlagApplyFailed)
			a.outWhy[c.ID] = "the patch does not apply: out"
		case s.Status == RunEmpty:
			if !hasFlag(s.Flags, FlagEmpty) {
				s.Flags = append(s.Flags, FlagEmpty)
			}
			a.outWhy[c.ID] = "the patch leaves the tree unchanged: out"
		case why != "":
			a.outWhy[c.ID] = why
		case s.Status == RunNotRun:
			s.Flags = append(s.Flags, FlagNotRun)
			a.notRun[c.ID] = true
		case s.Status != "" && s.Status != RunOK:
			s.Flags = append(s.Flags, FlagUnknown)
			a.unknownWhy[c.ID] = unknownWhy
		}
		if _, out := a.outWhy[c.ID]; !out {
			a.live = append(a.live, c.ID)
			liveViews = append(liveViews, cv)
			a.hasVerifier = a.hasVerifier || c.Verifier != nil
			a.hasPrior = a.hasPrior || c.Prior != nil
		}
	}
	consensus(liveViews, a.sig, treesOf(in.Matrix, a.live))
	exec, notes := readMatrix(in.Matrix, a.live)
	a.notes = notes
	for id, e := range exec {
		s := a.sig[id]
		s.FPPP, s.FP, s.PP = e.fppp, e.fp, e.pp
		s.Regressions, s.GeneratedPassed = e.regressions, e.generatedPassed
		a.hasTests = a.hasTests || e.fppp != nil || e.regressions != nil
	}
	editConsensus(liveViews, a.sig)
	computeSignals(signalInput{matrix: in.Matrix, live: a.live, views: liveViews, sig: a.sig})
	for _, s := range a.sig {
		sort.Strings(s.Flags)
	}
	return a, nil
}

// patchOut says why a candidate is out on its patch alone (flagsOf), or ""
// when it is not: whatever its run shows, it takes no part.
func patchOut(flags []string) string {
	switch {
	case hasFlag(flags, FlagEmpty):
		return "the patch changes nothing once whitespace and comments are normalized: out"
	case hasFlag(flags, FlagOnlyTests):
		return "the patch changes only test files, which the executor leaves out of every run: out"
	case hasFlag(flags, FlagOnlyScratch):
		return "the patch only adds scripts at the repository root (reproduction scripts): no fix, out"
	}
	return ""
}

// treesOf returns the trees the runs of the candidates in ids left
// (Row.Tree), for those whose run completed; nil without a matrix.
func treesOf(m *Matrix, ids []string) map[string]string {
	if m == nil {
		return nil
	}
	trees := map[string]string{}
	for _, id := range ids {
		if row, ok := m.Candidates[id]; ok && row.Tree != "" && (row.Status == RunOK || row.Status == "") {
			trees[id] = row.Tree
		}
	}
	return trees
}

// Signals returns a copy of one candidate's signals.
func (a *Assessment) Signals(id string) (Signals, bool) {
	s, ok := a.sig[id]
	if !ok {
		return Signals{}, false
	}
	return s.clone(), true
}

func (s *Signals) clone() Signals {
	c := *s
	c.Flags = append([]string(nil), s.Flags...)
	c.Extra = maps.Clone(s.Extra)
	return c
}

// Select ranks the assessed candidates under a policy. Candidates that
// change test files (tampering) are ranked apart, below every clean
// candidate, whatever the policy. A job that ran its tests but got no
// evidence from them (no base case, no candidate run completed) abstains:
// the verdict chooses nothing and says why.
func (a *Assessment) Select(p Policy) (Verdict, error) {
	if err := p.Validate(); err != nil {
		return Verdict{}, err
	}
	v := Verdict{Policy: p.Name, Notes: append([]string(nil), a.notes...)}
	concrete := p
	if p.Auto {
		var why string
		concrete, why = resolveAuto(a.hasTests, a.hasVerifier, a.hasPrior)
		v.Notes = append(v.Notes, "auto: "+why)
	}
	v.Basis = a.basis()

	var clean, tampering []string
	for _, id := range a.live {
		switch {
		case a.notRun[id]:
			// Not run: no part in the ranking (listed after it, below).
		case hasFlag(a.sig[id].Flags, FlagTouchesTests):
			tampering = append(tampering, id)
		default:
			clean = append(clean, id)
		}
	}
	v.Basis.Tampering = tampering
	o := applyPolicy(concrete, [][]string{clean, tampering}, a.sig)
	v.Notes = append(v.Notes, o.notes...)
	for _, id := range o.listed {
		v.Ranking = append(v.Ranking, Ranked{ID: id, Rank: o.rank[id], Signals: a.sig[id].clone(), Keys: o.keys[id], Out: o.out[id]})
	}
	for _, id := range a.live {
		if a.notRun[id] {
			v.Ranking = append(v.Ranking, Ranked{ID: id, Signals: a.sig[id].clone(), Out: NotRunReason})
		}
	}
	if n := len(v.Basis.NotRun); n > 0 {
		v.Notes = append(v.Notes, fmt.Sprintf("%d candidate(s) not run: nothing their runs could show would change the choice or the ties (adaptive execution); they are not ranked, and count as in play for the execution-free signals", n))
	}
	for _, c := range a.candidates {
		if why, ok := a.outWhy[c.ID]; ok {
			v.Ranking = append(v.Ranking, Ranked{ID: c.ID, Signals: a.sig[c.ID].clone(), Out: why})
		}
	}
	switch {
	case len(tampering) > 0 && len(clean) > 0:
		v.Notes = append(v.Notes, fmt.Sprintf("%d candidate(s) change test files (tampering: %s): ranked below every clean candidate", len(tampering), strings.Join(tampering, ", ")))
	case len(tampering) > 0:
		v.Notes = append(v.Notes, "every candidate in play changes test files (tampering): the choice is among them; the test files they change are restored before the runs")
	}
	if why := a.abstain(); why != "" {
		v.Abstained = why
		v.Basis.Execution = EvidenceNone
		v.Why = "abstained: " + why
		for i := range v.Ranking {
			v.Ranking[i].Rank = 0 // no rank without evidence; signals stay
		}
		return v, nil
	}
	if len(o.order) == 0 {
		v.Why = "no candidate can be chosen: every patch is empty, only touches tests, or does not apply"
		return v, nil
	}
	v.Basis.Signals = o.used
	v.Basis.DecidedBy = decidedBy(o, a.sig)
	v.Chosen = o.order[0]
	for _, id := range o.order {
		if o.rank[id] == 1 {
			v.Ties = append(v.Ties, id)
		}
	}
	if len(v.Ties) < 2 {
		v.Ties = nil
	}
	v.Why = explain(v, o, a.sig)
	return v, nil
}

// baseEvidence counts the base run's cases that count (flaky ones left
// out) and says why the base holds no evidence, when it holds none.
func baseEvidence(m *Matrix) (int, string) {
	if m.Base.Status != RunOK && m.Base.Status != "" {
		return 0, fmt.Sprintf("the base run ended %s (%s)", m.Base.Status, orDefault(m.Base.Reason, "no reason given"))
	}
	flaky := flakySet(m)
	n, quarantined := 0, 0
	for a, cs := range m.Base.Cases {
		for c := range cs {
			if flaky.has(a, c) {
				quarantined++
			} else {
				n++
			}
		}
	}
	switch {
	case n > 0:
		return n, ""
	case quarantined > 0:
		return 0, fmt.Sprintf("every test case of the base run (%d) is flaky", quarantined)
	case m.Base.Reason != "":
		return 0, m.Base.Reason
	default:
		return 0, "the base run produced no test case that parses and counts (check test_command, test_format and original_tests)"
	}
}

// basis reports the execution evidence of the candidates in play.
func (a *Assessment) basis() Basis {
	b := Basis{Execution: EvidenceExecutionFree, BaseCases: a.baseCases}
	if !a.executed {
		return b
	}
	for _, id := range a.live {
		if _, unknown := a.unknownWhy[id]; unknown {
			b.Unknown = append(b.Unknown, id)
		} else if a.notRun[id] {
			b.NotRun = append(b.NotRun, id)
		} else {
			b.Executed = append(b.Executed, id)
		}
	}
	switch {
	case a.baseWhy != "" || len(b.Executed) == 0:
		b.Execution = EvidenceNone
	case len(b.Unknown) > 0:
		b.Execution = EvidencePartial
	default:
		b.Execution = EvidenceFull
	}
	return b
}

// abstain says why a job that ran its tests cannot choose on their
// evidence, or "" when it can (or ran nothing, as asked).
func (a *Assessment) abstain() string {
	if !a.executed || len(a.live) == 0 {
		return ""
	}
	if a.baseWhy != "" {
		return a.baseWhy + ": there is no test evidence to compare the candidates against"
	}
	var reasons []string
	for _, id := range a.live {
		why, unknown := a.unknownWhy[id]
		if a.notRun[id] {
			why, unknown = NotRunReason, true
		}
		if !unknown {
			return ""
		}
		if len(reasons) < 3 {
			reasons = append(reasons, id+": "+why)
		}
	}
	more := ""
	if n := len(a.live) - len(reasons); n > 0 {
		more = fmt.Sprintf("; %d more", n)
	}
	return fmt.Sprintf("no candidate's run completed (timeout or infrastructure failure: %s%s)", strings.Join(reasons, "; "), more)
}

// decidedBy says what put the first of an ordering first.
func decidedBy(o ordering, sig map[string]*Signals) string {
	first := o.order[0]
	tampering := 0
	for _, id := range o.listed {
		if o.tier[id] > 0 {
			tampering++
		}
	}
	if len(o.order) == 1 || o.tier[o.order[1]] != o.tier[first] {
		// Alone in its tier once the filters ran.
		switch {
		case len(o.filteredBy) > 0 && tampering > 0:
			return "filters " + strings.Join(o.filteredBy, ", ") + " left it alone among the clean candidates; the others change test files (tampering)"
		case len(o.filteredBy) > 0:
			return "filters " + strings.Join(o.filteredBy, ", ") + " left it alone"
		case tampering > 0:
			return "the others change test files (tampering)"
		default:
			return "the only candidate in play"
		}
	}
	second := o.order[1]
	for i, name := range o.keyNames {
		x, y := o.keys[first][i], o.keys[second][i]
		if (x == nil) != (y == nil) || (x != nil && math.Abs(*x-*y) > eps) {
			return "key " + name
		}
	}
	if sig[first].ChangedLines != sig[second].ChangedLines {
		return "tie-break: fewer changed lines"
	}
	return "tie-break: the smaller candidate ID"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
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
		if c.Prior != nil && (*c.Prior < 0 || *c.Prior > 1) {
			return fmt.Errorf("candidate %q: prior %g is outside [0, 1]", c.ID, *c.Prior)
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
