package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor/outcome"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

// filler sets every exported field of a value to a value of its own, so
// that a conversion that drops or mixes up a field fails its round trip.
type filler struct{ n int }

var (
	timeType     = reflect.TypeFor[time.Time]()
	durationType = reflect.TypeFor[time.Duration]()
	outcomeType  = reflect.TypeFor[outcome.Outcome]()
)

func (f *filler) fill(v reflect.Value) {
	f.n++
	n := f.n
	switch {
	case v.Type() == timeType:
		v.Set(reflect.ValueOf(time.Unix(int64(1_700_000_000+n), 0).UTC()))
		return
	case v.Type() == durationType, v.Type() == reflect.TypeFor[selector.Duration]():
		v.SetInt(int64(n) * int64(time.Millisecond))
		return
	case v.Type() == outcomeType:
		v.SetUint(uint64(1 + n%4)) // the four outcomes
		return
	case v.Type() == reflect.TypeFor[map[scoring.Signal]float64]():
		// Signals.Extra holds registered signals only (behaviour).
		v.Set(reflect.ValueOf(map[scoring.Signal]float64{scoring.SignalBehaviour: float64(n) + 0.25}))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("v%d", n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(n))
	case reflect.Uint8, reflect.Uint64:
		v.SetUint(uint64(n))
	case reflect.Float64:
		v.SetFloat(float64(n) + 0.25)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		f.fill(v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			f.fill(v.Index(i))
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			f.fill(k)
			f.fill(e)
			v.SetMapIndex(k, e)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				f.fill(v.Field(i))
			}
		}
	default:
		panic(fmt.Sprintf("filler: no value for %s", v.Type()))
	}
}

// throughJSON sends v as a client would receive it and decodes it strictly.
func throughJSON[T any](t *testing.T, v T) T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return out
}

// TestRoundTrips: every field of the selector's job, report and event
// survives the trip to the wire, through JSON, and back. A field added to
// the selector's types and not to the wire's fails here: carry it (a
// change to the schema, so a new version) or say why it is not sent.
func TestRoundTrips(t *testing.T) {
	f := &filler{}
	t.Run("job", func(t *testing.T) {
		var in selector.Job
		f.fill(reflect.ValueOf(&in).Elem())
		// An open job travels as an OpenJob (bestpatch.v1.open), which
		// carries its stop rule; a Job is submitted whole and has none.
		back, err := throughJSON(t, FromOpenJob(in)).ToSelector()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, in) {
			t.Errorf("open job changed on the way:\n got %+v\nwant %+v", back, in)
		}
		in.Options.Stream = nil
		if back, err = throughJSON(t, FromJob(in)).ToSelector(); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, in) {
			t.Errorf("job changed on the way:\n got %+v\nwant %+v", back, in)
		}
	})
	t.Run("report", func(t *testing.T) {
		var in selector.Report
		f.fill(reflect.ValueOf(&in).Elem())
		// v1 carries a candidate not run as an unknown row with the
		// not_run flag and reason; Basis.NotRun is those candidates.
		notRun := &in.Verdict.Ranking[1]
		notRun.Signals.Status = scoring.RunNotRun
		notRun.Signals.Flags = append(notRun.Signals.Flags, scoring.FlagNotRun)
		in.Verdict.Basis.NotRun = []string{notRun.ID}
		in.Matrix.Candidates[notRun.ID] = scoring.Row{Status: scoring.RunNotRun, Reason: scoring.NotRunReason}
		// An open job's standing verdict is a message of its own
		// (Standing), not part of its report. Not sent either: Results stay
		// in the process (json:"-"), and v1 has no field for the count of
		// distinct runs not made (the candidates not run travel, as above)
		// nor for the runs made ahead and dropped (the daemon's workers make
		// none).
		in.Standing, in.Results, in.NotRun, in.AheadDropped = nil, nil, 0, 0
		back, err := throughJSON(t, FromReport(in)).ToSelector()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, in) {
			t.Errorf("report changed on the way:\n got %+v\nwant %+v", back, in)
		}
	})
	t.Run("standing", func(t *testing.T) {
		var st scoring.Standing
		var v scoring.Verdict
		f.fill(reflect.ValueOf(&st).Elem())
		st.Recommendation = scoring.RecommendStop
		v.Chosen, v.Why, v.Ranking = "a", "because", []scoring.Ranked{}
		msg := throughJSON(t, FromStanding("j", 3, true, st, v))
		if back := msg.ToScoring(); !reflect.DeepEqual(back, st) || msg.Job != "j" || msg.Batch != 3 || !msg.Final {
			t.Errorf("standing changed on the way:\n got %+v\nwant %+v", back, st)
		}
		if back, err := msg.VerdictToScoring(); err != nil || back.Chosen != "a" || back.Why != "because" {
			t.Errorf("standing verdict: %+v, %v", back, err)
		}
	})
	t.Run("event", func(t *testing.T) {
		var in selector.Event
		f.fill(reflect.ValueOf(&in).Elem())
		in.Seconds = 1.5
		if back := throughJSON(t, FromEvent(in)).ToSelector(); !reflect.DeepEqual(back, in) {
			t.Errorf("event changed on the way:\n got %+v\nwant %+v", back, in)
		}
	})
}

// TestSignalsByName: numeric signals travel by their names, and a signal
// without a value is absent, never 0.
func TestSignalsByName(t *testing.T) {
	fppp, zero := 1.5, 0
	r := FromReport(selector.Report{Verdict: scoring.Verdict{Ranking: []scoring.Ranked{
		{ID: "a", Rank: 1, Signals: scoring.Signals{Status: scoring.RunOK, FPPP: &fppp, Regressions: &zero, Votes: 2, Flags: []string{scoring.FlagTouchesTests}}},
	}}})
	got := r.Verdict.Ranking[0]
	if got.Signals["fppp"] != 1.5 || got.Signals["votes"] != 2 || got.Status != RowOK || len(got.Flags) != 1 {
		t.Errorf("ranked %+v", got)
	}
	if v, ok := got.Signals["regressions"]; !ok || v != 0 {
		t.Errorf("regressions 0 lost: %v", got.Signals)
	}
	for _, absent := range []string{"verifier", "prior", "generated_passed", "status", "key", "flags"} {
		if _, ok := got.Signals[absent]; ok {
			t.Errorf("signals has %s: %v", absent, got.Signals)
		}
	}
	bad := Ranked{ID: "x", Signals: map[string]float64{"status": 1}}
	if _, err := bad.signals(); err == nil {
		t.Error("a numeric status was taken")
	}
}

func TestDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{`"10m"`: 10 * time.Minute, `90`: 90 * time.Second, `1.5`: 1500 * time.Millisecond} {
		var d Duration
		if err := json.Unmarshal([]byte(in), &d); err != nil || time.Duration(d) != want {
			t.Errorf("%s: %v %v, want %v", in, time.Duration(d), err, want)
		}
	}
	for _, in := range []string{`"ten minutes"`, `true`, `1e300`, `{}`} {
		var task Task
		err := json.Unmarshal([]byte(`{"timeout":`+in+`}`), &task)
		if err == nil {
			t.Errorf("%s: taken as %v", in, time.Duration(*task.Timeout))
			continue
		}
		if te, ok := err.(*json.UnmarshalTypeError); !ok || te.Field != "timeout" {
			t.Errorf("%s: %v, want a type error naming the field", in, err)
		}
	}
	if b, _ := json.Marshal(Duration(90 * time.Second)); string(b) != `"1m30s"` {
		t.Errorf("marshal: %s", b)
	}
}

// TestSignalValuesMatchJSON: the signals map holds exactly the numeric
// fields of scoring.Signals' JSON, by their JSON names, with every field
// set and with none.
func TestSignalValuesMatchJSON(t *testing.T) {
	var full scoring.Signals
	(&filler{}).fill(reflect.ValueOf(&full).Elem())
	for name, s := range map[string]scoring.Signals{"full": full, "empty": {}} {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var fields map[string]any
		if err := json.Unmarshal(b, &fields); err != nil {
			t.Fatal(err)
		}
		want := map[string]float64{}
		for k, v := range fields {
			if f, ok := v.(float64); ok {
				want[k] = f
			}
		}
		if got := signalValues(s); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: signalValues = %v, want %v", name, got, want)
		}
	}
}

// TestSignalsFromWire: a count must be a whole number, a registered signal
// without a field lands in Extra, and a name nothing knows is ignored.
func TestSignalsFromWire(t *testing.T) {
	tests := []struct {
		name    string
		signals map[string]float64
		want    scoring.Signals
		wantErr bool
	}{
		{"count", map[string]float64{"votes": 3, "regressions": 0, "similarity": 0.5},
			scoring.Signals{Votes: 3, Regressions: new(int), Similarity: 0.5}, false},
		{"fractional count", map[string]float64{"votes": 1.5}, scoring.Signals{}, true},
		{"extra", map[string]float64{string(scoring.SignalBehaviour): 0.25},
			scoring.Signals{Extra: map[scoring.Signal]float64{scoring.SignalBehaviour: 0.25}}, false},
		{"unknown", map[string]float64{"no_such_signal": 1}, scoring.Signals{}, false},
	}
	for _, tt := range tests {
		got, err := Ranked{ID: "a", Signals: tt.signals}.signals()
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err %v, want error %v", tt.name, err, tt.wantErr)
			continue
		}
		if err == nil && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
