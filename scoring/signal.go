package scoring

import (
	"fmt"
	"sort"
	"strings"
)

// Signal names one piece of evidence a policy can filter or order on.
type Signal string

// The signals. Each has a direction: for most, higher is better; for
// regressions, size and the flags, lower is better. Policies never state a
// direction: it belongs to the signal.
const (
	SignalFPPP                 Signal = "fppp"                  // Kimi-Dev S_i, [0, 2]
	SignalRegressions          Signal = "regressions"           // broken original cases, lower is better
	SignalGeneratedPassed      Signal = "generated_passed"      // reproducing generated tests fully passed
	SignalVotes                Signal = "votes"                 // identical normalized patches, itself included
	SignalSimilarity           Signal = "similarity"            // mean similarity to the most similar half of the others
	SignalLocalization         Signal = "localization"          // file overlap with the others
	SignalFunctionLocalization Signal = "function_localization" // function overlap with the others
	SignalLineLocalization     Signal = "line_localization"     // edited-line overlap, top half of the others
	SignalEditConsensus        Signal = "edit_consensus"        // support of the candidate's edits across the pool
	SignalBehaviour            Signal = "behaviour"             // behaviour class size × cases it passes (CodeT), [0, 1]
	SignalVerifier             Signal = "verifier"              // judge P(YES)
	SignalPrior                Signal = "prior"                 // reliability prior of the producing model, [0, 1]
	SignalSize                 Signal = "size"                  // changed canonical lines, lower is better
	SignalTouchesTests         Signal = "touches_tests"         // 1 when flagged, lower is better
	SignalSizeOutlier          Signal = "size_outlier"          // 1 when flagged, lower is better
	SignalScratchFiles         Signal = "scratch_files"         // 1 when flagged, lower is better
)

type signalInfo struct {
	lowerIsBetter bool
	// unitScale is true for signals already in [0, 1] (used as they are in a
	// weighted key); the others are min-max scaled over the candidates.
	unitScale bool
	// logOdds is true for a probability that enters a weighted key as its
	// log-odds: evidence of reliability compounds, so a model right 1 time
	// in 10 is as far below one right 5 times in 10 as one right 9 times in
	// 10 is above it.
	logOdds bool
	// value returns the raw value and whether the signal is present.
	value func(s *Signals) (float64, bool)
}

var signals = map[Signal]signalInfo{
	SignalFPPP: {value: func(s *Signals) (float64, bool) {
		if s.FPPP == nil {
			return 0, false
		}
		return *s.FPPP, true
	}},
	SignalRegressions: {lowerIsBetter: true, value: func(s *Signals) (float64, bool) {
		if s.Regressions == nil {
			return 0, false
		}
		return float64(*s.Regressions), true
	}},
	SignalGeneratedPassed: {value: func(s *Signals) (float64, bool) {
		if s.GeneratedPassed == nil {
			return 0, false
		}
		return float64(*s.GeneratedPassed), true
	}},
	SignalVotes: {value: func(s *Signals) (float64, bool) { return float64(s.Votes), true }},
	SignalSimilarity: {unitScale: true, value: func(s *Signals) (float64, bool) {
		return s.Similarity, true
	}},
	SignalLocalization: {unitScale: true, value: func(s *Signals) (float64, bool) {
		return s.Localization, true
	}},
	SignalFunctionLocalization: {unitScale: true, value: func(s *Signals) (float64, bool) {
		return s.FunctionLocalization, true
	}},
	SignalLineLocalization: {unitScale: true, value: func(s *Signals) (float64, bool) {
		return s.LineLocalization, true
	}},
	SignalEditConsensus: {value: func(s *Signals) (float64, bool) {
		return s.EditConsensus, true
	}},
	SignalBehaviour: {unitScale: true, value: func(s *Signals) (float64, bool) {
		if s.Behaviour == nil {
			return 0, false
		}
		return *s.Behaviour, true
	}},
	SignalVerifier: {unitScale: true, value: func(s *Signals) (float64, bool) {
		if s.Verifier == nil {
			return 0, false
		}
		return *s.Verifier, true
	}},
	SignalPrior: {unitScale: true, logOdds: true, value: func(s *Signals) (float64, bool) {
		if s.Prior == nil {
			return 0, false
		}
		return *s.Prior, true
	}},
	SignalSize: {lowerIsBetter: true, value: func(s *Signals) (float64, bool) {
		return float64(s.ChangedLines), true
	}},
	SignalTouchesTests: flagSignal(FlagTouchesTests),
	SignalSizeOutlier:  flagSignal(FlagSizeOutlier),
	SignalScratchFiles: flagSignal(FlagScratchFiles),
}

func flagSignal(flag string) signalInfo {
	return signalInfo{lowerIsBetter: true, unitScale: true, value: func(s *Signals) (float64, bool) {
		if hasFlag(s.Flags, flag) {
			return 1, true
		}
		return 0, true
	}}
}

// SignalNames lists the signals a policy may name, sorted.
func SignalNames() []string {
	names := make([]string, 0, len(signals))
	for s := range signals {
		names = append(names, string(s))
	}
	sort.Strings(names)
	return names
}

func lookupSignal(s Signal) (signalInfo, error) {
	info, ok := signals[s]
	if !ok {
		return signalInfo{}, fmt.Errorf("unknown signal %q: want one of %s", s, strings.Join(SignalNames(), ", "))
	}
	return info, nil
}

// oriented returns the signal's value turned so that higher is better.
func (info signalInfo) oriented(s *Signals) (float64, bool) {
	v, ok := info.value(s)
	if info.lowerIsBetter {
		v = -v
	}
	return v, ok
}

// Value returns a candidate's raw value of the signal (a flag as 1 when
// set), and whether the candidate has it: the execution signals, the
// verifier and the prior can be absent.
func (s Signal) Value(sig Signals) (float64, bool) {
	info, ok := signals[s]
	if !ok {
		return 0, false
	}
	return info.value(&sig)
}
