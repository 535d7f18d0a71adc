package scoring

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Policy is a selection rule: filters applied in order, then an ordering
// by keys compared lexicographically, then the fixed tie rules (fewer
// changed lines, then the smaller candidate ID). A filter or key whose signal
// no candidate has is skipped, and the verdict notes it, so one policy
// serves jobs with and without tests or verifier scores.
//
// A Policy can be written as JSON, for example
//
//	{"name": "mine",
//	 "filters": [{"signal": "regressions", "keep": "best"}],
//	 "keys": [{"signal": "fppp"}, {"weights": {"similarity": 1, "votes": 0.5}}]}
type Policy struct {
	Name string `json:"name"`
	// Doc says in a sentence what the policy does and where it comes from.
	Doc     string   `json:"doc,omitempty"`
	Filters []Filter `json:"filters,omitempty"`
	Keys    []Key    `json:"keys,omitempty"`
	// Auto makes the policy choose, per job, the built-in ordering suited to
	// the signals the job has (Filters and Keys are then ignored).
	Auto bool `json:"auto,omitempty"`
}

// Filter keeps part of the candidates by one signal.
type Filter struct {
	Signal Signal `json:"signal"`
	// Keep is "best" (keep the candidates with the best value: minimum
	// regressions, no flag) or "top" (keep the best Fraction, at least Min;
	// candidates equal to the last one kept are kept too).
	Keep     string  `json:"keep"`
	Fraction float64 `json:"fraction,omitempty"`
	Min      int     `json:"min,omitempty"`
}

// Filter kinds.
const (
	KeepBest = "best"
	KeepTop  = "top"
)

// Key orders candidates by one signal, or by a weighted sum of signals when
// Weights is set. In a weighted sum each signal enters as a utility in
// [0, 1], higher is better: signals already in [0, 1] as they are (flags as
// 1 - flag), votes as the share of the other candidates that agree exactly
// ((votes-1)/(n-1)), and counts (regressions, size, FP/PP, generated tests
// passed) min-max scaled over the candidates still in play.
type Key struct {
	Signal  Signal             `json:"signal,omitempty"`
	Weights map[Signal]float64 `json:"weights,omitempty"`
}

// String names the key for reports.
func (k Key) String() string {
	if len(k.Weights) == 0 {
		return string(k.Signal)
	}
	names := make([]string, 0, len(k.Weights))
	for s := range k.Weights {
		names = append(names, string(s))
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%g·%s", k.Weights[Signal(n)], n)
	}
	return strings.Join(parts, " + ")
}

// Validate checks that every signal is known and every filter well formed.
func (p Policy) Validate() error {
	if p.Auto {
		return nil
	}
	if len(p.Keys) == 0 && len(p.Filters) == 0 {
		return fmt.Errorf("policy %q has no filters and no keys: give at least one key", p.Name)
	}
	for i, f := range p.Filters {
		if _, err := lookupSignal(f.Signal); err != nil {
			return fmt.Errorf("policy %q filter %d: %w", p.Name, i+1, err)
		}
		switch f.Keep {
		case KeepBest:
		case KeepTop:
			if f.Fraction <= 0 || f.Fraction > 1 {
				return fmt.Errorf("policy %q filter %d: fraction %g is outside (0, 1]", p.Name, i+1, f.Fraction)
			}
		default:
			return fmt.Errorf("policy %q filter %d: keep %q: want %q or %q", p.Name, i+1, f.Keep, KeepBest, KeepTop)
		}
	}
	for i, k := range p.Keys {
		if (k.Signal == "") == (len(k.Weights) == 0) {
			return fmt.Errorf("policy %q key %d: give either a signal or weights", p.Name, i+1)
		}
		if k.Signal != "" {
			if _, err := lookupSignal(k.Signal); err != nil {
				return fmt.Errorf("policy %q key %d: %w", p.Name, i+1, err)
			}
		}
		for s := range k.Weights {
			if _, err := lookupSignal(s); err != nil {
				return fmt.Errorf("policy %q key %d: %w", p.Name, i+1, err)
			}
		}
	}
	return nil
}

// ParsePolicy returns the built-in policy of that name, or reads a policy
// from a JSON spec (a string starting with "{").
func ParsePolicy(spec string) (Policy, error) {
	spec = strings.TrimSpace(spec)
	if strings.HasPrefix(spec, "{") {
		dec := json.NewDecoder(bytes.NewReader([]byte(spec)))
		dec.DisallowUnknownFields()
		var p Policy
		if err := dec.Decode(&p); err != nil {
			return Policy{}, fmt.Errorf("read policy spec: %w", err)
		}
		if p.Name == "" {
			p.Name = "custom"
		}
		if err := p.Validate(); err != nil {
			return Policy{}, err
		}
		return p, nil
	}
	if spec == "" {
		spec = PolicyAuto
	}
	for _, p := range builtinPolicies() {
		if p.Name == spec {
			return p, nil
		}
	}
	return Policy{}, fmt.Errorf("unknown policy %q: want one of %s, or a JSON spec", spec, strings.Join(PolicyNames(), ", "))
}

// PolicyNames lists the built-in policies, the default first.
func PolicyNames() []string {
	var names []string
	for _, p := range builtinPolicies() {
		names = append(names, p.Name)
	}
	return names
}
