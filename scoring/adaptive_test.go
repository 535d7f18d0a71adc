package scoring

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor/outcome"

	"github.com/bestpatch/bestpatch/executor/testfile"
)

// settleWorld is one random job: candidates, the full matrix (every run
// made), and the effect signature of each candidate's run.
type settleWorld struct {
	in      Input
	full    *Matrix
	effects map[string]string
}

var settleVocabulary = []string{
	"return a + b", "return a - b", "return a * b", "if a > b {", "if a >= b {", "x := compute(a)",
	"y := compute(b)", "return nil", "panic(\"no\")", "a++", "b--", "total += a",
}

// randomPatch writes a diff of calc.go (base lines "line N") that replaces
// lines at a few positions; respell deletes one more line and adds it back
// (the same effect, another text); tamper also edits a test file.
func randomPatch(r *rand.Rand, respell, tamper bool) string {
	var b strings.Builder
	b.WriteString("diff --git a/calc.go b/calc.go\n--- a/calc.go\n+++ b/calc.go\n")
	pos := 1 + r.IntN(3)*4
	hunks := 1 + r.IntN(2)
	for h := 0; h < hunks; h++ {
		del := 1 + r.IntN(2)
		added := []string{settleVocabulary[r.IntN(len(settleVocabulary))]}
		if r.IntN(3) == 0 {
			added = append(added, settleVocabulary[r.IntN(len(settleVocabulary))])
		}
		old := []string{}
		for k := 0; k < del; k++ {
			old = append(old, fmt.Sprintf("line %d", pos+k))
		}
		if respell {
			old = append(old, fmt.Sprintf("line %d", pos+del))
			added = append(added, fmt.Sprintf("line %d", pos+del))
		}
		fmt.Fprintf(&b, "@@ -%d,%d +%d,%d @@\n", pos, len(old), pos, len(added))
		for _, l := range old {
			b.WriteString("-" + l + "\n")
		}
		for _, l := range added {
			b.WriteString("+" + l + "\n")
		}
		pos += 6
	}
	if tamper {
		b.WriteString("diff --git a/calc_test.go b/calc_test.go\n--- a/calc_test.go\n+++ b/calc_test.go\n@@ -1,1 +1,1 @@\n-t1\n+t2\n")
	}
	return b.String()
}

// Kinds of rows a completion gives the runs not in.
const (
	rowRandom  = iota
	rowPerfect // completes, passes every case, and leaves a tree shared with whatever it can
	rowOut     // does not apply
	rowUnknown // times out
)

// randomRow is a run's row: a status, and outcomes on every base case
// (perfect passes them all), leaving a tree its effect allows.
func randomRow(r *rand.Rand, base Row, effect string, perfect bool) Row {
	kind := rowRandom
	if perfect {
		kind = rowPerfect
	}
	return rowOfKind(r, base, effect, kind)
}

func rowOfKind(r *rand.Rand, base Row, effect string, kind int) Row {
	switch x := r.IntN(20); {
	case kind == rowOut || (kind == rowRandom && x == 0):
		return Row{Status: RunApplyFailed, Reason: "does not apply"}
	case kind == rowRandom && x == 1:
		return Row{Status: RunEmpty}
	case kind == rowUnknown || (kind == rowRandom && x == 2):
		return Row{Status: RunUnknown, Reason: "timed out"}
	}
	perfect := kind == rowPerfect
	row := Row{Status: RunOK, Cases: map[string]map[string]outcome.Outcome{}}
	for a, cs := range base.Cases {
		row.Cases[a] = map[string]outcome.Outcome{}
		for c := range cs {
			o := outcome.Pass
			if !perfect {
				o = []outcome.Outcome{outcome.Pass, outcome.Pass, outcome.Pass, outcome.Fail, outcome.Fail, outcome.Error}[r.IntN(6)]
			}
			row.Cases[a][c] = o
		}
	}
	tree := effect
	if tree == "" {
		tree = fmt.Sprint("any", r.IntN(4)) // may leave any tree
	}
	variant := r.IntN(2)
	if kind == rowPerfect {
		variant = 0
	}
	row.Tree = fmt.Sprintf("%s/%d", tree, variant)
	return row
}

func randomWorld(r *rand.Rand) settleWorld {
	n := 2 + r.IntN(8)
	var patches []string
	for len(patches) < n {
		switch x := r.IntN(10); {
		case x < 3 && len(patches) > 0:
			patches = append(patches, patches[r.IntN(len(patches))]) // the same change again
		case x == 3:
			patches = append(patches, "")
		default:
			patches = append(patches, randomPatch(r, x == 4, x == 5))
		}
	}
	base := Row{Status: RunOK, Cases: map[string]map[string]outcome.Outcome{"original": {}}}
	m := &Matrix{Artifacts: []Artifact{{ID: "original"}}, Base: base, Candidates: map[string]Row{}}
	for k := 0; k < 2+r.IntN(4); k++ {
		o := outcome.Pass
		if r.IntN(4) == 0 {
			o = outcome.Fail // reproduction evidence among the original cases
		}
		base.Cases["original"][fmt.Sprint("o", k)] = o
	}
	for g := 0; g < r.IntN(3); g++ {
		id := fmt.Sprint("gen", g)
		m.Artifacts = append(m.Artifacts, Artifact{ID: id, Generated: true})
		base.Cases[id] = map[string]outcome.Outcome{}
		for k := 0; k < 1+r.IntN(3); k++ {
			base.Cases[id][fmt.Sprint(id, "c", k)] = []outcome.Outcome{outcome.Fail, outcome.Fail, outcome.Pass}[r.IntN(3)]
		}
	}
	if r.IntN(8) == 0 {
		m.Flaky = map[string][]string{"original": {"o0"}}
	}
	w := settleWorld{full: m, effects: map[string]string{}}
	w.in.TestFiles = testfile.NewMatcher("*_test.go")
	rows := map[string]Row{} // candidates with one patch share a run
	for i, p := range patches {
		c := Candidate{ID: fmt.Sprintf("c%d", i), Patch: p}
		if r.IntN(3) == 0 {
			v := float64(r.IntN(5)) / 4
			c.Verifier = &v
		}
		if r.IntN(5) == 0 {
			v := 0.2 + float64(r.IntN(3))/5
			c.Prior = &v
		}
		w.in.Candidates = append(w.in.Candidates, c)
		w.effects[c.ID] = EffectSignature(p)
		if r.IntN(6) == 0 {
			w.effects[c.ID] = "" // may leave any tree
		}
		row, ok := rows[p]
		if !ok {
			row = randomRow(r, base, w.effects[c.ID], r.IntN(3) == 0)
			rows[p] = row
		}
		m.Candidates[c.ID] = row
	}
	return w
}

// settlePolicies are every built-in policy and specs that use the other
// signals (behaviour, edit consensus, size outliers, min-max scaled counts,
// a top filter on a consensus signal).
func settlePolicies(t *testing.T) []Policy {
	var ps []Policy
	for _, name := range PolicyNames() {
		p, err := ParsePolicy(name)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	for _, spec := range []string{
		`{"name": "weighted", "keys": [{"weights": {"fppp": 1, "regressions": 0.5, "behaviour": 0.3, "similarity": 0.2}}]}`,
		`{"name": "top-sim", "filters": [{"signal": "similarity", "keep": "top", "fraction": 0.5, "min": 2}, {"signal": "generated_passed", "keep": "best"}], "keys": [{"signal": "edit_consensus"}, {"signal": "size_outlier"}]}`,
		`{"name": "loc", "filters": [{"signal": "regressions", "keep": "best"}], "keys": [{"weights": {"localization": 1, "function_localization": 1, "votes": 1}}, {"signal": "behaviour"}]}`,
	} {
		p, err := ParsePolicy(spec)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

// TestSettleHoldsInEveryCompletion: whenever Settle says the choice is
// settled, the verdict of every completion of the matrix (the real rows,
// and random others: runs that do not apply, time out, pass everything,
// leave the tree of another candidate) chooses the same candidate with the
// same ties, and so does the verdict that marks the runs not in as not
// run. Over random jobs, every policy.
func TestSettleHoldsInEveryCompletion(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 1))
	policies := settlePolicies(t)
	settled := map[string]int{}
	worlds := 600
	if testing.Short() {
		worlds = 150
	}
	for range worlds {
		w := randomWorld(r)
		for _, p := range policies {
			ad, err := NewAdaptive(w.in, p, w.effects)
			if err != nil {
				t.Fatal(err)
			}
			// The runs in: a prefix of the order, as the plan runs them,
			// or a random subset.
			partial := *w.full
			partial.Candidates = map[string]Row{}
			order := ad.Order()
			cut := r.IntN(len(order) + 1)
			for i, id := range order {
				if (i < cut) != (r.IntN(6) == 0) {
					partial.Candidates[id] = w.full.Candidates[id]
				}
			}
			s := ad.Settle(&partial)
			if s.Chosen == "" {
				continue
			}
			pending := 0
			for _, id := range ad.ids {
				if _, in := partial.Candidates[id]; !in {
					pending++
				}
			}
			if pending > 0 {
				settled[p.Name]++
			}
			check := func(what string, m *Matrix) {
				t.Helper()
				v, err := Score(Input{Candidates: w.in.Candidates, Matrix: m, TestFiles: w.in.TestFiles}, p)
				if err != nil {
					t.Fatal(err)
				}
				if v.Chosen != s.Chosen || !sameSet(v.Ties, s.Ties) {
					t.Fatalf("policy %s, %s: chose %q ties %q; Settle said %q ties %q\ncandidates %+v\nrows in %v\nfull %+v",
						p.Name, what, v.Chosen, v.Ties, s.Chosen, s.Ties, w.in.Candidates, slices.Sorted(mapKeys(partial.Candidates)), w.full)
				}
			}
			check("every run made", w.full)
			notRun := partial
			notRun.Candidates = map[string]Row{}
			for _, c := range w.in.Candidates {
				row, ok := partial.Candidates[c.ID]
				if !ok {
					row = Row{Status: RunNotRun, Reason: NotRunReason}
				}
				notRun.Candidates[c.ID] = row
			}
			check("the runs not in marked not run", &notRun)
			for k := range 8 {
				other := partial
				other.Candidates = map[string]Row{}
				for _, c := range w.in.Candidates {
					row, ok := partial.Candidates[c.ID]
					if !ok {
						kind := []int{rowPerfect, rowOut, rowUnknown}[k%3]
						if k >= 3 {
							kind = []int{rowRandom, rowPerfect, rowOut}[r.IntN(3)]
						}
						row = rowOfKind(r, w.full.Base, w.effects[c.ID], kind)
					}
					other.Candidates[c.ID] = row
				}
				check(fmt.Sprintf("completion %d", k), &other)
			}
		}
	}
	t.Logf("settled with runs not in (of %d jobs): %v", worlds, settled)
	for _, name := range []string{PolicyAuto, PolicyAgentless, PolicyR2EHybrid, PolicyConsensus} {
		if settled[name] < worlds/50 {
			t.Errorf("policy %s settled %d of %d jobs: the test says little about it", name, settled[name], worlds)
		}
	}
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
