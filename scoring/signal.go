package scoring

import (
	"fmt"
	"sort"
	"strings"
)

// Signal names one piece of evidence a policy can filter or order on.
type Signal string

// registry lists every signal, in the order the ranking tables, the
// accuracy table and the documentation list them. Each signal is defined in
// the file that computes it (its SignalDef, and its Compute when its value
// is not one of the built-in fields of Signals). Adding a signal is one new
// file and one line here; every consumer (policies, the text and HTML
// tables, the accuracy table and AUCs, the tuning grids, the docs and the
// protocol's reference) iterates this list (docs/ARCHITECTURE.md).
var registry = []SignalDef{
	fpppSignal, regressionsSignal, generatedPassedSignal, // execution.go
	votesSignal, similaritySignal, localizationSignal, functionLocalizationSignal, lineLocalizationSignal, // consensus.go
	editConsensusSignal,                                                   // edit_consensus.go
	behaviourSignal,                                                       // behaviour.go
	verifierSignal,                                                        // candidate.go
	priorSignal,                                                           // prior.go
	sizeSignal, touchesTestsSignal, scratchFilesSignal, sizeOutlierSignal, // consensus.go
}

// SignalDef defines one signal: what it measures, in which unit, its
// direction and scale in policies, where a candidate's value is, and how
// the consumers that list signals treat it. Signals are defined inside this
// package (their values come from the assessment).
type SignalDef struct {
	// Name is the signal's name in policies and in Signals' JSON.
	Name Signal
	// Field, when set, is the name of the Signals field that holds the
	// value in JSON (and in the protocol's signals map), where it differs
	// from Name; a flag signal's value is its flag in Signals.Flags.
	Field string
	// Unit says what the value counts, or its range.
	Unit string
	// Doc says what the signal measures, in a sentence.
	Doc string
	// Execution is true for signals read from the runs: an execution-free
	// job has none of them.
	Execution bool
	// Flag, for a flag signal, is the flag it reads (1 when the candidate
	// carries it): a filter, not an ordering.
	Flag string
	// Column, when set, is the signal's column header in the ranking
	// tables (select's text report, the batch report), and Format the
	// fmt verb of its cells; a candidate without the signal shows "-".
	Column, Format string
	// AutoTerm marks a signal that is not in auto's consensus key yet:
	// bench accuracy chooses its weight on the dev pools (AutoWithTerm).
	AutoTerm bool
	// Tune are the weights `eval --tune` tries for the signal in the
	// consensus key; none: not tuned.
	Tune []float64

	lowerIsBetter bool
	// unitScale is true for signals already in [0, 1] (used as they are in
	// a weighted key); the others are min-max scaled over the candidates.
	unitScale bool
	// logOdds is true for a probability that enters a weighted key as its
	// log-odds: evidence of reliability compounds, so a model right 1 time
	// in 10 is as far below one right 5 times in 10 as one right 9 times in
	// 10 is above it.
	logOdds bool
	// counted is true for a count of candidates that includes the candidate
	// itself (votes): it enters a weighted key as the share of the others,
	// (v−1)/(n−1).
	counted bool
	// value returns the raw value and whether the signal is present; nil:
	// the value is in Signals.Extra, where compute put it.
	value func(s *Signals) (float64, bool)
	// compute, for a signal without a field of its own in Signals, computes
	// its value for the candidates in play that have one. Assess runs it
	// after the built-in signals, in registry order.
	compute func(in signalInput) map[string]float64
}

// signalInput is what a signal's compute sees: the matrix (nil when
// nothing ran), the candidates in play, their views, and the signals
// computed so far.
type signalInput struct {
	matrix *Matrix
	live   []string
	views  []view
	sig    map[string]*Signals
}

// signals indexes the registry by name.
var signals = func() map[Signal]SignalDef {
	m := make(map[Signal]SignalDef, len(registry))
	for _, d := range registry {
		if _, dup := m[d.Name]; dup {
			panic("scoring: signal " + string(d.Name) + " registered twice")
		}
		m[d.Name] = d
	}
	return m
}()

// SignalDefs lists every signal, in registry order.
func SignalDefs() []SignalDef { return append([]SignalDef(nil), registry...) }

// LookupSignal returns a signal's definition.
func LookupSignal(s Signal) (SignalDef, bool) {
	d, ok := signals[s]
	return d, ok
}

// flagSignal is the definition of a flag signal; tune are its weights for
// `eval --tune`.
func flagSignal(name Signal, flag, doc string, tune ...float64) SignalDef {
	return SignalDef{Name: name, Unit: "1 when flagged, else 0", Doc: doc, Flag: flag, Tune: tune, lowerIsBetter: true, unitScale: true,
		value: func(s *Signals) (float64, bool) {
			if hasFlag(s.Flags, flag) {
				return 1, true
			}
			return 0, true
		}}
}

// LowerIsBetter reports the signal's direction: for most signals higher is
// better; for regressions, size and the flags, lower is. Policies never
// state a direction: it belongs to the signal.
func (d SignalDef) LowerIsBetter() bool { return d.lowerIsBetter }

// InExtra reports whether a candidate's value of the signal is kept in
// Signals.Extra: the signal has no field of its own, nor is it a flag.
func (d SignalDef) InExtra() bool { return d.value == nil }

// Value returns a candidate's raw value of the signal (a flag as 1 when
// set), and whether the candidate has it.
func (d SignalDef) Value(s Signals) (float64, bool) { return d.read(&s) }

func (d SignalDef) read(s *Signals) (float64, bool) {
	if d.value != nil {
		return d.value(s)
	}
	v, ok := s.Extra[d.Name]
	return v, ok
}

// Cell is the signal's cell in a ranking table: Format applied to the
// value, or "-" when the candidate lacks the signal.
func (d SignalDef) Cell(s Signals) string {
	v, ok := d.read(&s)
	if !ok {
		return "-"
	}
	return fmt.Sprintf(d.Format, v)
}

// TableSignals are the signals with a column in the ranking tables, in
// registry order.
func TableSignals() []SignalDef {
	var out []SignalDef
	for _, d := range registry {
		if d.Column != "" {
			out = append(out, d)
		}
	}
	return out
}

// SignalNames lists the signals a policy may name, sorted.
func SignalNames() []string {
	names := make([]string, 0, len(registry))
	for _, d := range registry {
		names = append(names, string(d.Name))
	}
	sort.Strings(names)
	return names
}

func lookupSignal(s Signal) (SignalDef, error) {
	d, ok := signals[s]
	if !ok {
		return SignalDef{}, fmt.Errorf("unknown signal %q: want one of %s", s, strings.Join(SignalNames(), ", "))
	}
	return d, nil
}

// oriented returns the signal's value turned so that higher is better.
func (d SignalDef) oriented(s *Signals) (float64, bool) {
	v, ok := d.read(s)
	if d.lowerIsBetter {
		v = -v
	}
	return v, ok
}

// Value returns a candidate's raw value of the signal (a flag as 1 when
// set), and whether the candidate has it: the execution signals, the
// verifier and the prior can be absent.
func (s Signal) Value(sig Signals) (float64, bool) {
	d, ok := signals[s]
	if !ok {
		return 0, false
	}
	return d.read(&sig)
}

// computeSignals runs the compute of every signal that has one, in
// registry order, and stores the values in Signals.Extra.
func computeSignals(in signalInput) {
	for _, d := range registry {
		if d.compute == nil {
			continue
		}
		for id, v := range d.compute(in) {
			s := in.sig[id]
			if s.Extra == nil {
				s.Extra = map[Signal]float64{}
			}
			s.Extra[d.Name] = v
		}
	}
}
