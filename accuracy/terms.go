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

// MeasureTerm measures what one more signal adds to auto's execution-free
// consensus key (with the prior term when the candidates carry priors), at
// each of TermWeights (weight 0 is auto as it is), on the dev splits only.
// It is how a new key earns (or does not earn) its place in auto.
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
		for _, ds := range sets {
			for _, withPriors := range []bool{true, false} {
				key := scoring.ConsensusKey().Weights
				ps := pools[ds.Name].without
				if withPriors {
					key = scoring.ConsensusKeyWithPrior().Weights
					ps = pools[ds.Name].with
				}
				if w != 0 {
					key[sig] += w
				}
				acc, _, err := policyAccuracy(ps, scoring.Policy{Name: "term", Keys: []scoring.Key{{Weights: key}}})
				if err != nil {
					return nil, err
				}
				if withPriors {
					r.Dev[ds.Name] = acc
				} else {
					r.DevNoPriors[ds.Name] = acc
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
