package accuracy

import (
	"sort"

	"github.com/bestpatch/bestpatch/scoring"
)

// aucSignal is a continuous signal read for AUC, oriented so that higher
// should mean "more likely resolved".
type aucSignal struct {
	name  string
	value func(s scoring.Signals, key float64) float64
}

// aucSignals are the execution-free signals some candidate in play has
// (the labelled candidate sets hold no runs), each oriented ("-size", "no
// touches_tests"; a candidate without the signal counts 0), then the
// consensus key's score.
func aucSignals(pools []Pool) []aucSignal {
	var out []aucSignal
	for _, d := range scoring.SignalDefs() {
		if d.Execution || !anyHas(pools, d.Name) {
			continue
		}
		sig := aucSignal{name: string(d.Name), value: func(s scoring.Signals, _ float64) float64 {
			v, _ := d.Value(s)
			return v
		}}
		switch {
		case d.Flag != "":
			sig.name = "no " + sig.name
			sig.value = func(s scoring.Signals, _ float64) float64 {
				v, _ := d.Value(s)
				return 1 - v
			}
		case d.LowerIsBetter():
			sig.name = "-" + sig.name
			sig.value = func(s scoring.Signals, _ float64) float64 {
				v, _ := d.Value(s)
				return -v
			}
		}
		out = append(out, sig)
	}
	return append(out, aucSignal{"consensus score", func(_ scoring.Signals, key float64) float64 { return key }})
}

// signalAUCs computes each signal's AUC over the candidates in play.
func signalAUCs(pools []Pool) []SignalAUC {
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
	aucSignals := aucSignals(pools)
	cols := make([]column, len(aucSignals))
	for _, p := range pools {
		if len(p.Candidates) < 2 {
			continue
		}
		key := map[string]float64{}
		if v, err := p.Assessment.Select(consensusKeyOnly); err == nil {
			for _, r := range v.Ranking {
				if len(r.Keys) > 0 && r.Keys[0] != nil {
					key[r.ID] = *r.Keys[0]
				}
			}
		}
		for k, sig := range aucSignals {
			var vals []float64
			var labels []bool
			for _, c := range p.Candidates {
				s, _ := p.Assessment.Signals(c.ID)
				if out(s) {
					continue
				}
				vals = append(vals, sig.value(s, key[c.ID]))
				labels = append(labels, p.Correct[c.ID])
			}
			cols[k].pooled = append(cols[k].pooled, vals...)
			cols[k].pooledLabels = append(cols[k].pooledLabels, labels...)
			if auc, ok := AUC(vals, labels); ok {
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
		if auc, ok := AUC(cols[k].pooled, cols[k].pooledLabels); ok {
			out[k].Pooled = auc
		}
	}
	return out
}

// AUC is the area under the ROC curve of a score against binary labels: the
// chance that a random positive scores higher than a random negative, ties
// counting one half (the Mann-Whitney statistic). ok is false when either
// class is empty, so the AUC is undefined.
func AUC(scores []float64, labels []bool) (auc float64, ok bool) {
	type pair struct {
		s float64
		l bool
	}
	ps := make([]pair, len(scores))
	pos := 0
	for i := range scores {
		ps[i] = pair{scores[i], labels[i]}
		if labels[i] {
			pos++
		}
	}
	neg := len(ps) - pos
	if pos == 0 || neg == 0 {
		return 0, false
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].s < ps[j].s })
	// Sum of the positives' mid-ranks, then U = R - pos(pos+1)/2.
	rankSum := 0.0
	for i := 0; i < len(ps); {
		j := i
		for j < len(ps) && ps[j].s == ps[i].s {
			j++
		}
		mid := float64(i+j+1) / 2 // 1-based ranks i+1..j
		for k := i; k < j; k++ {
			if ps[k].l {
				rankSum += mid
			}
		}
		i = j
	}
	u := rankSum - float64(pos*(pos+1))/2
	return u / float64(pos*neg), true
}
