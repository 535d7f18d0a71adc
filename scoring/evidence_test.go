package scoring

import (
	"slices"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor/outcome"
)

// tamperPatch is onePatch(i) plus an edit to a test file.
func tamperPatch(i int) string {
	return onePatch(i) + "--- a/tests/test_f.py\n+++ b/tests/test_f.py\n@@ -1 +1 @@\n-assert f() == 1\n+assert True\n"
}

// TestTamperingRanksBelowEveryCleanCandidate: a candidate that edits a test
// file ranks below every clean candidate under every policy, built-in or
// custom, even when it is the best on every signal and a filter would
// otherwise keep it alone.
func TestTamperingRanksBelowEveryCleanCandidate(t *testing.T) {
	suite := func(fails int) map[string]outcome.Outcome {
		c := cases("p1=PASS", "p2=PASS")
		if fails > 0 {
			c["p1"] = outcome.Fail
		}
		return c
	}
	row := func(repro outcome.Outcome, fails int) Row {
		return okRow(map[string]map[string]outcome.Outcome{"suite": suite(fails), "repro": {"r": repro}})
	}
	m := &Matrix{
		Artifacts: []Artifact{{ID: "suite"}, {ID: "repro", Generated: true}},
		Base:      okRow(map[string]map[string]outcome.Outcome{"suite": suite(0), "repro": cases("r=FAIL")}),
		Candidates: map[string]Row{
			// The tamperer passes the reproduction and breaks nothing; the
			// clean candidates fail the reproduction and break a test.
			"tamper": row(outcome.Pass, 0),
			"clean1": row(outcome.Fail, 1),
			"clean2": row(outcome.Fail, 1),
		},
	}
	cands := []Candidate{
		{ID: "tamper", Patch: tamperPatch(0), Verifier: ptr(0.99)},
		{ID: "clean1", Patch: onePatch(1), Verifier: ptr(0.2)},
		{ID: "clean2", Patch: onePatch(2), Verifier: ptr(0.1)},
	}
	policies := append(PolicyNames(),
		`{"name":"best-regressions-only","filters":[{"signal":"regressions","keep":"best"}],"keys":[{"signal":"verifier"}]}`,
		`{"name":"likes-tampering","keys":[{"weights":{"touches_tests":-1,"fppp":1}}]}`)
	for _, spec := range policies {
		t.Run(spec, func(t *testing.T) {
			for _, m := range []*Matrix{m, nil} {
				v, err := Score(Input{Candidates: cands, Matrix: m, TestFiles: pythonTests}, mustPolicy(t, spec))
				if err != nil {
					t.Fatal(err)
				}
				if v.Chosen == "tamper" || v.Chosen == "" || slices.Contains(v.Ties, "tamper") {
					t.Fatalf("matrix %v: chosen %q ties %v: want a clean candidate", m != nil, v.Chosen, v.Ties)
				}
				rank := map[string]int{}
				for _, r := range v.Ranking {
					rank[r.ID] = r.Rank
				}
				if rank["tamper"] <= rank["clean1"] || rank["tamper"] <= rank["clean2"] {
					t.Errorf("matrix %v: ranks %v: want tamper below both clean candidates", m != nil, rank)
				}
				if !slices.Equal(v.Basis.Tampering, []string{"tamper"}) || !anyContains(v.Notes, "ranked below every clean candidate") {
					t.Errorf("matrix %v: basis tampering %v, notes %q", m != nil, v.Basis.Tampering, v.Notes)
				}
			}
		})
	}

	// Only tamperers in play: one is chosen among them, and the notes say so.
	v, err := Score(Input{Candidates: []Candidate{{ID: "t1", Patch: tamperPatch(0)}, {ID: "t2", Patch: tamperPatch(1)}}, TestFiles: pythonTests}, mustPolicy(t, PolicyAuto))
	if err != nil {
		t.Fatal(err)
	}
	if v.Chosen == "" || !anyContains(v.Notes, "every candidate in play changes test files") {
		t.Errorf("chosen %q, notes %q", v.Chosen, v.Notes)
	}
}

// TestNoEvidenceAbstains: a job that ran its tests but got no evidence from
// them chooses nothing and says why; a job that ran nothing because it asked
// for an execution-free choice chooses, and says it rests on no execution;
// partial evidence is reported as partial.
func TestNoEvidenceAbstains(t *testing.T) {
	suite := func(pairs ...string) map[string]map[string]outcome.Outcome {
		return map[string]map[string]outcome.Outcome{"suite": cases(pairs...)}
	}
	good := okRow(suite("a=PASS", "b=PASS"))
	timeout := Row{Status: RunUnknown, Reason: "the tests timed out after 2m"}
	infra := Row{Status: RunUnknown, Reason: "image bestpatch/nope not found"}
	tests := []struct {
		name      string
		m         *Matrix
		abstain   string // a substring of Abstained; "" for none
		execution string
		chosen    bool
		unknown   []string
	}{
		{
			name:    "base run infrastructure failure",
			m:       &Matrix{Base: Row{Status: RunUnknown, Reason: "image bestpatch/nope not found"}, Candidates: map[string]Row{"a": infra, "b": infra}},
			abstain: "the base run ended unknown (image bestpatch/nope not found)", execution: EvidenceNone,
			unknown: []string{"a", "b"},
		},
		{
			name:    "base output no parser understands",
			m:       &Matrix{Base: okRow(nil), Candidates: map[string]Row{"a": okRow(nil), "b": okRow(nil)}},
			abstain: "the base run produced no test case", execution: EvidenceNone,
		},
		{
			name:    "base without a case, and why (no test could be chosen to run)",
			m:       &Matrix{Base: Row{Status: RunOK, Reason: "no related test: nothing was run"}, Candidates: map[string]Row{"a": okRow(nil), "b": okRow(nil)}},
			abstain: "no related test: nothing was run: there is no test evidence", execution: EvidenceNone,
		},
		{
			name: "every base case flaky",
			m: &Matrix{Base: good, Flaky: map[string][]string{"suite": {"a", "b"}},
				Candidates: map[string]Row{"a": good, "b": good}},
			abstain: "every test case of the base run (2) is flaky", execution: EvidenceNone,
		},
		{
			name:    "every candidate run timed out or failed",
			m:       &Matrix{Base: good, Candidates: map[string]Row{"a": timeout, "b": infra}},
			abstain: "no candidate's run completed (timeout or infrastructure failure: a: the tests timed out after 2m; b: image bestpatch/nope not found)", execution: EvidenceNone,
			unknown: []string{"a", "b"},
		},
		{
			name:      "partial evidence",
			m:         &Matrix{Base: good, Candidates: map[string]Row{"a": timeout, "b": good}},
			execution: EvidencePartial, chosen: true, unknown: []string{"a"},
		},
		{
			name:      "full evidence",
			m:         &Matrix{Base: good, Candidates: map[string]Row{"a": good, "b": good}},
			execution: EvidenceFull, chosen: true,
		},
		{
			name:      "execution-free, as asked",
			m:         nil,
			execution: EvidenceExecutionFree, chosen: true,
		},
	}
	cands := []Candidate{{ID: "a", Patch: onePatch(0)}, {ID: "b", Patch: onePatch(1)}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.m != nil {
				tt.m.Artifacts = []Artifact{{ID: "suite"}}
			}
			for _, name := range PolicyNames() {
				v, err := Score(Input{Candidates: cands, Matrix: tt.m}, mustPolicy(t, name))
				if err != nil {
					t.Fatal(err)
				}
				if tt.abstain == "" && v.Abstained != "" || !strings.Contains(v.Abstained, tt.abstain) {
					t.Errorf("%s: abstained %q, want %q", name, v.Abstained, tt.abstain)
				}
				if tt.abstain != "" && (v.Chosen != "" || v.Ties != nil || !strings.Contains(v.Why, "abstained")) {
					t.Errorf("%s: chosen %q ties %v why %q: want nothing chosen and why saying it abstained", name, v.Chosen, v.Ties, v.Why)
				}
				for _, r := range v.Ranking {
					if tt.abstain != "" && r.Rank != 0 {
						t.Errorf("%s: %s ranked %d in a verdict that abstained", name, r.ID, r.Rank)
					}
				}
				if (v.Chosen != "") != tt.chosen {
					t.Errorf("%s: chosen %q, want a choice: %v", name, v.Chosen, tt.chosen)
				}
				if v.Basis.Execution != tt.execution || !slices.Equal(v.Basis.Unknown, tt.unknown) {
					t.Errorf("%s: basis %+v, want execution %s, unknown %v", name, v.Basis, tt.execution, tt.unknown)
				}
				if v.Chosen != "" && v.Basis.DecidedBy == "" {
					t.Errorf("%s: basis %+v does not say what decided", name, v.Basis)
				}
				if len(v.Ranking) != len(cands) {
					t.Errorf("%s: %d ranked, want every candidate ranked with its signals", name, len(v.Ranking))
				}
			}
		})
	}

	// Every candidate out on evidence (its patch does not apply) is no
	// abstention: the evidence says none can be chosen.
	m := &Matrix{Artifacts: []Artifact{{ID: "suite"}}, Base: good, Candidates: map[string]Row{
		"a": {Status: RunApplyFailed}, "b": {Status: RunApplyFailed},
	}}
	v, err := Score(Input{Candidates: cands, Matrix: m}, mustPolicy(t, PolicyAuto))
	if err != nil {
		t.Fatal(err)
	}
	if v.Chosen != "" || v.Abstained != "" || !strings.Contains(v.Why, "no candidate can be chosen") {
		t.Errorf("chosen %q abstained %q why %q: want none chosen, no abstention", v.Chosen, v.Abstained, v.Why)
	}
}

// TestDecidedBy: the basis names the key that separated the chosen
// candidate from the runner-up, the filters that left it alone, or the
// tie-break.
func TestDecidedBy(t *testing.T) {
	for _, tt := range []struct {
		name   string
		policy string
		cands  []tc
		want   string
	}{
		{"a key", `{"name":"v","keys":[{"signal":"size"},{"signal":"verifier"}]}`, []tc{{"a", 1, ptr(0.2)}, {"b", 1, ptr(0.9)}}, "key verifier"},
		{"tie-break on size", `{"name":"v","keys":[{"signal":"verifier"}]}`, []tc{{"a", 2, ptr(0.5)}, {"b", 1, ptr(0.5)}}, "tie-break: fewer changed lines"},
		{"tie-break on ID", `{"name":"v","keys":[{"signal":"verifier"}]}`, []tc{{"b", 1, ptr(0.5)}, {"a", 1, ptr(0.5)}}, "tie-break: the smaller candidate ID"},
		{"a filter", `{"name":"f","filters":[{"signal":"verifier","keep":"best"}],"keys":[{"signal":"size"}]}`, []tc{{"a", 1, ptr(0.2)}, {"b", 1, ptr(0.9)}}, "filters verifier (best) left it alone"},
		{"alone", `{"name":"v","keys":[{"signal":"verifier"}]}`, []tc{{"a", 1, ptr(0.2)}}, "the only candidate in play"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Score(Input{Candidates: candidatesOf(tt.cands)}, mustPolicy(t, tt.policy))
			if err != nil {
				t.Fatal(err)
			}
			if v.Basis.DecidedBy != tt.want {
				t.Errorf("decided by %q, want %q", v.Basis.DecidedBy, tt.want)
			}
		})
	}
}
