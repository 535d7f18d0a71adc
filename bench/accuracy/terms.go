package accuracy

import (
	"context"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/bestpatch/bestpatch/scoring"
)

// TermWeights are the weights MeasureTerm tries for a new term.
var TermWeights = []float64{0, 0.05, 0.1, 0.25, 0.5, 1}

// TermResult is auto's execution-free key plus weight × one more signal,
// measured on the dev splits, with and without priors (priors out of fold).
type TermResult struct {
	Signal scoring.Signal `json:"signal"`
	Weight float64        `json:"weight"`
	// Dev and DevNoPriors are the tie-aware accuracy per data set.
	Dev         map[string]float64 `json:"dev"`
	DevNoPriors map[string]float64 `json:"dev_no_priors"`
}

// AutoWithTerm ranks each pool as auto does, with weight × sig added to
// auto's weighted key (the consensus key, whatever else the pool's
// ordering holds: regressions and FP/PP first when tests ran). Weight 0 is
// auto itself. It is how a new signal is measured against auto on any
// labelled pools: the SWE-bench candidate sets (MeasureTerm), a
// benchmark's dev tasks.
func AutoWithTerm(sig scoring.Signal, weight float64) Method {
	name := fmt.Sprintf("auto + %g·%s", weight, sig)
	return Method{Name: name, Kind: KindPolicy, Score: func(p Pool) (Outcome, error) {
		pol := p.Assessment.AutoOrdering()
		pol.Name = name
		if weight != 0 {
			keys := make([]scoring.Key, len(pol.Keys))
			for i, k := range pol.Keys {
				keys[i] = k
				if len(k.Weights) > 0 {
					w := map[scoring.Signal]float64{}
					for s, v := range k.Weights {
						w[s] = v
					}
					w[sig] += weight
					keys[i].Weights = w
				}
			}
			pol.Keys = keys
		}
		v, err := p.Assessment.Select(pol)
		if err != nil {
			return Outcome{}, err
		}
		return VerdictOutcome(v, p.Correct), nil
	}}
}

// MeasureTerm measures what one more signal adds to auto (AutoWithTerm) at
// each of TermWeights, on the dev splits of the data sets only, with the
// candidates carrying priors (out of fold) and without. It is how a new
// key earns (or does not earn) its place in auto.
func MeasureTerm(ctx context.Context, sets []DataSet, sig scoring.Signal) ([]TermResult, error) {
	if !slicesContains(scoring.SignalNames(), string(sig)) {
		return nil, fmt.Errorf("unknown signal %q: want one of %v", sig, scoring.SignalNames())
	}
	type devPools struct{ with, without []Pool }
	pools := map[string]devPools{}
	for _, ds := range sets {
		var dp devPools
		for _, withPriors := range []bool{true, false} {
			bySplit, err := assessBySplit(ctx, devOnly(ds.Instances), withPriors)
			if err != nil {
				return nil, err
			}
			if withPriors {
				dp.with = bySplit[SplitDev]
			} else {
				dp.without = bySplit[SplitDev]
			}
		}
		pools[ds.Name] = dp
	}
	var out []TermResult
	for _, w := range TermWeights {
		r := TermResult{Signal: sig, Weight: w, Dev: map[string]float64{}, DevNoPriors: map[string]float64{}}
		m := AutoWithTerm(sig, w)
		for _, ds := range sets {
			for _, withPriors := range []bool{true, false} {
				ps := pools[ds.Name].without
				if withPriors {
					ps = pools[ds.Name].with
				}
				t, err := Compute(ps, []Method{m})
				if err != nil {
					return nil, err
				}
				if withPriors {
					r.Dev[ds.Name] = t.Rows[0].Accuracy
				} else {
					r.DevNoPriors[ds.Name] = t.Rows[0].Accuracy
				}
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func devOnly(insts []Instance) []Instance {
	var out []Instance
	for _, inst := range insts {
		if Split(inst.ID) == SplitDev {
			out = append(out, inst)
		}
	}
	return out
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// WriteTermResults prints MeasureTerm's rows.
func WriteTermResults(w io.Writer, rs []TermResult) error {
	if len(rs) == 0 {
		return nil
	}
	var names []string
	for n := range rs[0].Dev {
		names = append(names, n)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "auto's key + weight × "+string(rs[0].Signal)+" (dev only)")
	for _, n := range names {
		fmt.Fprintf(tw, "\t%s (priors)\t%s (no priors)", n, n)
	}
	fmt.Fprintln(tw)
	for _, r := range rs {
		fmt.Fprintf(tw, "%g", r.Weight)
		for _, n := range names {
			fmt.Fprintf(tw, "\t%s\t%s", Percent(r.Dev[n]), Percent(r.DevNoPriors[n]))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}
