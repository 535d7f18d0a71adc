package evaluation

import (
	"github.com/bestpatch/bestpatch/scoring"
)

// aucSignal is a continuous signal read for AUC, oriented so that higher
// should mean "more likely resolved".
type aucSignal struct {
	name  string
	value func(s scoring.Signals, key float64) float64
}

func flagValue(flag string) func(s scoring.Signals, _ float64) float64 {
	return func(s scoring.Signals, _ float64) float64 {
		for _, f := range s.Flags {
			if f == flag {
				return 0
			}
		}
		return 1
	}
}

var aucSignals = []aucSignal{
	{"votes", func(s scoring.Signals, _ float64) float64 { return float64(s.Votes) }},
	{"similarity", func(s scoring.Signals, _ float64) float64 { return s.Similarity }},
	{"localization", func(s scoring.Signals, _ float64) float64 { return s.Localization }},
	{"function_localization", func(s scoring.Signals, _ float64) float64 { return s.FunctionLocalization }},
	{"line_localization", func(s scoring.Signals, _ float64) float64 { return s.LineLocalization }},
	{"-size", func(s scoring.Signals, _ float64) float64 { return -float64(s.ChangedLines) }},
	{"no touches_tests", flagValue(scoring.FlagTouchesTests)},
	{"no scratch_files", flagValue(scoring.FlagScratchFiles)},
	{"no size_outlier", flagValue(scoring.FlagSizeOutlier)},
	{"consensus score", func(_ scoring.Signals, key float64) float64 { return key }},
}

// outFlags mark candidates scoring leaves out before any policy.
var outFlags = []string{scoring.FlagEmpty, scoring.FlagOnlyTests, scoring.FlagOnlyScratch, scoring.FlagApplyFailed}

func isOut(s scoring.Signals) bool {
	for _, f := range s.Flags {
		for _, o := range outFlags {
			if f == o {
				return true
			}
		}
	}
	return false
}

// signalAUCs computes each signal's AUC over the candidates in play.
func signalAUCs(items []assessed) []SignalAUC {
	consensusKeyOnly := scoring.Policy{Name: "consensus-score"}
	if p, err := scoring.ParsePolicy(scoring.PolicyConsensus); err == nil {
		consensusKeyOnly.Keys = p.Keys
	}
	type column struct {
		pooled       []float64
		pooledLabels []bool
		withinSum    float64
		withinN      int
	}
	cols := make([]column, len(aucSignals))
	for _, it := range items {
		if len(it.ids) < 2 {
			continue
		}
		key := map[string]float64{}
		if v, err := it.a.Select(consensusKeyOnly); err == nil {
			for _, r := range v.Ranking {
				if len(r.Keys) > 0 && r.Keys[0] != nil {
					key[r.ID] = *r.Keys[0]
				}
			}
		}
		for k, sig := range aucSignals {
			var vals []float64
			var labels []bool
			for _, id := range it.ids {
				s, _ := it.a.Signals(id)
				if isOut(s) {
					continue
				}
				vals = append(vals, sig.value(s, key[id]))
				labels = append(labels, it.resolved[id])
			}
			cols[k].pooled = append(cols[k].pooled, vals...)
			cols[k].pooledLabels = append(cols[k].pooledLabels, labels...)
			if auc, ok := scoring.AUC(vals, labels); ok {
				cols[k].withinSum += auc
				cols[k].withinN++
			}
		}
	}
	out := make([]SignalAUC, len(aucSignals))
	for k, sig := range aucSignals {
		out[k] = SignalAUC{Signal: sig.name, Instances: cols[k].withinN}
		if cols[k].withinN > 0 {
			out[k].Within = cols[k].withinSum / float64(cols[k].withinN)
		}
		if auc, ok := scoring.AUC(cols[k].pooled, cols[k].pooledLabels); ok {
			out[k].Pooled = auc
		}
	}
	return out
}
