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
	// NoCorrect counts the pools without a correct candidate, where the
	// right answer is to abstain.
	NoCorrect int `json:"no_correct"`
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
	MixedTies int `json:"mixed_ties"`
	// Abstained counts the pools where the method declined to choose;
	// AbstainedNoCorrect those of them without a correct candidate (where
	// abstaining is right, and any answer an error).
	Abstained          int    `json:"abstained,omitempty"`
	AbstainedNoCorrect int    `json:"abstained_no_correct,omitempty"`
	Note               string `json:"note,omitempty"`
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
		if p.right() == 0 {
			t.NoCorrect++
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
			if o.Abstained {
				r.Abstained++
				if p.right() == 0 {
					r.AbstainedNoCorrect++
				}
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
// mixed ties and its note; with byGroup, a column per group too. When some
// method abstained somewhere, two columns say how often: on the pools
// without a correct candidate (where abstaining is right) and on the
// others (where it costs).
func (t Table) WriteText(w io.Writer, byGroup bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := []string{"method", "accuracy"}
	if byGroup {
		for _, g := range t.Groups {
			header = append(header, fmt.Sprintf("%s (%d)", g.Group, g.Pools))
		}
	}
	abstains := slices.ContainsFunc(t.Rows, func(r Row) bool { return r.Abstained > 0 })
	if abstains {
		header = append(header, fmt.Sprintf("abstains: none right (%d)", t.NoCorrect), fmt.Sprintf("abstains: solvable (%d)", t.Pools-t.NoCorrect))
	}
	header = append(header, "mixed ties", "note")
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	share := func(k, n int) string {
		if n == 0 {
			return "-"
		}
		return Percent(float64(k) / float64(n))
	}
	for _, r := range t.Rows {
		cells := []string{r.Method, Percent(r.Accuracy)}
		if byGroup {
			for _, g := range t.Groups {
				cells = append(cells, Percent(r.ByGroup[g.Group]))
			}
		}
		if abstains {
			cells = append(cells, share(r.AbstainedNoCorrect, t.NoCorrect), share(r.Abstained-r.AbstainedNoCorrect, t.Pools-t.NoCorrect))
		}
		cells = append(cells, fmt.Sprint(r.MixedTies), r.Note)
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// Percent prints an accuracy in [0, 1] as a percentage with one decimal.
func Percent(f float64) string { return fmt.Sprintf("%5.1f%%", 100*f) }
