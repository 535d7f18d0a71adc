package selector

import (
	"slices"
	"strings"

	"github.com/bluekeyes/go-gitdiff/gitdiff"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/outcome"
	"github.com/bestpatch/bestpatch/executor/testfile"
	"github.com/bestpatch/bestpatch/scoring"
)

// declaredTests is what a generated test patch adds: its files, each with
// the test functions it declares. Cases are attributed to artifacts by them,
// the way the task's format maps a case ID to its file and function.
type declaredTests struct {
	format  *executor.FormatSpec
	sources []executor.TestSource
}

// declare reads the files and test functions a test patch adds. A patch that
// does not parse declares nothing; its cases then count as the original
// suite's, and the base run reports the patch as not applying.
func declare(format *executor.FormatSpec, patch string) declaredTests {
	d := declaredTests{format: format}
	files, _, err := gitdiff.Parse(strings.NewReader(patch))
	if err != nil {
		return d
	}
	for _, f := range files {
		if f.NewName == "" {
			continue
		}
		src := executor.TestSource{Path: f.NewName}
		for _, frag := range f.TextFragments {
			for _, l := range frag.Lines {
				if l.Op != gitdiff.OpAdd {
					continue
				}
				if fn, ok := format.DeclaredFunc(l.Line); ok {
					src.Funcs = append(src.Funcs, fn)
				}
			}
		}
		d.sources = append(d.sources, src)
	}
	return d
}

// owns reports whether a case ID comes from one of the test patch's files.
func (d declaredTests) owns(caseID string) bool {
	for _, src := range d.sources {
		if d.format.Owns(caseID, src) {
			return true
		}
	}
	return false
}

// attribute returns the artifact a case belongs to among the given tests.
func (p *Plan) attribute(caseID string, tests []executor.TestPatch) string {
	for _, t := range tests {
		if p.declared[t.ID].owns(caseID) {
			return t.ID
		}
	}
	return OriginalArtifact
}

// counts reports whether an original case is one of those that count: it
// matches the task's OriginalTests, and its PassToPass names it.
func (p *Plan) counts(caseID string) bool {
	if !p.p2p.counts(caseID) {
		return false
	}
	pats := p.job.Task.OriginalTests
	if len(pats) == 0 {
		return true
	}
	for _, pat := range pats {
		if testfile.Glob(pat, caseID) {
			return true
		}
	}
	return false
}

// cases sorts a result's cases into artifacts: a case attributed to one of
// `tests` goes there, any other case to the original suite (if it counts).
// Only artifacts in `keep` are filled.
func (p *Plan) cases(res executor.Result, tests []executor.TestPatch, keep map[string]bool, into map[string]map[string]outcome.Outcome) {
	for _, c := range res.Cases {
		a := p.attribute(c.ID, tests)
		if !keep[a] || (a == OriginalArtifact && !p.counts(c.ID)) {
			continue
		}
		if into[a] == nil {
			into[a] = map[string]outcome.Outcome{}
		}
		into[a][c.ID] = c.Outcome
	}
}

// Matrix assembles the outcome matrix from the recorded results. Call it
// when Done.
func (p *Plan) Matrix() scoring.Matrix { return p.matrix(len(p.groups)) }

// matrix assembles the outcome matrix; with adaptive execution, the groups
// past the first ran in the run order, and those whose evidence is not all
// in, get rows not run.
func (p *Plan) matrix(ran int) scoring.Matrix {
	kept := p.keptTests()
	keep := map[string]bool{OriginalArtifact: true}
	m := scoring.Matrix{Artifacts: []scoring.Artifact{{ID: OriginalArtifact}}, Candidates: map[string]scoring.Row{}}
	for _, t := range kept {
		keep[t.ID] = true
		m.Artifacts = append(m.Artifacts, scoring.Artifact{ID: t.ID, Generated: true})
	}

	// The base row.
	m.Base = scoring.Row{Status: scoring.RunOK, Cases: map[string]map[string]outcome.Outcome{}}
	first := p.results["base/1"]
	switch why := p.halted(); {
	case why != "":
		m.Base.Status, m.Base.Reason = scoring.RunUnknown, "not run: "+why
	case p.awaitingRelated():
		sel, _ := p.selection()
		m.Base.Status, m.Base.Reason = scoring.RunUnknown, "not run yet: "+sel.none+"; the open job waits for a candidate whose changes have related tests (or for its close)"
	case first.Status != executor.Completed:
		m.Base.Status, m.Base.Reason = rowStatus(first)
	default:
		m.Base.Reason = p.notRun()
	}
	// The reference base run: the one that ran the original suite with the
	// kept tests. Every other base run is compared with it, case by case
	// where both have the case, to find flaky cases.
	ref := "base/1"
	switch p.mode() {
	case modeIsolated:
		ref = ""
		p.cases(p.results["base/iso/"+OriginalArtifact], nil, keep, m.Base.Cases)
		for _, t := range kept {
			p.cases(p.results["base/iso/gen:"+t.ID], []executor.TestPatch{t}, map[string]bool{t.ID: true}, m.Base.Cases)
		}
	case modeScreened:
		ref = "base/2"
	}
	if ref != "" {
		p.cases(p.results[ref], p.tests, keep, m.Base.Cases)
	}

	// Flaky cases: outcomes that differ between repeated base runs.
	for _, r := range p.baseRepeats() {
		if r.ID == ref {
			continue
		}
		again := map[string]map[string]outcome.Outcome{}
		p.cases(p.results[r.ID], p.tests, keep, again)
		for a, cs := range again {
			for id, o := range cs {
				if before, ok := m.Base.Cases[a][id]; ok && before != o && !slices.Contains(m.Flaky[a], id) {
					if m.Flaky == nil {
						m.Flaky = map[string][]string{}
					}
					m.Flaky[a] = append(m.Flaky[a], id)
				}
			}
		}
	}
	for a := range m.Flaky {
		slices.Sort(m.Flaky[a])
	}

	notRun := map[*group]bool{}
	if p.adaptiveOn() && p.halted() == "" {
		for i, g := range p.runOrder() {
			notRun[g] = i >= ran || !p.groupComplete(g)
		}
	}
	for i := range p.groups {
		g := &p.groups[i]
		row := p.candidateRow(g, kept, keep, m.Base.Cases)
		if notRun[g] {
			// Not run (adaptive execution): no evidence either way.
			row = scoring.Row{Status: scoring.RunNotRun, Reason: scoring.NotRunReason}
		}
		for _, id := range g.members {
			m.Candidates[id] = row
		}
	}
	for _, id := range p.empty {
		m.Candidates[id] = scoring.Row{Status: scoring.RunEmpty, Reason: "the patch is empty"}
	}
	return m
}

// candidateRow assembles one group's evidence from its evidence run, or
// from its isolation runs when that run was broken by the candidate.
func (p *Plan) candidateRow(g *group, kept []executor.TestPatch, keep map[string]bool, expected map[string]map[string]outcome.Outcome) scoring.Row {
	run, ok := p.evidenceRun(g)
	full, recorded := p.results[run.ID]
	if !ok || !recorded {
		return scoring.Row{Status: scoring.RunUnknown, Reason: "no result recorded"}
	}
	row := scoring.Row{Status: scoring.RunOK, Tree: full.Tree, Cases: map[string]map[string]outcome.Outcome{}}
	if full.Status != executor.Completed {
		row.Status, row.Reason = rowStatus(full)
		if row.Status != scoring.RunUnknown {
			row.Cases = nil
			return row
		}
	}
	got := map[string]map[string]outcome.Outcome{}
	if len(p.tests) == 0 {
		p.cases(full, nil, keep, got)
	} else if orig, isolated := p.results["cand/"+g.key+"/iso/"+OriginalArtifact]; isolated && p.poisoned(full) {
		p.cases(orig, nil, keep, got)
		for _, t := range kept {
			if r, ok := p.results["cand/"+g.key+"/iso/gen:"+t.ID]; ok {
				if r.Status == executor.TimedOut || r.Status == executor.Infra {
					row.Status, row.Reason = rowStatus(r)
				}
				p.cases(r, []executor.TestPatch{t}, map[string]bool{t.ID: true}, got)
			}
		}
		if orig.Status == executor.TimedOut || orig.Status == executor.Infra {
			row.Status, row.Reason = rowStatus(orig)
		}
	} else {
		p.cases(full, p.tests, keep, got)
	}
	// Every case the base produced is expected; one that did not run is ERROR.
	for a, cs := range expected {
		row.Cases[a] = map[string]outcome.Outcome{}
		for id := range cs {
			o, ran := got[a][id]
			if !ran {
				o = outcome.Error
			}
			row.Cases[a][id] = o
		}
	}
	return row
}

// rowStatus maps an executor status to the matrix's.
func rowStatus(r executor.Result) (scoring.RunStatus, string) {
	switch r.Status {
	case executor.Completed:
		return scoring.RunOK, ""
	case executor.ApplyFailed:
		return scoring.RunApplyFailed, orDefault(r.Reason, "the patch does not apply")
	case executor.EmptyPatch:
		return scoring.RunEmpty, orDefault(r.Reason, "the patch changes nothing")
	case executor.TimedOut:
		return scoring.RunUnknown, orDefault(r.Reason, "the tests timed out")
	default:
		return scoring.RunUnknown, orDefault(r.Reason, "infrastructure failure")
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
