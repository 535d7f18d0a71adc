package accuracy

import (
	"math"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor/testfile"
	"github.com/bestpatch/bestpatch/scoring"
)

func goPatch(file, old, new string) string {
	return "diff --git a/" + file + " b/" + file + "\n--- a/" + file + "\n+++ b/" + file + "\n@@ -1,1 +1,1 @@\n-" + old + "\n+" + new + "\n"
}

// testPool builds a pool of (model, patch, correct) candidates.
func testPool(t *testing.T, id string, cands ...struct {
	model, patch string
	right        bool
}) Pool {
	t.Helper()
	var cs []scoring.Candidate
	correct := map[string]bool{}
	for i, c := range cands {
		cid := string(rune('a' + i))
		cs = append(cs, scoring.Candidate{ID: cid, Model: c.model, Patch: c.patch})
		correct[cid] = c.right
	}
	p, err := NewPool(id, scoring.RepoOf(id), scoring.Input{Candidates: cs, TestFiles: testfile.NewMatcher("*_test.go")}, correct)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type cand = struct {
	model, patch string
	right        bool
}

// TestMajorityVote: cosmetic twins share a vote; candidates scoring leaves
// out are patches of their own, never one shared "empty" patch.
func TestMajorityVote(t *testing.T) {
	fix := goPatch("x.go", "x := 1", "x := 2")
	twin := goPatch("x.go", "x := 1", "x  :=  2 // fixed")
	wrong := goPatch("x.go", "x := 1", "x := 3")
	onlyTest := goPatch("x_test.go", "a := 1", "a := 2")
	for _, tc := range []struct {
		name  string
		pool  Pool
		want  float64
		mixed bool
	}{
		{"twins win", testPool(t, "o__r-1", cand{"m1", fix, true}, cand{"m2", twin, true}, cand{"m3", wrong, false}), 1, false},
		// Three test-only patches are three patches, not one with three
		// votes: the wrong fix and the right fix tie with them.
		{"excluded are singletons", testPool(t, "o__r-2", cand{"m1", onlyTest, false}, cand{"m2", goPatch("y_test.go", "b", "c"), false},
			cand{"m3", goPatch("z_test.go", "b", "c"), false}, cand{"m4", fix, true}), 0.25, true},
		{"wrong majority", testPool(t, "o__r-3", cand{"m1", wrong, false}, cand{"m2", wrong, false}, cand{"m3", fix, true}), 0, false},
	} {
		o, err := MajorityVote().Score(tc.pool)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(o.Accuracy-tc.want) > 1e-9 || o.Mixed != tc.mixed {
			t.Errorf("%s: %+v, want %v (mixed %v)", tc.name, o, tc.want, tc.mixed)
		}
	}
}

// TestBestSystem: the system best on the reference pools picks; systems
// tied there share the pick (the mean); a system absent from a pool scores
// 0 there.
func TestBestSystem(t *testing.T) {
	fix := goPatch("x.go", "x := 1", "x := 2")
	wrong := goPatch("x.go", "x := 1", "x := 3")
	dev := []Pool{
		testPool(t, "o__r-1", cand{"a", fix, true}, cand{"b", fix, true}, cand{"c", wrong, false}),
		testPool(t, "o__r-2", cand{"a", wrong, false}, cand{"b", wrong, false}, cand{"c", fix, true}),
		testPool(t, "o__r-3", cand{"a", fix, true}, cand{"b", fix, true}, cand{"c", wrong, false}),
	}
	names, n := BestSystems(dev)
	if len(names) != 2 || names[0] != "a" || names[1] != "b" || n != 2 {
		t.Fatalf("best systems %v with %d, want [a b] with 2", names, n)
	}
	test := []Pool{
		testPool(t, "o__s-1", cand{"a", fix, true}, cand{"b", wrong, false}, cand{"c", wrong, false}),
		testPool(t, "o__s-2", cand{"c", fix, true}),
	}
	m := BestSystem(MethodBestSystemOnDev, KindBaseline, dev)
	table, err := Compute(test, []Method{m, BestSystem(MethodBestSystem, KindReference, test)})
	if err != nil {
		t.Fatal(err)
	}
	// o__s-1: a right, b wrong: 1/2, a mixed outcome; o__s-2: neither a
	// nor b has a candidate: 0.
	if r := table.Rows[0]; math.Abs(r.Accuracy-0.25) > 1e-9 || r.MixedTies != 1 || r.Note != "2 systems tie, mean over them: a | b" {
		t.Errorf("best system on dev: %+v", r)
	}
	// On the test pools themselves, c resolves o__s-2 and a resolves
	// o__s-1: a tie again; b and c are absent or wrong.
	if r := table.Rows[1]; math.Abs(r.Accuracy-0.5) > 1e-9 {
		t.Errorf("best single system: %+v", r)
	}
	if table.Groups[0].Group != "o__s" || table.Groups[0].Pools != 2 || table.Contested != 1 {
		t.Errorf("groups %+v contested %d", table.Groups, table.Contested)
	}
}

// TestAbstentionCounted: a method that declines to choose scores 0 where a
// correct candidate exists, and the table counts its abstentions apart on
// the pools without one (where abstaining is right); the text shows the
// two shares only when some method abstained.
func TestAbstentionCounted(t *testing.T) {
	solvable := testPool(t, "r__x-1", cand{"m", goPatch("a.go", "x", "y"), true}, cand{"m", goPatch("a.go", "x", "z"), false})
	none := testPool(t, "r__x-2", cand{"m", goPatch("a.go", "x", "z"), false})
	abstain := Method{Name: "abstainer", Kind: KindPolicy, Score: func(p Pool) (Outcome, error) {
		return VerdictOutcome(scoring.Verdict{Abstained: "sample more"}, p.Correct), nil
	}}
	tab, err := Compute([]Pool{solvable, none}, []Method{RandomPick(), abstain})
	if err != nil {
		t.Fatal(err)
	}
	if tab.NoCorrect != 1 {
		t.Fatalf("no-correct pools %d, want 1", tab.NoCorrect)
	}
	r, _ := tab.Row("abstainer")
	if r.Accuracy != 0 || r.Abstained != 2 || r.AbstainedNoCorrect != 1 {
		t.Errorf("abstainer: %+v", r)
	}
	var b strings.Builder
	if err := tab.WriteText(&b, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "abstains: none right (1)") || !strings.Contains(b.String(), "100.0%") {
		t.Errorf("table without the abstention shares:\n%s", b.String())
	}
	tab2, _ := Compute([]Pool{solvable, none}, []Method{RandomPick()})
	b.Reset()
	_ = tab2.WriteText(&b, false)
	if strings.Contains(b.String(), "abstains") {
		t.Errorf("abstention columns without any abstention:\n%s", b.String())
	}
}
