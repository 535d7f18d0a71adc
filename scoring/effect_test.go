package scoring

import (
	"testing"

	"github.com/bestpatch/bestpatch/executor/outcome"
)

// TestEffectClusters: candidates whose runs left the same tree are one
// cluster whatever their text (transitively, through meaning clusters);
// without a tree, or with another one, each meaning cluster stands alone;
// the key does not depend on the input order.
func TestEffectClusters(t *testing.T) {
	old := []string{"\tif n < 0 {"}
	fix := hunk("m.go", 10, old, []string{"\tif n <= 0 {"})
	spelled := hunk("m.go", 10, old, []string{"\tif !(n > 0) {"}) // another text, the same tree (say)
	hoisted := hunk("m.go", 10, old, []string{"\tif neg := n <= 0; neg {"})
	renamed := hunk("m.go", 10, old, []string{"\tif bad := n <= 0; bad {"}) // hoisted's meaning cluster
	wrong := hunk("m.go", 10, old, []string{"\tif n < 1 {"})
	cands := []Candidate{{ID: "fix", Patch: fix}, {ID: "spelled", Patch: spelled}, {ID: "hoisted", Patch: hoisted}, {ID: "renamed", Patch: renamed}, {ID: "wrong", Patch: wrong}}
	cases := func() map[string]map[string]outcome.Outcome {
		return map[string]map[string]outcome.Outcome{"orig": cases("a=PASS")}
	}
	row := func(tree string) Row { return Row{Status: RunOK, Tree: tree, Cases: cases()} }
	for _, tc := range []struct {
		name  string
		rows  map[string]Row
		votes map[string]int
	}{
		{"no matrix: meaning clusters", nil, map[string]int{"fix": 1, "spelled": 1, "hoisted": 2, "renamed": 2, "wrong": 1}},
		{"same tree: one cluster, through the renamed twin too",
			map[string]Row{"fix": row("t1"), "spelled": row("t1"), "hoisted": row("t1"), "renamed": row("t3"), "wrong": row("t2")},
			map[string]int{"fix": 4, "spelled": 4, "hoisted": 4, "renamed": 4, "wrong": 1}},
		{"a run that did not complete has no tree",
			map[string]Row{"fix": row("t1"), "spelled": {Status: RunUnknown, Tree: "t1"}, "hoisted": row("t3"), "renamed": row("t4"), "wrong": row("t2")},
			map[string]int{"fix": 1, "spelled": 1, "hoisted": 2, "renamed": 2, "wrong": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m *Matrix
			if tc.rows != nil {
				m = &Matrix{Artifacts: []Artifact{{ID: "orig"}}, Base: Row{Status: RunOK, Cases: cases()}, Candidates: tc.rows}
			}
			keys := map[string]string{}
			for _, order := range [][]Candidate{cands, {cands[4], cands[3], cands[2], cands[1], cands[0]}} {
				a, err := Assess(Input{Candidates: order, Matrix: m})
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range cands {
					s, _ := a.Signals(c.ID)
					if s.Votes != tc.votes[c.ID] {
						t.Errorf("%s: votes %d, want %d", c.ID, s.Votes, tc.votes[c.ID])
					}
					if k, seen := keys[c.ID]; seen && k != s.Cluster {
						t.Errorf("%s: cluster %q in one order, %q in the other", c.ID, k, s.Cluster)
					}
					keys[c.ID] = s.Cluster
				}
			}
			for _, c := range cands {
				for _, d := range cands {
					if same := keys[c.ID] == keys[d.ID]; same != (tc.votes[c.ID] > 1 && tc.votes[c.ID] == tc.votes[d.ID]) && c.ID != d.ID {
						t.Errorf("%s and %s: same cluster %v", c.ID, d.ID, same)
					}
				}
			}
		})
	}
}

// TestEffectSignature: patches that leave the same tree have the same
// signature (the same change respelled, at another offset, with other
// whitespace); other changes have other signatures; a rename may leave
// any tree.
func TestEffectSignature(t *testing.T) {
	const fix = "diff --git a/a.go b/a.go\n--- a/a.go\n+++ b/a.go\n@@ -3,2 +3,2 @@\n x := 1\n-return x\n+return x + 1\n"
	same := map[string]string{
		"respelled":   "diff --git a/a.go b/a.go\n--- a/a.go\n+++ b/a.go\n@@ -3,2 +3,2 @@\n-x := 1\n-return x\n+x := 1\n+return x + 1\n",
		"elsewhere":   "diff --git a/a.go b/a.go\n--- a/a.go\n+++ b/a.go\n@@ -9,1 +9,1 @@\n-return x\n+return x + 1\n",
		"whitespace":  "diff --git a/a.go b/a.go\n--- a/a.go\n+++ b/a.go\n@@ -4,1 +4,1 @@\n-\treturn x\n+return  x+1\n",
		"traditional": "--- a/a.go\n+++ b/a.go\n@@ -4,1 +4,1 @@\n-return x\n+return x + 1\n",
	}
	other := map[string]string{
		"another fix":  "diff --git a/a.go b/a.go\n--- a/a.go\n+++ b/a.go\n@@ -4,1 +4,1 @@\n-return x\n+return x + 2\n",
		"another file": "diff --git a/b.go b/b.go\n--- a/b.go\n+++ b/b.go\n@@ -4,1 +4,1 @@\n-return x\n+return x + 1\n",
	}
	want := EffectSignature(fix)
	if want == "" {
		t.Fatal("the fix has no signature")
	}
	for name, p := range same {
		if got := EffectSignature(p); got != want {
			t.Errorf("%s: signature %q, want the fix's %q", name, got, want)
		}
	}
	for name, p := range other {
		if got := EffectSignature(p); got == want || got == "" {
			t.Errorf("%s: signature %q: want one of its own", name, got)
		}
	}
	for name, p := range map[string]string{
		"rename":      "diff --git a/a.go b/c.go\nsimilarity index 100%\nrename from a.go\nrename to c.go\n",
		"mode":        "diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n",
		"not a patch": "@@ nonsense",
	} {
		if got := EffectSignature(p); got != "" {
			t.Errorf("%s: signature %q, want none (any tree)", name, got)
		}
	}
}
