package batch_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/internal/testsubject"
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
	l := executor.NewLocal(executor.LocalConfig{Logger: slog.New(slog.DiscardHandler), TempDir: t.TempDir()})
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
