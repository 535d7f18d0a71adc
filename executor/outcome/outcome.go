// Package outcome is how one test case ended in one run: PASS, FAIL, ERROR
// or SKIP, and their names in reports and JSON. The executor reports
// outcomes and scoring reads them; the type lives here, a leaf that imports
// only the standard library, so that scoring can use it and stay pure (it
// must not import the executor, which does I/O).
package outcome

import (
	"encoding/json"
	"fmt"
)

// Outcome is how one test case ended in one run.
type Outcome uint8

const (
	// Pass: the case ran and passed.
	Pass Outcome = iota + 1
	// Fail: the case ran and failed (an assertion, a panic inside the case).
	Fail
	// Error: the case did not run (its package did not build, collection
	// failed, or the run stopped before it). Kept apart from Fail on purpose:
	// a test that does not compile says nothing about the candidate's logic.
	Error
	// Skip: the case ran and skipped itself.
	Skip
)

var outcomeNames = map[Outcome]string{Pass: "PASS", Fail: "FAIL", Error: "ERROR", Skip: "SKIP"}

// String returns the upper-case name used in reports and JSON.
func (o Outcome) String() string {
	if s, ok := outcomeNames[o]; ok {
		return s
	}
	return fmt.Sprintf("Outcome(%d)", o)
}

// Parse reads the name written by String.
func Parse(s string) (Outcome, error) {
	for o, name := range outcomeNames {
		if name == s {
			return o, nil
		}
	}
	return 0, fmt.Errorf("unknown test outcome %q: want PASS, FAIL, ERROR or SKIP", s)
}

// MarshalJSON writes the outcome as its name.
func (o Outcome) MarshalJSON() ([]byte, error) { return json.Marshal(o.String()) }

// UnmarshalJSON reads the outcome from its name.
func (o *Outcome) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("test outcome: %w", err)
	}
	v, err := Parse(s)
	if err != nil {
		return err
	}
	*o = v
	return nil
}
