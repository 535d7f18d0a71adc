package selector_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

// exampleJob is the bundled example (testdata/example): eight candidates,
// four distinct runs, on the local backend.
func exampleJob(t *testing.T) selector.Job {
	t.Helper()
	tasks, err := selector.LoadTasks("../testdata/example/task.json")
	if err != nil {
		t.Fatal(err)
	}
	paths, err := filepath.Glob("../testdata/example/preds/*.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	preds, err := selector.LoadPredictions(paths)
	if err != nil {
		t.Fatal(err)
	}
	return selector.Job{ID: "example", Task: tasks[0], Candidates: preds[tasks[0].ID]}
}

// TestSelectAdaptive runs the bundled example with every run and with
// adaptive execution, one and two runs at a time: the first wave is the
// wrong fix's cluster (three votes) and the fix, which has no regression
// and the best FP/PP; the fix plus a regression and the patch that does
// not apply can then no longer change the choice, and are not run. The
// verdict chooses as every run does, with the same ties, and says what was
// not run.
func TestSelectAdaptive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	job := exampleJob(t)
	job.Options.Execution = selector.ExecutionAll
	all, err := (&selector.Selector{Exec: newLocal(t), Pool: selector.NewPool(1)}).Select(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if all.NotRun != 0 || len(all.Verdict.Basis.NotRun) != 0 {
		t.Fatalf("every run: %d not run (%v)", all.NotRun, all.Verdict.Basis.NotRun)
	}
	for _, workers := range []int{1, 2} {
		job.Options.Execution = ""
		exec := &countingExec{Executor: newLocal(t)}
		rep, err := (&selector.Selector{Exec: exec, Pool: selector.NewPool(workers)}).Select(context.Background(), job)
		if err != nil {
			t.Fatal(err)
		}
		v := rep.Verdict
		if v.Chosen != all.Verdict.Chosen || !slices.Equal(v.Ties, all.Verdict.Ties) {
			t.Fatalf("%d at a time: chose %s ties %v; every run chose %s ties %v", workers, v.Chosen, v.Ties, all.Verdict.Chosen, all.Verdict.Ties)
		}
		want := []string{"2/agent-c", "6/agent-g"}
		if !slices.Equal(v.Basis.NotRun, want) || rep.NotRun != 2 || len(rep.Runs) != len(all.Runs)-2 || int(exec.runs.Load()) != len(rep.Runs)+rep.AheadDropped || rep.AheadDropped > workers-1 {
			t.Fatalf("not run %v (%d distinct), %d runs (%d executed, %d made ahead and dropped), every run %d: want %v not run, two runs fewer, at most %d dropped",
				v.Basis.NotRun, rep.NotRun, len(rep.Runs), exec.runs.Load(), rep.AheadDropped, len(all.Runs), want, workers-1)
		}
		for _, id := range want {
			row := rep.Matrix.Candidates[id]
			i := slices.IndexFunc(v.Ranking, func(r scoring.Ranked) bool { return r.ID == id })
			if row.Status != scoring.RunNotRun || i < 0 || v.Ranking[i].Out != scoring.NotRunReason || v.Ranking[i].Rank != 0 {
				t.Errorf("%s: row %+v, ranking %+v: want not run, unranked", id, row, v.Ranking[i])
			}
		}
		var text strings.Builder
		if err := rep.WriteText(&text, nil); err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"2 distinct candidate(s) not run: they cannot change the choice", "not run: cannot change the choice", "2 candidate(s) not run"} {
			if !strings.Contains(text.String(), s) {
				t.Errorf("text report lacks %q:\n%s", s, text.String())
			}
		}
	}
}
