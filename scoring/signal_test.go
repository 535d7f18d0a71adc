package scoring

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestRegistry: every signal says what it measures and in which unit, has
// a way to its value, and a column has a format.
func TestRegistry(t *testing.T) {
	for _, d := range SignalDefs() {
		if d.Name == "" || d.Unit == "" || d.Doc == "" {
			t.Errorf("signal %q: name, unit and doc are required: %+v", d.Name, d)
		}
		if (d.value == nil) == (d.compute == nil) {
			t.Errorf("signal %s: a value reader or a compute, exactly one", d.Name)
		}
		if (d.Column == "") != (d.Format == "") {
			t.Errorf("signal %s: a column needs a format, and a format a column", d.Name)
		}
		if d.Flag != "" && !d.lowerIsBetter {
			t.Errorf("signal %s: a flag is lower-is-better", d.Name)
		}
		if got, ok := LookupSignal(d.Name); !ok || got.Name != d.Name {
			t.Errorf("signal %s: not found by name", d.Name)
		}
	}
}

// TestExtraSignalsJSON: a signal kept in Signals.Extra is a field of its
// own in JSON, by name, and reads back into Extra; absent, it is absent.
func TestExtraSignalsJSON(t *testing.T) {
	fppp := 1.5
	s := Signals{Status: RunOK, FPPP: &fppp, FP: 2, Votes: 3, Flags: []string{FlagScratchFiles}, Extra: map[Signal]float64{SignalBehaviour: 0.25}}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"flags":["scratch_files"],"behaviour":0.25}`) {
		t.Errorf("JSON %s: want behaviour as a field of its own", b)
	}
	var back Signals
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Errorf("read back %+v, want %+v", back, s)
	}
	if v, ok := SignalBehaviour.Value(back); !ok || v != 0.25 {
		t.Errorf("behaviour %v %v", v, ok)
	}
	s.Extra = nil
	if b, _ := json.Marshal(s); strings.Contains(string(b), "behaviour") {
		t.Errorf("JSON %s: a signal the candidate lacks is absent", b)
	}
	if err := json.Unmarshal([]byte(`{"fp":0,"pp":0,"votes":1,"behaviour":"high"}`), &back); err == nil {
		t.Error("a signal that is not a number was read")
	}
}
