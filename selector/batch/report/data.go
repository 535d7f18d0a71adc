// Package report renders a batch's outcome for people: a self-contained
// HTML page (inline CSS, JavaScript and SVG; it needs no network to view)
// and the same data as JSON.
package report

import (
	"sort"
	"strings"
	"time"

	"github.com/bestpatch/bestpatch/executor/outcome"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector/batch"
)

// Data is everything the report shows. report.json is Data as JSON, and
// the HTML page embeds the same JSON, from which its script draws the heat
// maps.
type Data struct {
	Title     string         `json:"title"`
	Generated time.Time      `json:"generated"`
	Policy    string         `json:"policy"`
	Totals    Totals         `json:"totals"`
	Index     Index          `json:"index"`
	Summary   *batch.Summary `json:"summary,omitempty"`
	Instances []Instance     `json:"instances"`
}

// Totals count the batch's instances by status, and its runs.
type Totals struct {
	Instances  int     `json:"instances"`
	Selected   int     `json:"selected"`
	NoneChosen int     `json:"none_chosen"`
	Failed     int     `json:"failed"`
	NotRun     int     `json:"not_run"`
	Resumed    int     `json:"resumed"`
	Runs       int     `json:"runs"`
	Cached     int     `json:"cached"`
	Seconds    float64 `json:"seconds"`
}

// Index counts the instances each filter of the page's instance index
// keeps. Missed and MixedTies need labels; Labelled says whether any were
// given.
type Index struct {
	Labelled  bool `json:"labelled"`
	Missed    int  `json:"missed"`
	MixedTies int  `json:"mixed_ties"`
	Abstained int  `json:"abstained"`
}

// Instance is one instance's part of the report.
type Instance struct {
	ID      string       `json:"instance_id"`
	Repo    string       `json:"repo"`
	Status  batch.Status `json:"status"`
	Error   string       `json:"error,omitempty"`
	Resumed bool         `json:"resumed,omitempty"`
	// Chosen is the chosen candidate's ID; Resolved its label, if known.
	Chosen      string `json:"chosen,omitempty"`
	ChosenModel string `json:"chosen_model,omitempty"`
	ChosenPatch string `json:"chosen_patch,omitempty"`
	Resolved    *bool  `json:"resolved,omitempty"`
	Why         string `json:"why,omitempty"`
	// Confidence is the verdict's P(the chosen candidate is resolved).
	Confidence *float64 `json:"confidence,omitempty"`
	Ties       []string `json:"ties,omitempty"`
	// Missed: the selection did not resolve the instance (the chosen
	// candidate is labelled unresolved, or nothing was chosen) although a
	// candidate is labelled resolved: the oracle had a fix.
	Missed bool `json:"missed,omitempty"`
	// MixedTie: the verdict's ties hold a resolved and an unresolved
	// candidate, so the tie-break decided the outcome.
	MixedTie bool `json:"mixed_tie,omitempty"`
	// Abstained: the verdict chose nothing for want of evidence or
	// confidence (Verdict.Abstained).
	Abstained bool              `json:"abstained,omitempty"`
	Notes     []string          `json:"notes,omitempty"`
	Dropped   map[string]string `json:"dropped_tests,omitempty"`
	Distinct  int               `json:"distinct,omitempty"`
	Runs      int               `json:"runs,omitempty"`
	Seconds   float64           `json:"seconds,omitempty"`
	// Candidates in ranking order (candidates that are out last).
	Candidates []Candidate `json:"candidates"`
	Heatmap    *Heatmap    `json:"heatmap,omitempty"`
}

// Candidate is one candidate's place in its instance's verdict.
type Candidate struct {
	ID       string          `json:"id"`
	Model    string          `json:"model"`
	Sample   int             `json:"sample"`
	Rank     int             `json:"rank,omitempty"`
	Out      string          `json:"out,omitempty"`
	Chosen   bool            `json:"chosen,omitempty"`
	Tied     bool            `json:"tied,omitempty"`
	Resolved *bool           `json:"resolved,omitempty"`
	Signals  scoring.Signals `json:"signals"`
}

// Heatmap is an outcome matrix laid out for drawing: one column per test
// case (grouped by artifact), the base row first, then one row per
// candidate in ranking order.
type Heatmap struct {
	Artifacts []HeatArtifact `json:"artifacts"`
	// Cases are the column's case IDs, artifact after artifact.
	Cases []string `json:"cases"`
	// Flaky are the indices of columns quarantined as flaky on base.
	Flaky []int     `json:"flaky,omitempty"`
	Rows  []HeatRow `json:"rows"`
}

// HeatArtifact is one test artifact's run of columns.
type HeatArtifact struct {
	ID        string `json:"id"`
	Generated bool   `json:"generated"`
	Cases     int    `json:"cases"`
}

// HeatRow is one row: Cells holds one letter per column, P (pass), F
// (fail), E (error: did not run), S (skip), or - (missing: the row has no
// outcome for the case, e.g. its patch did not apply).
type HeatRow struct {
	Name   string            `json:"name"`
	Status scoring.RunStatus `json:"status"`
	Reason string            `json:"reason,omitempty"`
	Cells  string            `json:"cells"`
}

// Resolver says whether a candidate resolves its instance, when known.
type Resolver interface {
	Resolved(instance string, c scoring.Candidate) (resolved, known bool)
}

// Build lays out a batch's outcome for the report. sum and labels may be
// nil (no labels given).
func Build(title, policy string, res *batch.Result, sum *batch.Summary, labels Resolver) Data {
	d := Data{Title: title, Generated: time.Now().UTC().Truncate(time.Second), Policy: policy, Summary: sum}
	d.Totals = Totals{Instances: len(res.Instances), Runs: res.Runs, Cached: res.Cached, Seconds: res.Duration.Seconds()}
	for _, in := range res.Instances {
		switch in.Status {
		case batch.Selected:
			d.Totals.Selected++
		case batch.NoneChosen:
			d.Totals.NoneChosen++
		case batch.Failed:
			d.Totals.Failed++
		case batch.NotRun:
			d.Totals.NotRun++
		}
		if in.Resumed {
			d.Totals.Resumed++
		}
		out := buildInstance(in, labels)
		d.Index.Missed += count(out.Missed)
		d.Index.MixedTies += count(out.MixedTie)
		d.Index.Abstained += count(out.Abstained)
		d.Instances = append(d.Instances, out)
	}
	d.Index.Labelled = labels != nil
	return d
}

func count(b bool) int {
	if b {
		return 1
	}
	return 0
}

// flag sets the instance's index flags from its candidates' labels.
func (out *Instance) flag() {
	fixed := false
	for _, c := range out.Candidates {
		fixed = fixed || c.Resolved != nil && *c.Resolved
	}
	out.Missed = fixed && (out.Resolved == nil || !*out.Resolved)
	var yes, no bool
	for _, c := range out.Candidates {
		if c.Tied && c.Resolved != nil {
			yes, no = yes || *c.Resolved, no || !*c.Resolved
		}
	}
	out.MixedTie = yes && no
}

func buildInstance(in batch.Instance, labels Resolver) Instance {
	out := Instance{ID: in.ID, Repo: in.Repo, Status: in.Status, Error: in.Error, Resumed: in.Resumed}
	label := func(c scoring.Candidate) *bool {
		if labels == nil {
			return nil
		}
		if r, ok := labels.Resolved(in.ID, c); ok {
			return &r
		}
		return nil
	}
	byID := map[string]scoring.Candidate{}
	for _, c := range in.Candidates {
		byID[c.ID] = c
	}
	if in.Report == nil {
		for _, c := range in.Candidates {
			out.Candidates = append(out.Candidates, Candidate{ID: c.ID, Model: c.Model, Sample: c.Sample, Resolved: label(c)})
		}
		out.flag()
		return out
	}
	rep := in.Report
	v := rep.Verdict
	out.Why, out.Ties, out.Notes, out.Dropped, out.Confidence = v.Why, v.Ties, v.Notes, rep.Dropped, v.Confidence
	out.Abstained = v.Abstained != ""
	out.Distinct, out.Runs, out.Seconds = rep.Distinct, len(rep.Runs), rep.Duration.Seconds()
	if c, ok := in.Chosen(); ok {
		out.Chosen, out.ChosenModel, out.ChosenPatch, out.Resolved = c.ID, c.Model, c.Patch, label(c)
	}
	tied := map[string]bool{}
	for _, id := range v.Ties {
		tied[id] = true
	}
	var order []string
	for _, r := range v.Ranking {
		c := byID[r.ID]
		order = append(order, r.ID)
		out.Candidates = append(out.Candidates, Candidate{
			ID: r.ID, Model: c.Model, Sample: c.Sample, Rank: r.Rank, Out: r.Out,
			Chosen: r.ID == v.Chosen, Tied: tied[r.ID], Resolved: label(c), Signals: r.Signals,
		})
	}
	out.Heatmap = buildHeatmap(rep.Matrix, order)
	out.flag()
	return out
}

// buildHeatmap lays out a matrix with the candidate rows in the given order.
func buildHeatmap(m scoring.Matrix, order []string) *Heatmap {
	h := &Heatmap{Cases: []string{}}
	col := map[[2]string]int{}
	for _, a := range m.Artifacts {
		ids := map[string]bool{}
		for id := range m.Base.Cases[a.ID] {
			ids[id] = true
		}
		for _, row := range m.Candidates {
			for id := range row.Cases[a.ID] {
				ids[id] = true
			}
		}
		sorted := make([]string, 0, len(ids))
		for id := range ids {
			sorted = append(sorted, id)
		}
		sort.Strings(sorted)
		flaky := map[string]bool{}
		for _, id := range m.Flaky[a.ID] {
			flaky[id] = true
		}
		for _, id := range sorted {
			col[[2]string{a.ID, id}] = len(h.Cases)
			if flaky[id] {
				h.Flaky = append(h.Flaky, len(h.Cases))
			}
			h.Cases = append(h.Cases, id)
		}
		h.Artifacts = append(h.Artifacts, HeatArtifact{ID: a.ID, Generated: a.Generated, Cases: len(sorted)})
	}
	row := func(name string, r scoring.Row) HeatRow {
		cells := []byte(strings.Repeat("-", len(h.Cases)))
		for a, cases := range r.Cases {
			for id, o := range cases {
				if i, ok := col[[2]string{a, id}]; ok {
					cells[i] = outcomeLetter(o)
				}
			}
		}
		status := r.Status
		if status == "" {
			status = scoring.RunOK
		}
		return HeatRow{Name: name, Status: status, Reason: r.Reason, Cells: string(cells)}
	}
	h.Rows = append(h.Rows, row("base", m.Base))
	for _, id := range order {
		if r, ok := m.Candidates[id]; ok {
			h.Rows = append(h.Rows, row(id, r))
		}
	}
	return h
}

func outcomeLetter(o outcome.Outcome) byte {
	switch o {
	case outcome.Pass:
		return 'P'
	case outcome.Fail:
		return 'F'
	case outcome.Error:
		return 'E'
	case outcome.Skip:
		return 'S'
	}
	return '-'
}
