package report_test

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/batch"
	"github.com/bestpatch/bestpatch/selector/batch/report"
)

// resolvedBy labels candidates by instance and candidate ID.
type resolvedBy map[string]map[string]bool

func (r resolvedBy) Resolved(instance string, c scoring.Candidate) (bool, bool) {
	v, ok := r[instance][c.ID]
	return v, ok
}

// indexBatch has one instance of each kind the index filters: the chosen
// candidate unresolved although another is resolved (missed), a tie
// between a resolved and an unresolved candidate won by the resolved one
// (mixed tie), an abstention with no fix among the candidates, an
// abstention with one (abstained and missed), a failed instance whose
// candidates had a fix (missed), and one resolved cleanly (none).
func indexBatch() (*batch.Result, resolvedBy) {
	cands := []scoring.Candidate{{ID: "a", Model: "a", Patch: fixPatch}, {ID: "b", Model: "b", Sample: 1, Patch: fixPatch}}
	ranked := func(v scoring.Verdict) *selector.Report {
		for i, c := range cands {
			v.Ranking = append(v.Ranking, scoring.Ranked{ID: c.ID, Rank: i + 1})
		}
		return &selector.Report{Verdict: v}
	}
	res := &batch.Result{Instances: []batch.Instance{
		{ID: "missed", Status: batch.Selected, Candidates: cands, Report: ranked(scoring.Verdict{Chosen: "b"})},
		{ID: "mixed", Status: batch.Selected, Candidates: cands, Report: ranked(scoring.Verdict{Chosen: "a", Ties: []string{"a", "b"}})},
		{ID: "abstained", Status: batch.NoneChosen, Candidates: cands, Report: ranked(scoring.Verdict{Abstained: "no evidence"})},
		{ID: "abstained-missed", Status: batch.NoneChosen, Candidates: cands, Report: ranked(scoring.Verdict{Abstained: "no evidence"})},
		{ID: "failed", Status: batch.Failed, Candidates: cands, Error: "boom"},
		{ID: "clean", Status: batch.Selected, Candidates: cands, Report: ranked(scoring.Verdict{Chosen: "a"})},
	}}
	yes := map[string]bool{"a": true, "b": false}
	labels := resolvedBy{"missed": yes, "mixed": yes, "abstained": {"a": false, "b": false}, "abstained-missed": yes, "failed": yes, "clean": yes}
	return res, labels
}

func TestIndexFlags(t *testing.T) {
	res, labels := indexBatch()
	d := report.Build("t", "auto", res, nil, labels)
	want := map[string][3]bool{ // missed, mixed tie, abstained
		"missed": {true, false, false}, "mixed": {false, true, false}, "abstained": {false, false, true},
		"abstained-missed": {true, false, true}, "failed": {true, false, false}, "clean": {},
	}
	for _, in := range d.Instances {
		if got := [3]bool{in.Missed, in.MixedTie, in.Abstained}; got != want[in.ID] {
			t.Errorf("%s: missed, mixed tie, abstained = %v, want %v", in.ID, got, want[in.ID])
		}
	}
	if d.Index != (report.Index{Labelled: true, Missed: 3, MixedTies: 1, Abstained: 2}) {
		t.Errorf("index %+v", d.Index)
	}
	// Without labels nothing can be missed or a mixed tie; abstentions stay.
	if d := report.Build("t", "auto", res, nil, nil); d.Index != (report.Index{Abstained: 2}) {
		t.Errorf("index without labels %+v", d.Index)
	}
	html, err := report.HTML(d)
	if err != nil {
		t.Fatal(err)
	}
	for id, classes := range map[string]string{"missed": "f-missed", "abstained-missed": "f-missed f-abstained", "clean": ""} {
		row := regexp.MustCompile(`<tr data-filterable class="([^"]*)"><td><a href="#inst-` + id + `">`).FindSubmatch(html)
		if row == nil || strings.TrimSpace(string(row[1])) != classes {
			t.Errorf("index row of %s: %q, want classes %q", id, row, classes)
		}
	}
}

// TestIndexFilterInBrowser: the page opened with #filter=missed shows the
// index rows and the instances that missed, and hides the others.
func TestIndexFilterInBrowser(t *testing.T) {
	bin := chromium(t)
	res, labels := indexBatch()
	dir := t.TempDir()
	if err := report.Write(dir, report.Build("index", "auto", res, nil, labels)); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, report.HTMLFile)
	for filter, shown := range map[string][]string{
		"missed": {"missed", "abstained-missed", "failed"}, "mixed": {"mixed"}, "abstained": {"abstained", "abstained-missed"},
		"all": {"missed", "mixed", "abstained", "abstained-missed", "failed", "clean"},
	} {
		dom, console := browse(t, bin, page+"#filter="+filter, "--dump-dom")
		if len(console) != 1 || !strings.Contains(dom, `data-filter="`+filter+`"`) {
			t.Errorf("%s: console %q; filter applied: %v", filter, console, strings.Contains(dom, `data-filter="`+filter+`"`))
		}
		for _, in := range res.Instances {
			keep := strings.Contains(" "+strings.Join(shown, " ")+" ", " "+in.ID+" ")
			row := regexp.MustCompile(`<tr data-filterable="" class="[^"]*"( hidden="")?><td><a href="#inst-` + in.ID + `">`).FindStringSubmatch(dom)
			det := regexp.MustCompile(`<details data-filterable="" class="[^"]*" id="inst-` + in.ID + `"([^>]*)>`).FindStringSubmatch(dom)
			if row == nil || det == nil {
				t.Fatalf("%s: no index row or instance for %s", filter, in.ID)
			}
			if rowShown, detShown := row[1] == "", !strings.Contains(det[1], "hidden"); rowShown != keep || detShown != keep {
				t.Errorf("filter %s: %s shown (row %v, instance %v), want %v", filter, in.ID, rowShown, detShown, keep)
			}
		}
	}
}
