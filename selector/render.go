package selector

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/bestpatch/bestpatch/executor/outcome"
	"github.com/bestpatch/bestpatch/scoring"
)

// WriteText writes a report for people: the choice and why, the ranking
// with every signal, the outcome matrix in counts, and the chosen patch.
func (r Report) WriteText(w io.Writer, patches map[string]string) error {
	v := r.Verdict
	var b strings.Builder
	switch {
	case v.Chosen != "":
		fmt.Fprintf(&b, "Chosen: %s (policy %s)\n", v.Chosen, v.Policy)
	case v.SampleMore:
		fmt.Fprintf(&b, "Abstained: sample more: the confidence is below the minimum asked; %s would have been chosen (policy %s)\n", v.Withheld, v.Policy)
	case v.Abstained != "":
		fmt.Fprintf(&b, "Abstained: no candidate chosen without evidence (policy %s)\n", v.Policy)
	default:
		fmt.Fprintf(&b, "No candidate chosen (policy %s)\n", v.Policy)
	}
	if v.Why != "" {
		fmt.Fprintf(&b, "Why:    %s\n", v.Why)
	}
	if basis := v.Basis.String(); basis != "" {
		fmt.Fprintf(&b, "Basis:  %s\n", basis)
	}
	if len(v.Ties) > 1 {
		fmt.Fprintf(&b, "Ties:   %s (broken deterministically)\n", strings.Join(v.Ties, ", "))
	}
	if v.Confidence != nil {
		fmt.Fprintf(&b, "Confidence: %.1f%% that the chosen candidate is correct (calibrated on labelled verdicts: docs/SCORING.md)\n", 100*(*v.Confidence))
	}
	fmt.Fprintf(&b, "Runs:   %d for %d candidates (%d distinct) in %s", len(r.Runs), len(r.Matrix.Candidates), r.Distinct, r.Duration.Round(1e7))
	if r.NotRun > 0 {
		fmt.Fprintf(&b, "; %d distinct candidate(s) not run: they cannot change the choice", r.NotRun)
	}
	b.WriteString("\n\n")

	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	columns := scoring.TableSignals()
	header := []string{"RANK", "CANDIDATE", "STATUS"}
	for _, d := range columns {
		header = append(header, strings.ToUpper(d.Column))
	}
	fmt.Fprintln(tw, strings.Join(append(header, "FLAGS", "OUT"), "\t"))
	for _, c := range v.Ranking {
		s := c.Signals
		rank := "-"
		if c.Rank > 0 {
			rank = fmt.Sprint(c.Rank)
		}
		cells := []string{rank, c.ID, orDash(string(s.Status))}
		for _, d := range columns {
			cells = append(cells, d.Cell(s))
		}
		fmt.Fprintln(tw, strings.Join(append(cells, orDash(strings.Join(s.Flags, ",")), c.Out), "\t"))
	}
	tw.Flush()

	if len(r.Matrix.Artifacts) > 0 && len(r.Matrix.Base.Cases) > 0 {
		b.WriteString("\nOutcome matrix (PASS/FAIL/ERROR per test artifact; one row per distinct run):\n")
		tw = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		header := []string{"ROW"}
		for _, a := range r.Matrix.Artifacts {
			header = append(header, a.ID)
		}
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		writeRow := func(name string, row scoring.Row) {
			cells := []string{name}
			for _, a := range r.Matrix.Artifacts {
				if row.Status != scoring.RunOK && row.Status != "" {
					cells = append(cells, string(row.Status))
					continue
				}
				cells = append(cells, countCell(row.Cases[a.ID]))
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		writeRow("base", r.Matrix.Base)
		seen := map[string]bool{}
		for _, c := range v.Ranking {
			row, ok := r.Matrix.Candidates[c.ID]
			if !ok || row.Status == scoring.RunNotRun {
				continue // no run: the ranking says so
			}
			key := fmt.Sprint(row)
			if seen[key] {
				continue
			}
			seen[key] = true
			writeRow(c.ID, row)
		}
		tw.Flush()
	}
	for _, id := range sortedKeys(r.Dropped) {
		fmt.Fprintf(&b, "Generated test %s dropped: %s\n", id, r.Dropped[id])
	}
	for a, cases := range r.Matrix.Flaky {
		fmt.Fprintf(&b, "Flaky on base, quarantined (%s): %s\n", a, strings.Join(cases, ", "))
	}
	for _, n := range v.Notes {
		fmt.Fprintf(&b, "Note: %s\n", n)
	}
	if p, ok := patches[v.Chosen]; ok && v.Chosen != "" {
		fmt.Fprintf(&b, "\nChosen patch (%s):\n%s", v.Chosen, p)
		if !strings.HasSuffix(p, "\n") {
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func countCell(cases map[string]outcome.Outcome) string {
	if len(cases) == 0 {
		return "-"
	}
	n := map[outcome.Outcome]int{}
	for _, o := range cases {
		n[o]++
	}
	parts := []string{fmt.Sprintf("%d/%d", n[outcome.Pass], n[outcome.Fail])}
	if n[outcome.Error] > 0 {
		parts = append(parts, fmt.Sprintf("E%d", n[outcome.Error]))
	}
	return strings.Join(parts, " ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
