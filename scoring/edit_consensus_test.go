package scoring

import (
	"math"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor/outcome"
)

// twoSites is a patch of m.py editing line 10 (site a) and/or line 50
// (site b), with the given new texts.
func twoSites(a, b string) string {
	var p strings.Builder
	p.WriteString("diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n")
	if a != "" {
		p.WriteString("@@ -10,1 +10,1 @@\n-    x = f()\n+    " + a + "\n")
	}
	if b != "" {
		p.WriteString("@@ -50,1 +50,1 @@\n-    y = g()\n+    " + b + "\n")
	}
	return p.String()
}

// TestEditConsensus: a complete two-site fix, whose edits the partial
// fixes and another complete fix back, outranks the more frequent partial
// patch; an edit only candidates with regressions make earns nothing.
func TestEditConsensus(t *testing.T) {
	cands := []Candidate{
		{ID: "full1", Patch: twoSites("x = f(strict=True)", "y = g(strict=True)")},
		{ID: "full2", Patch: twoSites("x = f(strict=True)", "y = g(strict=True)") + "@@ -90,1 +90,1 @@\n-    z = 1\n+    z = 2\n"},
		{ID: "part1", Patch: twoSites("x = f(strict=True)", "")},
		{ID: "part2", Patch: twoSites("x = f(strict=True)", "")},
		{ID: "part3", Patch: twoSites("x = f(strict=True)", "")},
	}
	a, err := Assess(Input{Candidates: cands})
	if err != nil {
		t.Fatal(err)
	}
	ec := func(id string) float64 { s, _ := a.Signals(id); return s.EditConsensus }
	// full1: site a backed by the 4 others, site b by full2: (4 + 1) / 4.
	// part1: site a backed by 4 others: 4/4. full2 as full1 plus its own
	// extra edit, which nobody backs.
	for id, want := range map[string]float64{"full1": 5.0 / 4, "full2": 5.0 / 4, "part1": 1} {
		if got := ec(id); math.Abs(got-want) > 1e-12 {
			t.Errorf("%s: edit consensus %v, want %v", id, got, want)
		}
	}
	if s, _ := a.Signals("part1"); s.Votes != 3 {
		t.Errorf("part1 votes %d: the partial patch is the most frequent change (3)", s.Votes)
	}
	v, err := a.Select(Policy{Name: "edits", Keys: []Key{{Signal: SignalEditConsensus}}})
	if err != nil {
		t.Fatal(err)
	}
	if v.Chosen != "full1" && v.Chosen != "full2" {
		t.Errorf("edit consensus chose %s, want a complete fix", v.Chosen)
	}

	// With tests: full2 breaks a case the others keep: it lends no support,
	// so site b, which only full1 and full2 make, earns full1 nothing.
	P, F := "PASS", "FAIL"
	row := func(o string) Row { return okRow(map[string]map[string]outcome.Outcome{"orig": cases("t=" + o)}) }
	m := &Matrix{Artifacts: []Artifact{{ID: "orig"}}, Base: row(P), Candidates: map[string]Row{
		"full1": row(P), "full2": row(F), "part1": row(P), "part2": row(P), "part3": row(P)}}
	if a, err = Assess(Input{Candidates: cands, Matrix: m}); err != nil {
		t.Fatal(err)
	}
	// full1: site a backed by part1-3 (full2 lends nothing): 3/4; site b: 0.
	if got := ec("full1"); math.Abs(got-3.0/4) > 1e-12 {
		t.Errorf("with full2's regression: full1 edit consensus %v, want 0.75", got)
	}
	// full2 is scored on the others' support as before: site a by full1 and
	// the three partial fixes, site b by full1.
	if got := ec("full2"); math.Abs(got-(4.0+1)/4) > 1e-12 {
		t.Errorf("full2 edit consensus %v, want 1.25", got)
	}
}
