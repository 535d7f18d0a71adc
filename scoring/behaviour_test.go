package scoring

import (
	"math"
	"testing"

	"github.com/bestpatch/bestpatch/executor/outcome"
)

// TestBehaviour: candidates with the same outcome on every case are one
// class, backed by its size and the generated cases it passes; original
// cases decide the class but are not counted when generated ones exist; a
// candidate without a completed run has no value.
func TestBehaviour(t *testing.T) {
	arts := []Artifact{{ID: "orig"}, {ID: "g1", Generated: true}}
	row := func(o, a, b string) Row {
		return okRow(map[string]map[string]outcome.Outcome{"orig": cases("o=" + o), "g1": cases("a="+a, "b="+b)})
	}
	m := &Matrix{Artifacts: arts, Base: row("PASS", "FAIL", "FAIL"), Candidates: map[string]Row{
		"fix1": row("PASS", "PASS", "PASS"), "fix2": row("PASS", "PASS", "PASS"),
		"wrong1": row("PASS", "PASS", "FAIL"), "wrong2": row("PASS", "PASS", "FAIL"), "wrong3": row("PASS", "PASS", "FAIL"),
		"regress": row("FAIL", "PASS", "PASS"),
		"hang":    {Status: RunUnknown},
	}}
	want := map[string]float64{
		"fix1": 2.0 / 6 * 2 / 2, "fix2": 2.0 / 6 * 2 / 2,
		"wrong1": 3.0 / 6 * 1 / 2, "wrong2": 3.0 / 6 * 1 / 2, "wrong3": 3.0 / 6 * 1 / 2,
		"regress": 1.0 / 6 * 2 / 2,
	}
	var cands []Candidate
	for i, id := range []string{"fix1", "fix2", "wrong1", "wrong2", "wrong3", "regress", "hang"} {
		cands = append(cands, Candidate{ID: id, Patch: onePatch(i)})
	}
	a, err := Assess(Input{Candidates: cands, Matrix: m})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cands {
		s, _ := a.Signals(c.ID)
		w, ok := want[c.ID]
		switch {
		case !ok && behaviourOf(s) != nil:
			t.Errorf("%s: behaviour %v, want none", c.ID, *behaviourOf(s))
		case ok && (behaviourOf(s) == nil || math.Abs(*behaviourOf(s)-w) > 1e-12):
			t.Errorf("%s: behaviour %v, want %v", c.ID, deref(behaviourOf(s)), w)
		}
	}
	v, err := a.Select(Policy{Name: "codet", Keys: []Key{{Signal: SignalBehaviour}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Ties) != 2 || v.Ties[0] != "fix1" {
		t.Errorf("behaviour alone chose %s among %v, want the class of the fix", v.Chosen, v.Ties)
	}

	// Without a generated test, the original cases are the ones counted.
	m2 := &Matrix{Artifacts: arts[:1], Base: okRow(map[string]map[string]outcome.Outcome{"orig": cases("o=PASS", "p=FAIL")}), Candidates: map[string]Row{
		"fix": okRow(map[string]map[string]outcome.Outcome{"orig": cases("o=PASS", "p=PASS")}),
		"no":  okRow(map[string]map[string]outcome.Outcome{"orig": cases("o=PASS", "p=FAIL")}),
	}}
	a2, err := Assess(Input{Candidates: []Candidate{{ID: "fix", Patch: onePatch(0)}, {ID: "no", Patch: onePatch(1)}}, Matrix: m2})
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := a2.Signals("fix"); behaviourOf(s) == nil || *behaviourOf(s) != 0.5 {
		t.Errorf("fix: behaviour %v, want 1/2 · 2/2", deref(behaviourOf(s)))
	}
	if s, _ := a2.Signals("no"); behaviourOf(s) == nil || *behaviourOf(s) != 0.25 {
		t.Errorf("no: behaviour %v, want 1/2 · 1/2", deref(behaviourOf(s)))
	}
}

// behaviourOf is a candidate's behaviour signal, nil when it has none.
func behaviourOf(s Signals) *float64 {
	v, ok := SignalBehaviour.Value(s)
	if !ok {
		return nil
	}
	return &v
}
