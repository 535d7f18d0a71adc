package accuracy

import (
	"context"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/bestpatch/bestpatch/scoring"
)

// DataSet is a named labelled candidate set.
type DataSet struct {
	Name      string
	Instances []Instance
}

// Weighting is one candidate consensus key, measured.
type Weighting struct {
	Weights map[scoring.Signal]float64 `json:"weights"`
	// Dev is the tie-aware accuracy on each data set's dev split.
	Dev map[string]float64 `json:"dev"`
	// Mean is the mean of Dev over the data sets: each set counts the same,
	// whatever its size.
	Mean float64 `json:"mean"`
}

// TuneGrid lists, per signal, the weights to try: each signal's
// SignalDef.Tune. Similarity is the anchor (weight 1) and the other signals
// are tried around it. Only non-negative weights are tried, in a direction
// fixed by the signal: a weighting that rewards touching tests would be
// fitting a data set, not a principle.
func TuneGrid() map[scoring.Signal][]float64 {
	grid := map[scoring.Signal][]float64{}
	for _, d := range scoring.SignalDefs() {
		if len(d.Tune) > 0 {
			grid[d.Name] = d.Tune
		}
	}
	return grid
}

// Tune measures every weighting of the grid on the dev splits only, best
// first (ties: fewer non-zero weights first, the simpler weighting). The
// test split is never read.
func Tune(ctx context.Context, sets []DataSet, grid map[scoring.Signal][]float64) ([]Weighting, error) {
	dev := map[string][]Pool{}
	for _, ds := range sets {
		bySplit, err := poolsBySplit(ctx, ds.Instances)
		if err != nil {
			return nil, err
		}
		dev[ds.Name] = bySplit[SplitDev]
	}
	signals := make([]scoring.Signal, 0, len(grid))
	for s := range grid {
		signals = append(signals, s)
	}
	sort.Slice(signals, func(i, j int) bool { return signals[i] < signals[j] })

	var out []Weighting
	var walk func(k int, w map[scoring.Signal]float64) error
	walk = func(k int, w map[scoring.Signal]float64) error {
		if k == len(signals) {
			if err := ctx.Err(); err != nil {
				return err
			}
			weights := map[scoring.Signal]float64{}
			for s, v := range w {
				if v != 0 {
					weights[s] = v
				}
			}
			if len(weights) == 0 {
				return nil
			}
			p := scoring.Policy{Name: "tune", Keys: []scoring.Key{{Weights: weights}}}
			r := Weighting{Weights: weights, Dev: map[string]float64{}}
			for _, ds := range sets {
				acc, _, err := policyAccuracy(dev[ds.Name], p)
				if err != nil {
					return err
				}
				r.Dev[ds.Name] = acc
				r.Mean += acc / float64(len(sets))
			}
			out = append(out, r)
			return nil
		}
		for _, v := range grid[signals[k]] {
			w[signals[k]] = v
			if err := walk(k+1, w); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(0, map[scoring.Signal]float64{}); err != nil {
		return nil, fmt.Errorf("tune: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if d := out[i].Mean - out[j].Mean; d > 1e-12 || d < -1e-12 {
			return d > 0
		}
		return len(out[i].Weights) < len(out[j].Weights)
	})
	return out, nil
}

// WriteWeightings prints tuned weightings, best first, with their dev
// accuracy on each data set.
func WriteWeightings(w io.Writer, ws []Weighting) error {
	if len(ws) == 0 {
		_, err := fmt.Fprintln(w, "no weighting measured")
		return err
	}
	var names []string
	for name := range ws[0].Dev {
		names = append(names, name)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "consensus key (dev split only)\tmean")
	for _, n := range names {
		fmt.Fprintf(tw, "\t%s", n)
	}
	fmt.Fprintln(tw)
	for _, r := range ws {
		fmt.Fprintf(tw, "%s\t%5.1f%%", scoring.Key{Weights: r.Weights}, 100*r.Mean)
		for _, n := range names {
			fmt.Fprintf(tw, "\t%5.1f%%", 100*r.Dev[n])
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}
