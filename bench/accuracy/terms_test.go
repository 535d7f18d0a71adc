package accuracy

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/scoring"
)

// TestMeasureTerm: weight 0 is auto's key as it is; the test split is never
// read; an unknown signal is refused.
func TestMeasureTerm(t *testing.T) {
	insts := labelledSet(30, nil)
	rs, err := MeasureTerm(context.Background(), []DataSet{{Name: "toy", Instances: insts}}, scoring.SignalSize)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != len(TermWeights) || rs[0].Weight != 0 {
		t.Fatalf("results %+v", rs)
	}
	// On dev, good is always right: with priors auto picks it (1); without,
	// the two candidates tie (1/2).
	if rs[0].Dev["toy"] != 1 || rs[0].DevNoPriors["toy"] != 0.5 {
		t.Errorf("weight 0: %+v", rs[0])
	}
	wrong := map[string]bool{}
	for _, inst := range insts {
		if Split(inst.ID) == SplitTest {
			wrong[inst.ID] = true
		}
	}
	again, err := MeasureTerm(context.Background(), []DataSet{{Name: "toy", Instances: labelledSet(30, wrong)}}, scoring.SignalSize)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rs {
		if rs[i].Dev["toy"] != again[i].Dev["toy"] || rs[i].DevNoPriors["toy"] != again[i].DevNoPriors["toy"] {
			t.Errorf("weight %v: test labels moved a dev figure", rs[i].Weight)
		}
	}
	var out bytes.Buffer
	if err := WriteTermResults(&out, rs); err != nil || !strings.Contains(out.String(), "toy (no priors)") {
		t.Errorf("table (%v):\n%s", err, out.String())
	}
	// Weight 0 is auto itself, pool by pool.
	bySplit, err := poolsBySplit(context.Background(), insts)
	if err != nil {
		t.Fatal(err)
	}
	auto, _ := scoring.ParsePolicy(scoring.PolicyAuto)
	for _, p := range append(bySplit[SplitDev], bySplit[SplitTest]...) {
		a, _ := AutoWithTerm(scoring.SignalSize, 0).Score(p)
		b, _ := Policy(auto).Score(p)
		if a != b {
			t.Errorf("%s: auto + 0·size %+v, auto %+v", p.ID, a, b)
		}
	}
	if _, err := MeasureTerm(context.Background(), nil, "charisma"); err == nil {
		t.Error("an unknown signal was measured")
	}
}
