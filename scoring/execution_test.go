package scoring

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor/outcome"
)

// onePatch returns a distinct, parseable one-line patch.
func onePatch(i int) string {
	return fmt.Sprintf("--- a/pkg/f.py\n+++ b/pkg/f.py\n@@ -1,1 +1,1 @@\n-x = 0\n+x = %d\n", i+1)
}

// cases builds an artifact's cases from "case=OUTCOME" pairs.
func cases(pairs ...string) map[string]outcome.Outcome {
	m := map[string]outcome.Outcome{}
	for _, p := range pairs {
		name, o, _ := strings.Cut(p, "=")
		v, err := outcome.Parse(o)
		if err != nil {
			panic(err)
		}
		m[name] = v
	}
	return m
}

func okRow(arts map[string]map[string]outcome.Outcome) Row { return Row{Status: RunOK, Cases: arts} }

func ptr[T any](v T) *T { return &v }

func TestFPPP(t *testing.T) {
	gen := []Artifact{{ID: "g1", Generated: true}, {ID: "g2", Generated: true}}
	tests := []struct {
		name      string
		artifacts []Artifact
		base      map[string]map[string]outcome.Outcome
		flaky     map[string][]string
		row       Row
		want      *float64 // nil: FP/PP absent
		fp, pp    int
		passed    *int
		note      string // a note that must appear
	}{
		{
			name:      "both terms",
			artifacts: gen,
			base:      map[string]map[string]outcome.Outcome{"g1": cases("a=FAIL", "b=PASS"), "g2": cases("c=FAIL", "d=FAIL", "e=PASS")},
			row:       okRow(map[string]map[string]outcome.Outcome{"g1": cases("a=PASS", "b=PASS"), "g2": cases("c=PASS", "d=FAIL", "e=FAIL")}),
			// ΣF = 3, ΣP = 2; FP = 2 (a, c), PP = 1 (b).
			want: ptr(2.0/3 + 1.0/2), fp: 2, pp: 1, passed: ptr(1),
		},
		{
			name:      "no generated tests at all: absent, nothing to note",
			artifacts: []Artifact{{ID: "orig"}},
			base:      map[string]map[string]outcome.Outcome{"orig": cases("a=PASS")},
			row:       okRow(map[string]map[string]outcome.Outcome{"orig": cases("a=PASS")}),
			want:      nil,
		},
		{
			name:      "no generated test reproduces (ΣF = 0): absent and noted",
			artifacts: gen,
			base:      map[string]map[string]outcome.Outcome{"g1": cases("a=PASS"), "g2": cases("b=PASS", "c=ERROR")},
			row:       okRow(map[string]map[string]outcome.Outcome{"g1": cases("a=PASS"), "g2": cases("b=PASS", "c=PASS")}),
			want:      nil,
			note:      "ΣF = 0",
		},
		{
			name:      "no case passes on base (ΣP = 0): PP term left out and noted",
			artifacts: gen,
			base:      map[string]map[string]outcome.Outcome{"g1": cases("a=FAIL", "b=FAIL")},
			row:       okRow(map[string]map[string]outcome.Outcome{"g1": cases("a=PASS", "b=FAIL")}),
			want:      ptr(0.5), fp: 1, passed: ptr(0),
			note: "ΣP = 0",
		},
		{
			name:      "a non-reproducing generated test is left out of both sums",
			artifacts: gen,
			base:      map[string]map[string]outcome.Outcome{"g1": cases("a=FAIL"), "g2": cases("b=PASS", "c=PASS")},
			row:       okRow(map[string]map[string]outcome.Outcome{"g1": cases("a=PASS"), "g2": cases("b=PASS", "c=PASS")}),
			// g2 has F = 0: filtered out, so ΣP = 0 as well.
			want: ptr(1.0), fp: 1, passed: ptr(1),
			note: "generated test g2 reproduces nothing",
		},
		{
			name:      "ERROR and SKIP on base count as neither",
			artifacts: gen[:1],
			base:      map[string]map[string]outcome.Outcome{"g1": cases("a=FAIL", "b=ERROR", "c=SKIP", "d=PASS")},
			row:       okRow(map[string]map[string]outcome.Outcome{"g1": cases("a=PASS", "b=PASS", "c=PASS", "d=PASS")}),
			want:      ptr(2.0), fp: 1, pp: 1, passed: ptr(1),
		},
		{
			name:      "a case missing from the candidate's row is ERROR, never a pass",
			artifacts: gen[:1],
			base:      map[string]map[string]outcome.Outcome{"g1": cases("a=FAIL", "b=PASS")},
			row:       okRow(map[string]map[string]outcome.Outcome{"g1": cases("a=PASS")}),
			want:      ptr(1.0), fp: 1, passed: ptr(0),
		},
		{
			name:      "flaky cases are quarantined",
			artifacts: gen[:1],
			base:      map[string]map[string]outcome.Outcome{"g1": cases("a=FAIL", "b=PASS", "f=FAIL")},
			flaky:     map[string][]string{"g1": {"f"}},
			row:       okRow(map[string]map[string]outcome.Outcome{"g1": cases("a=PASS", "b=PASS", "f=FAIL")}),
			want:      ptr(2.0), fp: 1, pp: 1, passed: ptr(1),
			note: "1 flaky case(s) quarantined",
		},
		{
			name:      "an original case failing on base is reproduction evidence",
			artifacts: []Artifact{gen[0], {ID: "orig"}},
			base:      map[string]map[string]outcome.Outcome{"g1": cases("a=FAIL", "b=PASS"), "orig": cases("o1=FAIL", "o2=PASS")},
			row:       okRow(map[string]map[string]outcome.Outcome{"g1": cases("a=PASS", "b=PASS"), "orig": cases("o1=PASS", "o2=PASS")}),
			// ΣF = 2 (a, o1), ΣP = 1 (b; o2 guards regressions, not PP).
			want: ptr(2.0/2 + 1.0/1), fp: 2, pp: 1, passed: ptr(1),
			note: "1 original case(s) fail on base",
		},
		{
			name:      "no generated test, an original case failing on base: FP/PP from it alone",
			artifacts: []Artifact{{ID: "orig"}},
			base:      map[string]map[string]outcome.Outcome{"orig": cases("o1=FAIL", "o2=FAIL", "o3=PASS")},
			row:       okRow(map[string]map[string]outcome.Outcome{"orig": cases("o1=PASS", "o2=FAIL", "o3=PASS")}),
			want:      ptr(0.5), fp: 1,
		},
		{
			name:      "an unknown run has no FP/PP",
			artifacts: gen[:1],
			base:      map[string]map[string]outcome.Outcome{"g1": cases("a=FAIL")},
			row:       Row{Status: RunUnknown, Reason: "timeout"},
			want:      nil,
			note:      "without evidence",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Matrix{
				Artifacts:  tt.artifacts,
				Base:       okRow(tt.base),
				Flaky:      tt.flaky,
				Candidates: map[string]Row{"c1": tt.row},
			}
			v, err := Score(Input{Candidates: []Candidate{{ID: "c1", Patch: onePatch(0)}}, Matrix: m}, mustPolicy(t, PolicyKimi))
			if err != nil {
				t.Fatal(err)
			}
			s := v.Ranking[0].Signals
			switch {
			case tt.want == nil && s.FPPP != nil:
				t.Errorf("FPPP = %v, want absent", *s.FPPP)
			case tt.want != nil && s.FPPP == nil:
				t.Errorf("FPPP absent, want %v", *tt.want)
			case tt.want != nil && math.Abs(*s.FPPP-*tt.want) > 1e-12:
				t.Errorf("FPPP = %v, want %v", *s.FPPP, *tt.want)
			}
			if s.FP != tt.fp || s.PP != tt.pp {
				t.Errorf("FP, PP = %d, %d, want %d, %d", s.FP, s.PP, tt.fp, tt.pp)
			}
			if (s.GeneratedPassed == nil) != (tt.passed == nil) || (tt.passed != nil && *s.GeneratedPassed != *tt.passed) {
				t.Errorf("GeneratedPassed = %v, want %v", deref(s.GeneratedPassed), deref(tt.passed))
			}
			if tt.note != "" && !anyContains(v.Notes, tt.note) {
				t.Errorf("notes %q lack %q", v.Notes, tt.note)
			}
		})
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func anyContains(ss []string, sub string) bool {
	for _, s := range ss {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func mustPolicy(t testing.TB, spec string) Policy {
	t.Helper()
	p, err := ParsePolicy(spec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRegressions(t *testing.T) {
	arts := []Artifact{{ID: "suite"}, {ID: "other"}}
	base := okRow(map[string]map[string]outcome.Outcome{
		"suite": cases("p1=PASS", "p2=PASS", "p3=PASS", "p4=PASS", "f1=FAIL", "e1=ERROR"),
		"other": cases("q1=PASS"),
	})
	tests := []struct {
		name  string
		base  *Row // nil: base
		row   Row
		flaky map[string][]string
		want  *int
	}{
		{
			name: "FAIL, ERROR and missing count; SKIP does not; cases not passing on base do not",
			row: okRow(map[string]map[string]outcome.Outcome{
				"suite": cases("p1=FAIL", "p2=ERROR", "p4=SKIP", "f1=FAIL", "e1=FAIL"),
				"other": cases("q1=PASS"),
			}),
			want: ptr(2 + 1), // p1, p2, p3 (missing)
		},
		{
			name:  "flaky cases are left out",
			row:   okRow(map[string]map[string]outcome.Outcome{"suite": cases("p1=FAIL", "p2=PASS", "p3=PASS", "p4=PASS"), "other": cases("q1=PASS")}),
			flaky: map[string][]string{"suite": {"p1"}},
			want:  ptr(0),
		},
		{
			name: "nothing passes on base: absent",
			base: &Row{Status: RunOK, Cases: map[string]map[string]outcome.Outcome{"suite": cases("f1=FAIL", "e1=ERROR")}},
			row:  okRow(nil),
			want: nil,
		},
		{
			name: "unknown run: absent",
			row:  Row{Status: RunUnknown},
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := base
			if tt.base != nil {
				b = *tt.base
			}
			m := &Matrix{Artifacts: arts, Base: b, Flaky: tt.flaky, Candidates: map[string]Row{"c1": tt.row}}
			a, err := Assess(Input{Candidates: []Candidate{{ID: "c1", Patch: onePatch(0)}}, Matrix: m})
			if err != nil {
				t.Fatal(err)
			}
			s, _ := a.Signals("c1")
			if (s.Regressions == nil) != (tt.want == nil) || (tt.want != nil && *s.Regressions != *tt.want) {
				t.Errorf("Regressions = %v, want %v", deref(s.Regressions), deref(tt.want))
			}
		})
	}
}

func TestBaseRunUnknownLeavesExecutionOut(t *testing.T) {
	m := &Matrix{
		Artifacts:  []Artifact{{ID: "g", Generated: true}},
		Base:       Row{Status: RunUnknown, Reason: "docker daemon gone"},
		Candidates: map[string]Row{"c1": okRow(map[string]map[string]outcome.Outcome{"g": cases("a=PASS")})},
	}
	v, err := Score(Input{Candidates: []Candidate{{ID: "c1", Patch: onePatch(0)}}, Matrix: m}, mustPolicy(t, PolicyKimi))
	if err != nil {
		t.Fatal(err)
	}
	if v.Ranking[0].Signals.FPPP != nil || !anyContains(v.Notes, "base run unknown") {
		t.Errorf("FPPP %v, notes %q: want absent and a note on the base run", deref(v.Ranking[0].Signals.FPPP), v.Notes)
	}
}

// TestFailClosed: a patch that does not apply or is empty is out and never
// inherits the base run's passing tests; an unknown run ranks below any run
// with evidence, even evidence of failure.
func TestFailClosed(t *testing.T) {
	gen := map[string]map[string]outcome.Outcome{"g": cases("a=FAIL", "b=PASS")}
	m := &Matrix{
		Artifacts: []Artifact{{ID: "g", Generated: true}},
		Base:      okRow(gen),
		Candidates: map[string]Row{
			"applyfail": {Status: RunApplyFailed, Reason: "git apply: corrupt patch"},
			"empty":     {Status: RunEmpty},
			"unknown":   {Status: RunUnknown, Reason: "timeout"},
			"weak":      okRow(map[string]map[string]outcome.Outcome{"g": cases("a=FAIL", "b=FAIL")}),
		},
	}
	var cands []Candidate
	for i, id := range []string{"applyfail", "empty", "unknown", "weak", "norow"} {
		cands = append(cands, Candidate{ID: id, Patch: onePatch(i)})
	}
	v, err := Score(Input{Candidates: cands, Matrix: m}, mustPolicy(t, PolicyKimi))
	if err != nil {
		t.Fatal(err)
	}
	if v.Chosen != "weak" {
		t.Errorf("chosen %q, want weak (the only candidate with evidence)", v.Chosen)
	}
	byID := map[string]Ranked{}
	for _, r := range v.Ranking {
		byID[r.ID] = r
	}
	for id, flag := range map[string]string{"applyfail": FlagApplyFailed, "empty": FlagEmpty, "unknown": FlagUnknown, "norow": FlagUnknown} {
		if !hasFlag(byID[id].Signals.Flags, flag) {
			t.Errorf("%s flags %v, want %s", id, byID[id].Signals.Flags, flag)
		}
	}
	for _, id := range []string{"applyfail", "empty"} {
		if byID[id].Out == "" || byID[id].Signals.FPPP != nil {
			t.Errorf("%s: out %q, FPPP %v: want out with no score", id, byID[id].Out, deref(byID[id].Signals.FPPP))
		}
	}
	if byID["unknown"].Out != "" || byID["unknown"].Rank <= byID["weak"].Rank {
		t.Errorf("unknown: rank %d (out %q), weak: rank %d: want unknown in play, ranked below", byID["unknown"].Rank, byID["unknown"].Out, byID["weak"].Rank)
	}
}

// The e2e helper's Django example without a generated test: the wrong
// change has two votes, the fix one; only the fix makes the base's failing
// related test pass (7/0 against 6/1), and auto now picks it by FP/PP.
func TestOriginalFailingTestDecides(t *testing.T) {
	pass := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("t%d=PASS", i))
		}
		return out
	}
	base := okRow(map[string]map[string]outcome.Outcome{"original": cases(append(pass(6), "issue=FAIL")...)})
	fixed := okRow(map[string]map[string]outcome.Outcome{"original": cases(append(pass(6), "issue=PASS")...)})
	m := &Matrix{Artifacts: []Artifact{{ID: "original"}}, Base: base,
		Candidates: map[string]Row{"wrong": base, "wrong-again": base, "fix": fixed}}
	wrong := hunk("text.py", 3, []string{"    return s"}, []string{"    return s.strip('-')"})
	fix := hunk("text.py", 3, []string{"    return s"}, []string{"    return s.strip('-_')"})
	v, err := Score(Input{Candidates: []Candidate{{ID: "wrong", Patch: wrong}, {ID: "wrong-again", Patch: wrong}, {ID: "fix", Patch: fix}}, Matrix: m}, mustPolicy(t, PolicyAuto))
	if err != nil {
		t.Fatal(err)
	}
	if v.Chosen != "fix" || v.Basis.DecidedBy != "key fppp" {
		t.Fatalf("chose %s (%s), want fix decided by fppp; notes %q", v.Chosen, v.Basis.DecidedBy, v.Notes)
	}
}
