package scoring

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor/outcome"
)

// sizedPatch changes n lines of its own file, so candidates differ in
// changed lines and do not share votes.
func sizedPatch(file string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "--- a/%s.py\n+++ b/%s.py\n@@ -1,%d +1,%d @@\n", file, file, n, n)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "-v%d = 0\n", i)
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "+v%d = 1\n", i)
	}
	return b.String()
}

type tc struct {
	id       string
	lines    int // changed lines = 2 * lines
	verifier *float64
}

func candidatesOf(tcs []tc) []Candidate {
	var cs []Candidate
	for _, c := range tcs {
		cs = append(cs, Candidate{ID: c.id, Patch: sizedPatch("f_"+c.id, c.lines), Verifier: c.verifier})
	}
	return cs
}

func TestTieRules(t *testing.T) {
	byVerifier := `{"name":"v","keys":[{"signal":"verifier"}]}`
	tests := []struct {
		name      string
		policy    string
		cands     []tc
		chosen    string
		ties      []string
		ranks     map[string]int
		whyHas    string
		notesHave string
	}{
		{
			name:   "a unique best: no ties",
			policy: byVerifier,
			cands:  []tc{{"a", 1, ptr(0.4)}, {"b", 1, ptr(0.9)}},
			chosen: "b", ties: nil,
			ranks: map[string]int{"b": 1, "a": 2},
		},
		{
			name:   "equal keys: fewer changed lines wins",
			policy: byVerifier,
			cands:  []tc{{"a", 3, ptr(0.9)}, {"b", 1, ptr(0.9)}, {"c", 1, ptr(0.1)}},
			chosen: "b", ties: []string{"b", "a"},
			ranks:  map[string]int{"b": 1, "a": 1, "c": 3},
			whyHas: "fewer changed lines (2 against 6)",
		},
		{
			name:   "equal keys and size: smaller ID wins, whatever the input order",
			policy: byVerifier,
			cands:  []tc{{"z", 1, ptr(0.9)}, {"m", 1, ptr(0.9)}},
			chosen: "m", ties: []string{"m", "z"},
			whyHas: "the smaller candidate ID",
		},
		{
			name:   "values equal within rounding are equal",
			policy: `{"name":"w","keys":[{"weights":{"verifier":1,"similarity":0}}]}`,
			cands:  []tc{{"a", 2, ptr(0.1 + 0.2)}, {"b", 2, ptr(0.3)}},
			chosen: "a", ties: []string{"a", "b"},
		},
		{
			name:   "a later key breaks a tie on an earlier one",
			policy: `{"name":"two","keys":[{"signal":"touches_tests"},{"signal":"verifier"}]}`,
			cands:  []tc{{"a", 1, ptr(0.2)}, {"b", 1, ptr(0.7)}},
			chosen: "b", ties: nil,
		},
		{
			name:   "a candidate without the signal ranks below every candidate with it",
			policy: byVerifier,
			cands:  []tc{{"a", 1, nil}, {"b", 1, ptr(0.0)}},
			chosen: "b", ties: nil,
			ranks: map[string]int{"b": 1, "a": 2},
		},
		{
			name:   "no candidate has the key's signal: key skipped, all tied, noted",
			policy: byVerifier,
			cands:  []tc{{"b", 2, nil}, {"a", 2, nil}},
			chosen: "a", ties: []string{"a", "b"},
			notesHave: "key verifier skipped",
		},
		{
			name:   "top filter keeps ceil(fraction·n), at least min, and ties at the boundary",
			policy: `{"name":"top","filters":[{"signal":"verifier","keep":"top","fraction":0.5,"min":3}],"keys":[{"signal":"size"}]}`,
			cands: []tc{
				{"a", 1, ptr(0.1)}, {"b", 5, ptr(0.9)}, {"c", 4, ptr(0.8)}, {"d", 3, ptr(0.7)},
				{"e", 2, ptr(0.7)}, {"f", 1, ptr(0.2)},
			},
			// Top 3 by verifier: b, c and d; e equals d and is kept. a and f are
			// out; the smallest kept change wins.
			chosen: "e", ties: nil,
			ranks: map[string]int{"e": 1, "d": 2, "c": 3, "b": 4, "a": 5, "f": 5},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Score(Input{Candidates: candidatesOf(tt.cands)}, mustPolicy(t, tt.policy))
			if err != nil {
				t.Fatal(err)
			}
			if v.Chosen != tt.chosen {
				t.Errorf("chosen %q, want %q (why: %s)", v.Chosen, tt.chosen, v.Why)
			}
			if !reflect.DeepEqual(v.Ties, tt.ties) {
				t.Errorf("ties %q, want %q", v.Ties, tt.ties)
			}
			for id, want := range tt.ranks {
				for _, r := range v.Ranking {
					if r.ID == id && r.Rank != want {
						t.Errorf("rank of %s = %d, want %d", id, r.Rank, want)
					}
				}
			}
			if tt.whyHas != "" && !strings.Contains(v.Why, tt.whyHas) {
				t.Errorf("why %q lacks %q", v.Why, tt.whyHas)
			}
			if tt.notesHave != "" && !anyContains(v.Notes, tt.notesHave) {
				t.Errorf("notes %q lack %q", v.Notes, tt.notesHave)
			}
			// Determinism: the same input in reverse order gives the same verdict.
			rev := candidatesOf(tt.cands)
			for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
				rev[i], rev[j] = rev[j], rev[i]
			}
			v2, err := Score(Input{Candidates: rev}, mustPolicy(t, tt.policy))
			if err != nil {
				t.Fatal(err)
			}
			if v2.Chosen != v.Chosen || !reflect.DeepEqual(v2.Ties, v.Ties) {
				t.Errorf("reversed input: chosen %q ties %q, want %q %q", v2.Chosen, v2.Ties, v.Chosen, v.Ties)
			}
		})
	}
}

func TestAgentlessKeepsMinimumRegressions(t *testing.T) {
	base := okRow(map[string]map[string]outcome.Outcome{
		"suite": cases("p1=PASS", "p2=PASS", "p3=PASS"),
		"repro": cases("r=FAIL"),
	})
	row := func(failing int, reproPasses bool) Row {
		suite := cases("p1=PASS", "p2=PASS", "p3=PASS")
		for i := 1; i <= failing; i++ {
			suite[fmt.Sprintf("p%d", i)] = outcome.Fail
		}
		r := outcome.Fail
		if reproPasses {
			r = outcome.Pass
		}
		return okRow(map[string]map[string]outcome.Outcome{"suite": suite, "repro": {"r": r}})
	}
	m := &Matrix{
		Artifacts: []Artifact{{ID: "suite"}, {ID: "repro", Generated: true}},
		Base:      base,
		Candidates: map[string]Row{
			// Nobody is free of regressions: the minimum (1) is kept, not zero.
			"one-fixes":  row(1, true),
			"one-broken": row(1, false),
			"two-fixes":  row(2, true),
		},
	}
	var cands []Candidate
	for i, id := range []string{"one-broken", "one-fixes", "two-fixes"} {
		cands = append(cands, Candidate{ID: id, Patch: onePatch(i)})
	}
	v, err := Score(Input{Candidates: cands, Matrix: m}, mustPolicy(t, PolicyAgentless))
	if err != nil {
		t.Fatal(err)
	}
	if v.Chosen != "one-fixes" {
		t.Errorf("chosen %q, want one-fixes; why: %s", v.Chosen, v.Why)
	}
	for _, r := range v.Ranking {
		if r.ID == "two-fixes" && !strings.Contains(r.Out, "regressions") {
			t.Errorf("two-fixes out %q, want filtered by regressions", r.Out)
		}
	}
	// No candidate tampers, so the tier below the clean one is empty: a
	// filter that decided must not be noted as skipped for lack of a signal.
	for _, n := range v.Notes {
		if strings.Contains(n, "skipped") {
			t.Errorf("note %q: every filter of the policy had a signal", n)
		}
	}
}

func TestNoCandidateLeft(t *testing.T) {
	cands := []Candidate{
		{ID: "ws", Patch: "--- a/f.py\n+++ b/f.py\n@@ -1 +1 @@\n-x = 1\n+x  =  1   \n"},
		{ID: "comment", Patch: "--- a/f.py\n+++ b/f.py\n@@ -1 +1,2 @@\n x = 1\n+# explain x\n"},
		{ID: "tests", Patch: "--- a/tests/test_f.py\n+++ b/tests/test_f.py\n@@ -1 +1 @@\n-assert f() == 1\n+assert f() == 2\n"},
		{ID: "scratch", Patch: "diff --git a/reproduce.py b/reproduce.py\nnew file mode 100644\n--- /dev/null\n+++ b/reproduce.py\n@@ -0,0 +1 @@\n+print(f())\n"},
	}
	v, err := Score(Input{Candidates: cands, TestFiles: pythonTests}, mustPolicy(t, PolicyAuto))
	if err != nil {
		t.Fatal(err)
	}
	if v.Chosen != "" || !strings.Contains(v.Why, "no candidate") {
		t.Fatalf("chosen %q, why %q: want none", v.Chosen, v.Why)
	}
	want := map[string]string{"ws": FlagEmpty, "comment": FlagEmpty, "tests": FlagOnlyTests, "scratch": FlagOnlyScratch}
	for _, r := range v.Ranking {
		if r.Out == "" || !hasFlag(r.Signals.Flags, want[r.ID]) {
			t.Errorf("%s: out %q flags %v, want out with %s", r.ID, r.Out, r.Signals.Flags, want[r.ID])
		}
	}
}

func TestMalformedInput(t *testing.T) {
	p := mustPolicy(t, PolicyAuto)
	for name, cands := range map[string][]Candidate{
		"empty ID":         {{ID: "", Patch: onePatch(0)}},
		"duplicate ID":     {{ID: "a", Patch: onePatch(0)}, {ID: "a", Patch: onePatch(1)}},
		"verifier above 1": {{ID: "a", Patch: onePatch(0), Verifier: ptr(1.5)}},
		"verifier below 0": {{ID: "a", Patch: onePatch(0), Verifier: ptr(-0.1)}},
	} {
		if _, err := Score(Input{Candidates: cands}, p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
