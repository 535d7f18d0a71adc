package selector_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/selector"
)

// timedExec records when each run started and ended, by whether it is a
// base run (no patch) or a candidate's.
type timedExec struct {
	selector.Executor
	mu        sync.Mutex
	baseEnds  []time.Time
	candStart []time.Time
}

func (e *timedExec) Run(ctx context.Context, r executor.Run) (executor.Result, error) {
	start := time.Now()
	res, err := e.Executor.Run(ctx, r)
	e.mu.Lock()
	defer e.mu.Unlock()
	if r.Patch == "" {
		e.baseEnds = append(e.baseEnds, time.Now())
	} else {
		e.candStart = append(e.candStart, start)
	}
	return res, err
}

// While the first base run of a job with generated tests is in, a slot it
// leaves idle runs a candidate ahead; when the base keeps every test (here:
// the one that does not compile is left out), the job takes that run: no
// run is dropped, and the verdict and the matrix are those of a job that
// waited (one slot: nothing runs ahead).
func TestSelectRunsAhead(t *testing.T) {
	_, job := uuidJob(t)
	job.Task.GeneratedTests = slices.DeleteFunc(job.Task.GeneratedTests, func(g selector.GeneratedTest) bool { return g.ID == "broken" })
	job.Options.Execution = selector.ExecutionAll

	waited, err := (&selector.Selector{Exec: newLocal(t), Pool: selector.NewPool(1)}).Select(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	exec := &timedExec{Executor: newLocal(t)}
	var mu sync.Mutex
	finished := map[string]int{}
	sel := &selector.Selector{Exec: exec, Pool: selector.NewPool(2), OnEvent: func(e selector.Event) {
		mu.Lock()
		defer mu.Unlock()
		if e.Kind == selector.EventRunFinished {
			finished[e.Run]++
		}
	}}
	rep, err := sel.Select(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if rep.AheadDropped != 0 || len(rep.Runs) != len(waited.Runs) {
		t.Errorf("%d runs, %d made ahead and dropped; the job that waited made %d runs: want as many, none dropped", len(rep.Runs), rep.AheadDropped, len(waited.Runs))
	}
	exec.mu.Lock()
	firstBase := slices.MinFunc(exec.baseEnds, time.Time.Compare)
	ahead := slices.ContainsFunc(exec.candStart, func(s time.Time) bool { return s.Before(firstBase) })
	exec.mu.Unlock()
	if !ahead {
		t.Errorf("no candidate run started before the first base run ended: nothing ran ahead")
	}
	if rep.Verdict.Chosen != waited.Verdict.Chosen || !slices.Equal(rep.Verdict.Ties, waited.Verdict.Ties) {
		t.Errorf("chose %s ties %v; the job that waited chose %s ties %v", rep.Verdict.Chosen, rep.Verdict.Ties, waited.Verdict.Chosen, waited.Verdict.Ties)
	}
	for id, row := range waited.Matrix.Candidates {
		if got := rep.Matrix.Candidates[id].Cases; !sameCases(got, row.Cases) {
			t.Errorf("candidate %s: cases differ from the job that waited:\n%v\nwaited:\n%v", id, got, row.Cases)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, r := range rep.Runs {
		if finished[r.ID] != 1 {
			t.Errorf("run %s: %d run_finished events, want 1", r.ID, finished[r.ID])
		}
	}
}
