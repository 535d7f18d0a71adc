package scoring

import (
	"fmt"

	"github.com/bestpatch/bestpatch/executor/outcome"
)

// executionSignals are the signals read from the outcome matrix for one
// candidate. Nil pointers mean "no evidence" (unknown run, no such tests).
type executionSignals struct {
	fppp            *float64
	fp, pp          int
	regressions     *int
	generatedPassed *int
}

// caseSet is a set of test case IDs by artifact ID.
type caseSet map[string]map[string]bool

func (s caseSet) has(artifact, c string) bool { return s[artifact][c] }

func flakySet(m *Matrix) caseSet {
	s := caseSet{}
	for a, cases := range m.Flaky {
		s[a] = map[string]bool{}
		for _, c := range cases {
			s[a][c] = true
		}
	}
	return s
}

// baseTerms are what every candidate's execution signals are measured
// against: the reproducing generated tests, the original cases that guard
// against regressions and those that fail on base, and the denominators.
type baseTerms struct {
	flaky       caseSet
	reproducing []string
	sumF, sumP  int
	guarded     []caseRef
	failing     []caseRef
}

// caseRef names one case of one artifact.
type caseRef struct{ artifact, c string }

// present reports which execution signals a completed run has: FP/PP when
// some case fails on base, regressions when some original case passes on
// base, generated tests passed when some generated test reproduces.
func (t baseTerms) present() (fppp, regressions, generated bool) {
	return len(t.reproducing) > 0 || len(t.failing) > 0, len(t.guarded) > 0, len(t.reproducing) > 0
}

// readBase computes the base terms of a matrix whose base row holds
// evidence, and the notes a reader needs about them.
func readBase(m *Matrix) (baseTerms, []string) {
	var notes []string
	flaky := flakySet(m)
	// Reproducing generated tests and the denominators.
	var reproducing []string
	sumF, sumP := 0, 0
	generated := 0
	for _, a := range m.Artifacts {
		if !a.Generated {
			continue
		}
		generated++
		f, p := 0, 0
		for c, o := range m.Base.Cases[a.ID] {
			if flaky.has(a.ID, c) {
				continue
			}
			switch o {
			case outcome.Fail:
				f++
			case outcome.Pass:
				p++
			}
		}
		if f == 0 {
			notes = append(notes, fmt.Sprintf("generated test %s reproduces nothing (no case fails on base): left out of FP/PP", a.ID))
			continue
		}
		reproducing = append(reproducing, a.ID)
		sumF += f
		sumP += p
	}

	// Original cases: those that pass on base guard against regressions;
	// those that fail on base are reproduction evidence the task already
	// has (a related test of the issue, failing): a candidate that makes one
	// pass earns FP, as with a generated test's failing case.
	var guarded, failing []caseRef
	originals := 0
	for _, a := range m.Artifacts {
		if a.Generated {
			continue
		}
		originals++
		for c, o := range m.Base.Cases[a.ID] {
			switch {
			case flaky.has(a.ID, c):
			case o == outcome.Pass:
				guarded = append(guarded, caseRef{a.ID, c})
			case o == outcome.Fail:
				failing = append(failing, caseRef{a.ID, c})
			}
		}
	}
	sumF += len(failing)
	switch {
	case generated > 0 && len(reproducing) == 0 && len(failing) == 0:
		notes = append(notes, "FP/PP left out: no generated test fails on base (ΣF = 0)")
	case len(reproducing) > 0 && sumP == 0:
		notes = append(notes, "FP/PP: PP term left out: no case of a reproducing generated test passes on base (ΣP = 0)")
	}
	if len(failing) > 0 {
		notes = append(notes, fmt.Sprintf("%d original case(s) fail on base: reproduction evidence, counted in FP/PP (FP when a candidate makes one pass)", len(failing)))
	}
	if originals > 0 && len(guarded) == 0 {
		notes = append(notes, "regressions left out: no counted original case passes on base")
	}

	return baseTerms{flaky: flaky, reproducing: reproducing, sumF: sumF, sumP: sumP, guarded: guarded, failing: failing}, notes
}

// readMatrix computes the execution signals of every candidate in ids (those
// still in play) and the notes a reader needs: quarantined cases, generated
// tests left out, terms left out for an empty denominator.
//
// Kimi-Dev's self-play score: for each reproducing generated test j, F(j) and
// P(j) count its cases failing and passing on base (ERROR and SKIP on base
// count as neither; flaky cases are left out). For candidate i, FP(i,j)
// counts cases failing on base and passing with i, PP(i,j) cases passing on
// base and still passing. S_i = ΣFP/ΣF + ΣPP/ΣP. A generated test with F(j)=0
// reproduces nothing and is left out, as Kimi-Dev does. The original cases
// that fail on base join ΣF and FP (a candidate that makes the issue's
// failing test pass reproduces it too); those that pass on base count as
// regressions, not in PP. A term whose denominator is zero is left out (and
// noted), so S_i then lies in [0, 1].
//
// A case expected from the base run but absent from a candidate's row is
// ERROR: it did not run, so it is never a pass.
func readMatrix(m *Matrix, ids []string) (map[string]executionSignals, []string) {
	out := make(map[string]executionSignals, len(ids))
	var notes []string
	if m == nil {
		return out, nil
	}
	if m.Base.Status != RunOK && m.Base.Status != "" {
		return out, []string{fmt.Sprintf("base run %s (%s): execution signals left out", m.Base.Status, m.Base.Reason)}
	}
	flaky := flakySet(m)
	quarantined := 0
	for _, cases := range flaky {
		quarantined += len(cases)
	}
	if quarantined > 0 {
		notes = append(notes, fmt.Sprintf("%d flaky case(s) quarantined: left out of every score", quarantined))
	}

	t, baseNotes := readBase(m)
	notes = append(notes, baseNotes...)
	reproducing, sumF, sumP, guarded, failing := t.reproducing, t.sumF, t.sumP, t.guarded, t.failing
	unknown := 0
	for _, id := range ids {
		row, ok := m.Candidates[id]
		if !ok || (row.Status != RunOK && row.Status != "") {
			if !ok || row.Status == RunUnknown {
				unknown++
			}
			continue
		}
		var s executionSignals
		if len(reproducing) > 0 || len(failing) > 0 {
			passed := 0
			for _, a := range reproducing {
				all := true
				for c, base := range m.Base.Cases[a] {
					if flaky.has(a, c) || (base != outcome.Pass && base != outcome.Fail) {
						continue
					}
					got := row.Cases[a][c] // absent: zero Outcome, never Pass
					switch {
					case got == outcome.Pass && base == outcome.Fail:
						s.fp++
					case got == outcome.Pass && base == outcome.Pass:
						s.pp++
					default:
						all = false
					}
				}
				if all {
					passed++
				}
			}
			for _, r := range failing {
				if row.Cases[r.artifact][r.c] == outcome.Pass {
					s.fp++
				}
			}
			v := float64(s.fp) / float64(sumF)
			if sumP > 0 {
				v += float64(s.pp) / float64(sumP)
			}
			s.fppp = &v
			if len(reproducing) > 0 {
				s.generatedPassed = &passed
			}
		}
		if len(guarded) > 0 {
			n := 0
			for _, r := range guarded {
				switch got, ok := row.Cases[r.artifact][r.c]; {
				case !ok, got == outcome.Fail, got == outcome.Error:
					n++
				}
			}
			s.regressions = &n
		}
		out[id] = s
	}
	if unknown > 0 {
		notes = append(notes, fmt.Sprintf("%d candidate(s) without evidence (timeout, infrastructure error or no run): execution signals unknown, ranked below any evidence", unknown))
	}
	return out, notes
}

// The execution signals, read from the outcome matrix.
const (
	SignalFPPP            Signal = "fppp"             // Kimi-Dev S_i, [0, 2]
	SignalRegressions     Signal = "regressions"      // broken original cases, lower is better
	SignalGeneratedPassed Signal = "generated_passed" // reproducing generated tests fully passed
)

var (
	fpppSignal = SignalDef{Name: SignalFPPP, Unit: "[0, 2]", Execution: true, Column: "FP/PP", Format: "%.3f",
		Doc: "Kimi-Dev's self-play score S = ΣFP/ΣF + ΣPP/ΣP: the failing-on-base cases it makes pass, plus the passing ones it keeps passing, each as a share",
		value: func(s *Signals) (float64, bool) {
			if s.FPPP == nil {
				return 0, false
			}
			return *s.FPPP, true
		}}
	regressionsSignal = SignalDef{Name: SignalRegressions, Unit: "test cases", Execution: true, Column: "regressions", Format: "%.0f", lowerIsBetter: true,
		Doc: "the original test cases passing on base that the candidate breaks",
		value: func(s *Signals) (float64, bool) {
			if s.Regressions == nil {
				return 0, false
			}
			return float64(*s.Regressions), true
		}}
	generatedPassedSignal = SignalDef{Name: SignalGeneratedPassed, Unit: "generated tests", Execution: true, Column: "gen passed", Format: "%.0f",
		Doc: "the reproducing generated tests the candidate passes whole",
		value: func(s *Signals) (float64, bool) {
			if s.GeneratedPassed == nil {
				return 0, false
			}
			return float64(*s.GeneratedPassed), true
		}}
)
