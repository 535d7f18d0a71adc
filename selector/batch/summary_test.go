package batch_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/batch"
)

func patch(file, old, new string) string {
	return "diff --git a/" + file + " b/" + file + "\n--- a/" + file + "\n+++ b/" + file + "\n@@ -1,1 +1,1 @@\n-" + old + "\n+" + new + "\n"
}

// TestSummarizeTies: the summary scores ties as the chance that a random
// pick among the tied candidates is resolved, counts mixed ties, and leaves
// out failed and unlabelled instances, saying so.
func TestSummarizeTies(t *testing.T) {
	cands := []scoring.Candidate{
		{ID: "0/a", Model: "a", Patch: patch("x.go", "x := 1", "x := 2")},
		{ID: "1/b", Model: "b", Sample: 1, Patch: patch("x.go", "x := 1", "x := 3")},
		{ID: "2/c", Model: "c", Sample: 2, Patch: patch("x.go", "x := 1", "x := 2")},
		{ID: "3/d", Model: "d", Sample: 3, Patch: patch("y.go", "y := 1", "y := 5")},
	}
	// Execution-free verdicts: the summary scores them without a matrix.
	free := scoring.Basis{Execution: scoring.EvidenceExecutionFree}
	half, fifth := 0.5, 0.2
	res := &batch.Result{Instances: []batch.Instance{
		{ID: "o__r-1", Repo: "o__r", Status: batch.Selected, Candidates: cands, Report: &selector.Report{
			Verdict: scoring.Verdict{Chosen: "0/a", Ties: []string{"0/a", "1/b"}, Confidence: &half, Basis: free}}},
		{ID: "o__s-1", Repo: "o__s", Status: batch.Selected, Candidates: cands, Report: &selector.Report{
			Verdict: scoring.Verdict{Chosen: "3/d", Confidence: &fifth, Basis: free}}},
		{ID: "o__s-2", Repo: "o__s", Status: batch.Failed, Candidates: cands, Error: "boom"},
		{ID: "o__t-1", Repo: "o__t", Status: batch.Selected, Candidates: cands, Report: &selector.Report{
			Verdict: scoring.Verdict{Chosen: "0/a", Basis: free}}},
	}}
	labels, err := batch.LoadLabels(batch.Runs{}, writeFile(t, "labels.jsonl", `{"instance_id": "o__r-1", "model_name_or_path": "a", "resolved": true}
{"instance_id": "o__r-1", "model_name_or_path": "b", "resolved": false}
{"instance_id": "o__r-1", "model_name_or_path": "c", "resolved": true}
{"instance_id": "o__r-1", "model_name_or_path": "d", "resolved": false}
{"instance_id": "o__s-1", "model_name_or_path": "a", "resolved": false}
{"instance_id": "o__s-1", "model_name_or_path": "b", "resolved": false}
{"instance_id": "o__s-1", "model_name_or_path": "c", "resolved": false}
{"instance_id": "o__s-2", "model_name_or_path": "a", "resolved": true}
`))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := batch.Summarize(res, labels, "auto")
	if err != nil {
		t.Fatal(err)
	}
	// o__r-1: the chosen tie {a (right), b (wrong)} scores 1/2, a mixed tie;
	// random 2/4 (a pick among all, so a mixed tie too); majority: a and c make the same change (2 votes), 1;
	// oracle 1. o__s-1: d is unlabelled (counts as wrong): all 0.
	if sum.Pools != 2 || sum.Failed != 1 || sum.Unlabelled != 1 || sum.UnlabelledCandidates != 1 {
		t.Errorf("instances %d failed %d unlabelled %d unlabelled candidates %d; want 2, 1, 1, 1",
			sum.Pools, sum.Failed, sum.Unlabelled, sum.UnlabelledCandidates)
	}
	for _, tc := range []struct {
		method string
		all    float64
		ties   int
		byRepo map[string]float64
	}{
		{"selected (policy auto)", 0.25, 1, map[string]float64{"o__r": 0.5, "o__s": 0}},
		{"random pick", 0.25, 1, map[string]float64{"o__r": 0.5, "o__s": 0}},
		{"majority vote", 0.5, 0, map[string]float64{"o__r": 1, "o__s": 0}},
		{"oracle", 0.5, 0, map[string]float64{"o__r": 1, "o__s": 0}},
	} {
		row, ok := sum.Row(tc.method)
		if !ok {
			t.Fatalf("no row %q", tc.method)
		}
		if !near(row.Accuracy, tc.all) || row.MixedTies != tc.ties {
			t.Errorf("%s: %.3f with %d mixed ties, want %.3f with %d", tc.method, row.Accuracy, row.MixedTies, tc.all, tc.ties)
		}
		for repo, want := range tc.byRepo {
			if !near(row.ByGroup[repo], want) {
				t.Errorf("%s on %s: %.3f, want %.3f", tc.method, repo, row.ByGroup[repo], want)
			}
		}
	}
	// Confidence: 0.5 on a tie scoring 1/2, 0.2 on a wrong pick.
	if c := sum.Calibration; c == nil || c.Verdicts != 2 || !near(c.Brier, (0+0.04)/2) || !near(c.MeanConfidence, 0.35) || !near(c.Accuracy, 0.25) {
		t.Errorf("calibration %+v", sum.Calibration)
	}
	// No tests ran and no verifier scores: the execution signals and the
	// verifier have no row of their own.
	for _, absent := range []string{"signal fppp", "signal regressions", "signal verifier"} {
		if _, ok := sum.Row(absent); ok {
			t.Errorf("row %q present although no candidate has the signal", absent)
		}
	}
	var out bytes.Buffer
	if err := sum.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Accuracy on 2 labelled instances", "1 failed or unfinished, 1 without labels", "o__r (1)", "selected (policy auto)", "25.0%", "Note: 1 candidates have no label", "Confidence on 2 verdicts: mean  35.0%, accuracy  25.0%, Brier 0.0200"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, out.String())
		}
	}
}

// TestSummarizeSeesTheRunsTestFiles: re-ranking a journaled report uses the
// test files its runs stripped, so a candidate that only edits tests is out
// there as it was in the verdict.
func TestSummarizeSeesTheRunsTestFiles(t *testing.T) {
	cands := []scoring.Candidate{
		{ID: "0/fix", Model: "fix", Patch: patch("pkg/x.py", "x = 1", "x = 2")},
		{ID: "1/tests", Model: "tests", Sample: 1, Patch: patch("tests/test_x.py", "assert x == 1", "assert True")},
	}
	labels, err := batch.LoadLabels(batch.Runs{}, writeFile(t, "labels.jsonl", `{"instance_id": "o__r-1", "model_name_or_path": "fix", "resolved": true}
{"instance_id": "o__r-1", "model_name_or_path": "tests", "resolved": false}
`))
	if err != nil {
		t.Fatal(err)
	}
	free := scoring.Basis{Execution: scoring.EvidenceExecutionFree}
	for _, tc := range []struct {
		testFiles []string
		want      float64
	}{
		{[]string{"tests/*"}, 1}, // tests-only candidate out: the fix is chosen
		{nil, 0.5},               // no test files known: a tie of right and wrong
	} {
		// An execution-free verdict: re-ranked without a matrix.
		res := &batch.Result{Instances: []batch.Instance{{ID: "o__r-1", Repo: "o__r", Status: batch.Selected, Candidates: cands,
			Report: &selector.Report{Verdict: scoring.Verdict{Chosen: "0/fix", Basis: free}, TestFiles: tc.testFiles}}}}
		sum, err := batch.Summarize(res, labels, "auto")
		if err != nil {
			t.Fatal(err)
		}
		row, ok := sum.Row("policy kimi")
		if !ok {
			t.Fatal("no row for policy kimi")
		}
		if !near(row.Accuracy, tc.want) {
			t.Errorf("test files %q: policy kimi %.3f, want %.3f", tc.testFiles, row.Accuracy, tc.want)
		}
	}
}
