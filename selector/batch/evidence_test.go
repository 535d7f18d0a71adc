package batch_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/bench/testsubject"
	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/local"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/batch"
)

// TestBatchAbstainedInstanceIsRetried: an instance whose runs give no
// evidence (its environment is not ready: the test command prints nothing
// a parser understands) is a failed instance: no prediction is written for
// it and it is not journaled, so that the next run of the batch, once the
// environment is ready, selects it. Before, it was counted as selected, its
// evidence-free choice written and journaled for good.
func TestBatchAbstainedInstanceIsRetried(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	s, err := testsubject.Tiny(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ready := filepath.Join(t.TempDir(), "ready")
	task := selector.Task{ID: "tiny__answer-1", Env: executor.Environment{Repo: s.Repo, Env: map[string]string{"READY": ready}},
		TestCommand: `if [ -e "$READY" ]; then ` + s.Command + `; else echo "the environment is not ready"; fi`,
		Format:      executor.GoJSON, Timeout: selector.Duration(2 * time.Minute)}
	var cands []scoring.Candidate
	for _, c := range s.Candidates {
		if c.ID == "fix" || c.ID == "wrong" {
			cands = append(cands, c)
		}
	}
	l := local.New(local.Config{Logger: slog.New(slog.DiscardHandler), TempDir: t.TempDir()})
	t.Cleanup(func() { l.Close() })
	journal := filepath.Join(t.TempDir(), "selected.journal.jsonl")
	runBatch := func() batch.Instance {
		t.Helper()
		sel := &selector.Selector{Exec: l, Pool: selector.NewPool(2)}
		r, err := batch.New(batch.Config{Tasks: []selector.Task{task}, Predictions: map[string][]scoring.Candidate{task.ID: cands}, Selector: sel, Journal: journal})
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n := len(res.Predictions("bestpatch")); res.Instances[0].Status != batch.Selected && n != 0 {
			t.Errorf("%d predictions written for an instance that was not selected", n)
		}
		return res.Instances[0]
	}

	first := runBatch()
	if first.Status != batch.Failed || !strings.Contains(first.Error, "abstained: ") || !strings.Contains(first.Error, "no test results in the output") {
		t.Fatalf("first batch: %s %q, want failed because the selection abstained (no test results)", first.Status, first.Error)
	}
	if data, _ := os.ReadFile(journal); strings.Contains(string(data), task.ID) {
		t.Fatalf("the abstained instance was journaled:\n%s", data)
	}

	if err := os.WriteFile(ready, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	second := runBatch()
	if second.Resumed || second.Status != batch.Selected {
		t.Fatalf("second batch: resumed %v, %s %q: want selected anew", second.Resumed, second.Status, second.Error)
	}
	if c, _ := second.Chosen(); c.ID != "fix" || second.Report.Verdict.Basis.Execution != scoring.EvidenceFull {
		t.Errorf("second batch chose %q on %+v, want fix on full evidence", c.ID, second.Report.Verdict.Basis)
	}
}

// TestBatchSampleMore: an instance whose verdict asks for more samples
// (below --min-confidence) is finished, not failed: none chosen, an empty
// prediction written (as for any instance where none is chosen),
// journaled; the summary counts it as a miss of the
// selected row and gives the accuracy of the answered ones.
func TestBatchSampleMore(t *testing.T) {
	if testing.Short() {
		t.Skip("makes a git repository")
	}
	s, err := testsubject.Tiny(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var cands []scoring.Candidate
	for _, c := range s.Candidates {
		if c.ID == "fix" || c.ID == "wrong" {
			cands = append(cands, c)
		}
	}
	task := selector.Task{ID: "tiny__answer-1", Env: executor.Environment{Repo: s.Repo}, TestCommand: s.Command, Format: executor.GoJSON}
	journal := filepath.Join(t.TempDir(), "selected.journal.jsonl")
	r, err := batch.New(batch.Config{Tasks: []selector.Task{task}, Predictions: map[string][]scoring.Candidate{task.ID: cands},
		Options: selector.Options{Execution: selector.ExecutionNone, MinConfidence: 1}, Selector: &selector.Selector{Pool: selector.NewPool(1)}, Journal: journal})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	in := res.Instances[0]
	if in.Status != batch.NoneChosen || in.Report == nil || !in.Report.Verdict.SampleMore {
		t.Fatalf("instance %s %q, verdict %+v: want none chosen, sample more", in.Status, in.Error, in.Report)
	}
	if p := res.Predictions("bestpatch"); len(p) != 1 || p[0].Patch != "" {
		t.Errorf("predictions %+v: want one empty patch", p)
	}
	if data, _ := os.ReadFile(journal); !strings.Contains(string(data), task.ID) {
		t.Errorf("the sample-more instance was not journaled")
	}
	labels := filepath.Join(t.TempDir(), "labels.jsonl")
	os.WriteFile(labels, []byte(`{"instance_id": "tiny__answer-1", "model_name_or_path": "fix", "resolved": true}
{"instance_id": "tiny__answer-1", "model_name_or_path": "wrong", "resolved": false}
`), 0o644)
	l, err := batch.LoadLabels(batch.Runs{}, labels)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := batch.Summarize(res, l, "auto")
	if err != nil {
		t.Fatal(err)
	}
	row, _ := sum.Row("selected (policy auto)")
	if sum.SampleMore != 1 || row.Accuracy != 0 || sum.Pools != 1 {
		t.Errorf("summary: %d sample more, selected %.2f over %d: want 1, 0 over 1", sum.SampleMore, row.Accuracy, sum.Pools)
	}
	var text strings.Builder
	if err := sum.WriteText(&text); err != nil || !strings.Contains(text.String(), "1 verdicts abstained (sample more") {
		t.Errorf("summary text (%v):\n%s", err, text.String())
	}
}
