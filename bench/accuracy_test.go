package bench

import (
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/scoring"
)

func onePatch(old, new string) string {
	return "diff --git a/p.go b/p.go\n--- a/p.go\n+++ b/p.go\n@@ -1,3 +1,3 @@\n package p\n-" + old + "\n+" + new + "\n func f() {}\n"
}

// TestScore checks the baselines on hand-made pools (no runs): random pick,
// majority vote over non-empty normalized patches, the oracle, and that a
// policy row comes out for each policy.
func TestScore(t *testing.T) {
	fix := onePatch("var x = 1", "var x = 2")
	fixTwin := onePatch("var x = 1", "var x   =   2")
	wrong := onePatch("var x = 1", "var x = 3")
	mk := func(id string, pool []struct {
		patch    string
		resolved bool
	}) jobOutcome {
		var cands []scoring.Candidate
		o := jobOutcome{id: id, resolved: map[string]bool{}}
		for i, p := range pool {
			cid := string(rune('a' + i))
			cands = append(cands, scoring.Candidate{ID: cid, Patch: p.patch})
			o.ids = append(o.ids, cid)
			o.resolved[cid] = p.resolved
		}
		a, err := scoring.Assess(scoring.Input{Candidates: cands})
		if err != nil {
			t.Fatal(err)
		}
		o.a = a
		return o
	}
	type c = struct {
		patch    string
		resolved bool
	}
	outs := []jobOutcome{
		// The fix is the majority (its twin votes with it); empties are no votes.
		mk("A", []c{{fix, true}, {fixTwin, true}, {wrong, false}, {"", false}, {"", false}, {"", false}}),
		// A wrong patch is the majority.
		mk("B", []c{{wrong, false}, {wrong, false}, {fix, true}, {"", false}}),
		// Nothing resolves.
		mk("C", []c{{wrong, false}, {"", false}}),
	}
	res, err := score(outs, []scoring.Policy{{Name: "mine", Keys: []scoring.Key{{Signal: scoring.SignalVotes}}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Tasks != 3 || res.Contested != 2 || res.Candidates != 12 {
		t.Errorf("tasks %d, contested %d, candidates %d; want 3, 2, 12", res.Tasks, res.Contested, res.Candidates)
	}
	want := map[string]float64{
		"random pick":   (2.0/6 + 1.0/4 + 0) / 3,
		"majority vote": (1 + 0 + 0) / 3.0,
		"policy mine":   (1 + 0 + 0) / 3.0,
		"oracle":        2.0 / 3,
	}
	got := map[string]float64{}
	for _, r := range res.Rows {
		got[r.Method] = r.Accuracy
	}
	for m, w := range want {
		if g, ok := got[m]; !ok || g < w-1e-9 || g > w+1e-9 {
			t.Errorf("%s: got %v (present %v), want %v", m, g, ok, w)
		}
	}
	var b strings.Builder
	if err := WriteAccuracy(&b, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "3 tasks") || !strings.Contains(b.String(), "policy mine") {
		t.Errorf("report lacks the task count or a row:\n%s", b.String())
	}
}
