package scoring

import (
	"encoding/json"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor/outcome"
)

// register adds a signal to the registry for the test's duration, as its
// one registration line would.
func register(t *testing.T, d SignalDef) {
	t.Helper()
	savedRegistry, savedIndex := registry, signals
	registry = append(slices.Clone(registry), d)
	signals = maps.Clone(signals)
	signals[d.Name] = d
	t.Cleanup(func() { registry, signals = savedRegistry, savedIndex })
}

// passedShare is a signal defined as a new one would be: the share of the
// base's counted cases the candidate's run passes, for candidates whose
// run completed. It has no field in Signals and no bound in Settle.
var passedShare = SignalDef{Name: "passed_share", Unit: "[0, 1]", Doc: "the share of the base's cases the run passes",
	Execution: true, unitScale: true,
	compute: func(in signalInput) map[string]float64 {
		if in.matrix == nil {
			return nil
		}
		out := map[string]float64{}
		for _, id := range in.live {
			row, ok := in.matrix.Candidates[id]
			if !ok || (row.Status != RunOK && row.Status != "") {
				continue
			}
			passed, total := 0, 0
			for a, cs := range in.matrix.Base.Cases {
				for c := range cs {
					total++
					if row.Cases[a][c] == outcome.Pass {
						passed++
					}
				}
			}
			if total > 0 {
				out[id] = float64(passed) / float64(total)
			}
		}
		return out
	}}

// TestAddedSignal: a signal defined in a file of its own and registered
// with one line is computed by Assess, named in JSON, ordered on by a
// policy, listed by SignalNames, and adaptive execution's guarantee holds
// for a policy that orders on it although Settle has no bound for it.
func TestAddedSignal(t *testing.T) {
	register(t, passedShare)
	if !slices.Contains(SignalNames(), "passed_share") {
		t.Fatal("SignalNames does not list the new signal")
	}
	p, err := ParsePolicy(`{"name": "share", "keys": [{"signal": "passed_share"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(16, 2))
	for range 150 {
		w := randomWorld(r)
		a, err := Assess(Input{Candidates: w.in.Candidates, Matrix: w.full, TestFiles: w.in.TestFiles})
		if err != nil {
			t.Fatal(err)
		}
		v, err := a.Select(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, rk := range v.Ranking {
			want, has := passedShare.compute(signalInput{matrix: w.full, live: []string{rk.ID}})[rk.ID]
			got, ok := passedShare.Value(rk.Signals)
			if ok != (has && rk.Out == "") || ok && got != want {
				t.Fatalf("%s: passed_share %v %v, want %v %v (out %q)", rk.ID, got, ok, want, has, rk.Out)
			}
			if ok {
				b, _ := json.Marshal(rk.Signals)
				if !strings.Contains(string(b), `"passed_share":`) {
					t.Fatalf("JSON %s lacks the new signal", b)
				}
			}
		}
		ad, err := NewAdaptive(w.in, p, w.effects)
		if err != nil {
			t.Fatal(err)
		}
		partial := *w.full
		partial.Candidates = map[string]Row{}
		order := ad.Order()
		for _, id := range order[:r.IntN(len(order)+1)] {
			partial.Candidates[id] = w.full.Candidates[id]
		}
		s := ad.Settle(&partial)
		if s.Chosen == "" {
			continue
		}
		if s.Chosen != v.Chosen || !sameSet(s.Ties, v.Ties) {
			t.Fatalf("Settle chose %q ties %v on part of the runs; every run made chooses %q ties %v", s.Chosen, s.Ties, v.Chosen, v.Ties)
		}
	}
}
