package accuracy

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
)

// Table is every method's accuracy over the same pools.
type Table struct {
	// Pools counts the pools every accuracy is over (a pool with one
	// candidate counts like the others); Candidates their candidates.
	Pools      int `json:"pools"`
	Candidates int `json:"candidates"`
	// Contested counts the pools where choosing matters: correct and wrong
	// candidates.
	Contested int `json:"contested"`
	// Groups splits the pools by Pool.Group, sorted; empty when no pool
	// has a group.
	Groups []GroupCount `json:"groups,omitempty"`
	Rows   []Row        `json:"rows"`
}

// GroupCount is the number of pools of one group.
type GroupCount struct {
	Group string `json:"group"`
	Pools int    `json:"pools"`
}

// Row is one method's tie-aware accuracy, overall and per group.
type Row struct {
	Method string `json:"method"`
	Kind   string `json:"kind"`
	// Accuracy is the mean of the pools' Outcome.Accuracy, in [0, 1].
	Accuracy float64            `json:"accuracy"`
	ByGroup  map[string]float64 `json:"by_group,omitempty"`
	// MixedTies counts the pools where the method ended tied between
	// correct and wrong candidates.
	MixedTies int    `json:"mixed_ties"`
	Note      string `json:"note,omitempty"`
}

// Compute scores every method on every pool.
func Compute(pools []Pool, methods []Method) (Table, error) {
	t := Table{Pools: len(pools)}
	groups := map[string]int{}
	for _, p := range pools {
		t.Candidates += len(p.Candidates)
		if p.Contested() {
			t.Contested++
		}
		if p.Group != "" {
			groups[p.Group]++
		}
	}
	for g, n := range groups {
		t.Groups = append(t.Groups, GroupCount{Group: g, Pools: n})
	}
	sort.Slice(t.Groups, func(i, j int) bool { return t.Groups[i].Group < t.Groups[j].Group })
	for _, m := range methods {
		r := Row{Method: m.Name, Kind: m.Kind, Note: m.Note}
		if len(groups) > 0 {
			r.ByGroup = map[string]float64{}
		}
		for _, p := range pools {
			o, err := m.Score(p)
			if err != nil {
				return Table{}, fmt.Errorf("%s on %s: %w", m.Name, p.ID, err)
			}
			r.Accuracy += o.Accuracy
			if p.Group != "" {
				r.ByGroup[p.Group] += o.Accuracy
			}
			if o.Mixed {
				r.MixedTies++
			}
		}
		if len(pools) > 0 {
			r.Accuracy /= float64(len(pools))
		}
		for g, n := range groups {
			r.ByGroup[g] /= float64(n)
		}
		t.Rows = append(t.Rows, r)
	}
	return t, nil
}

// Row returns the row of a method by name.
func (t Table) Row(method string) (Row, bool) {
	i := slices.IndexFunc(t.Rows, func(r Row) bool { return r.Method == method })
	if i < 0 {
		return Row{}, false
	}
	return t.Rows[i], true
}

// WriteText prints the table: one line per method with its accuracy, its
// mixed ties and its note; with byGroup, a column per group too.
func (t Table) WriteText(w io.Writer, byGroup bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := []string{"method", "accuracy"}
	if byGroup {
		for _, g := range t.Groups {
			header = append(header, fmt.Sprintf("%s (%d)", g.Group, g.Pools))
		}
	}
	header = append(header, "mixed ties", "note")
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range t.Rows {
		cells := []string{r.Method, Percent(r.Accuracy)}
		if byGroup {
			for _, g := range t.Groups {
				cells = append(cells, Percent(r.ByGroup[g.Group]))
			}
		}
		cells = append(cells, fmt.Sprint(r.MixedTies), r.Note)
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// Percent prints an accuracy in [0, 1] as a percentage with one decimal.
func Percent(f float64) string { return fmt.Sprintf("%5.1f%%", 100*f) }
