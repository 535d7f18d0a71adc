package evaluation

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/bestpatch/bestpatch/scoring"
)

// WriteTable prints one table: methods with their accuracy, then the AUC of
// each signal.
func WriteTable(w io.Writer, t Table) error {
	fmt.Fprintf(w, "%s — %s split: %d instances (%d contested: candidates of both labels)\n", t.Data, t.Split, t.Instances, t.Contested)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "method\taccuracy\tmixed ties\tnote")
	for _, r := range t.Rows {
		fmt.Fprintf(tw, "%s\t%5.1f%%\t%d\t%s\n", r.Method, 100*r.Accuracy, r.Tied, r.Note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(t.AUC) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "signal\tAUC within instance\tAUC pooled\tinstances")
		for _, a := range t.AUC {
			fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%d\n", a.Signal, a.Within, a.Pooled, a.Instances)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w)
	return err
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
