package outcome

import (
	"encoding/json"
	"testing"
)

// The names are the wire's (docs/wire): each outcome writes its name, reads
// back from it, and an unknown name or a non-string is an error.
func TestOutcomeJSON(t *testing.T) {
	for _, tc := range []struct {
		o    Outcome
		json string
	}{{Pass, `"PASS"`}, {Fail, `"FAIL"`}, {Error, `"ERROR"`}, {Skip, `"SKIP"`}} {
		b, err := json.Marshal(tc.o)
		if err != nil || string(b) != tc.json {
			t.Errorf("Marshal(%v) = %s, %v; want %s", tc.o, b, err, tc.json)
		}
		var got Outcome
		if err := json.Unmarshal([]byte(tc.json), &got); err != nil || got != tc.o {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", tc.json, got, err, tc.o)
		}
	}
	for _, bad := range []string{`"pass"`, `"XFAIL"`, `1`, `null`} {
		var got Outcome
		if err := json.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("Unmarshal(%s) = %v, want an error", bad, got)
		}
	}
	if s := Outcome(0).String(); s != "Outcome(0)" {
		t.Errorf("the zero outcome is %q", s)
	}
}
