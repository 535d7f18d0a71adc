package selector_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/bench/testsubject"
	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/local"
	"github.com/bestpatch/bestpatch/executor/outcome"
	"github.com/bestpatch/bestpatch/internal/runcache"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

// countingExec counts the runs that reach the real executor.
type countingExec struct {
	selector.Executor
	runs atomic.Int64
}

func (c *countingExec) Run(ctx context.Context, r executor.Run) (executor.Result, error) {
	c.runs.Add(1)
	return c.Executor.Run(ctx, r)
}

func newLocal(t *testing.T) selector.Executor {
	l := local.New(local.Config{Logger: slog.New(slog.DiscardHandler), TempDir: t.TempDir()})
	t.Cleanup(func() { l.Close() })
	return l
}

func uuidJob(t *testing.T) (*testsubject.Subject, selector.Job) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs go test on a real module")
	}
	s, err := testsubject.UUID(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	job := selector.Job{ID: "uuid-1", Candidates: s.Candidates, Task: selector.Task{
		ID: "google__uuid-1", Env: executor.Environment{Repo: s.Repo},
		TestCommand: s.Command, Format: executor.GoJSON, Timeout: selector.Duration(5 * time.Minute),
	}}
	for _, id := range []string{"repro", "passing", "broken"} {
		job.Task.GeneratedTests = append(job.Task.GeneratedTests, selector.GeneratedTest{ID: id, Patch: s.Tests[id]})
	}
	return s, job
}

// TestSelectUUID runs a whole job on github.com/google/uuid with an injected
// bug and checks that the exact fix (or its cosmetic twin) is chosen and
// that every bad kind of candidate and generated test is handled as
// MISSION.md says.
func TestSelectUUID(t *testing.T) {
	s, job := uuidJob(t)
	job.Options.Execution = selector.ExecutionAll // every candidate's handling is checked
	exec := &countingExec{Executor: newLocal(t)}
	var mu sync.Mutex
	var events []selector.EventKind
	sel := &selector.Selector{Exec: exec, Pool: selector.NewPool(2), OnEvent: func(e selector.Event) {
		mu.Lock()
		events = append(events, e.Kind)
		mu.Unlock()
	}}
	rep, err := sel.Select(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	v := rep.Verdict
	if !s.Correct[v.Chosen] {
		t.Fatalf("chose %q, want one of fix, twin\n%+v", v.Chosen, v)
	}
	if want := job.Task.TestFileMatcher().Patterns(); fmt.Sprint(rep.TestFiles) != fmt.Sprint(want) || len(want) == 0 {
		t.Errorf("report's test files %q, want the task's %q", rep.TestFiles, want)
	}
	ranked := map[string]scoring.Ranked{}
	for _, r := range v.Ranking {
		ranked[r.ID] = r
	}
	// The cosmetic twin shares the fix's run.
	if rep.Distinct != 4 {
		t.Errorf("distinct = %d, want 4 (fix+twin, fix-regress, wrong, noapply)", rep.Distinct)
	}
	if got, want := rep.Matrix.Candidates["twin"].Cases, rep.Matrix.Candidates["fix"].Cases; !sameCases(got, want) {
		t.Error("fix and twin have different rows: they should share one run")
	}
	for id, want := range map[string]scoring.RunStatus{"noapply": scoring.RunApplyFailed, "empty": scoring.RunEmpty, "fix": scoring.RunOK} {
		if got := ranked[id].Signals.Status; got != want {
			t.Errorf("%s: status %s, want %s", id, got, want)
		}
	}
	for _, id := range []string{"noapply", "empty"} {
		if ranked[id].Out == "" || slices.Contains(v.Ties, id) {
			t.Errorf("%s is not out of the running: %+v", id, ranked[id])
		}
	}
	if r := ranked["fix-regress"].Signals.Regressions; r == nil || *r == 0 {
		t.Errorf("fix-regress: regressions = %v, want > 0 (it breaks TestConstants)", r)
	}
	if r := ranked["fix"].Signals.Regressions; r == nil || *r != 0 {
		t.Errorf("fix: regressions = %v, want 0", r)
	}
	if f := ranked["wrong"].Signals.FPPP; f == nil || *f >= *ranked["fix"].Signals.FPPP {
		t.Errorf("wrong: FP/PP %v should be below the fix's %v", f, ranked["fix"].Signals.FPPP)
	}
	// The generated test that does not compile is dropped and poisons nothing;
	// the one that passes on base reproduces nothing.
	if _, ok := rep.Dropped["broken"]; !ok {
		t.Errorf("the non-compiling generated test was not dropped: %v", rep.Dropped)
	}
	if len(rep.Matrix.Base.Cases[selector.OriginalArtifact]) < 20 {
		t.Errorf("original suite has %d cases on base: the broken test poisoned it", len(rep.Matrix.Base.Cases[selector.OriginalArtifact]))
	}
	if rep.Matrix.Base.Cases["repro"]["github.com/google/uuid::TestReproFourthHyphen"] != outcome.Fail {
		t.Errorf("repro on base = %v, want FAIL", rep.Matrix.Base.Cases["repro"])
	}
	if rep.Matrix.Candidates["fix"].Cases["repro"]["github.com/google/uuid::TestReproFourthHyphen"] != outcome.Pass {
		t.Error("repro does not pass with the fix")
	}
	// Runs: the first base run, whose build errors name the broken test's
	// file; two more base runs with the kept tests (the uuid package did
	// not build in the first, so its cases need two runs to show flakiness);
	// one run per distinct candidate: 2 + D + 1. While the first base run
	// ran, the other slot ran a candidate ahead with every generated test,
	// dropped once the base showed one does not compile.
	if len(rep.Runs) != 3+4 || rep.AheadDropped != 1 {
		t.Errorf("%d runs, %d made ahead and dropped; want 7 (2 + D + 1, D = 4) and 1", len(rep.Runs), rep.AheadDropped)
	}
	if n := exec.runs.Load(); n != int64(len(rep.Runs)+rep.AheadDropped) {
		t.Errorf("%d runs reached the executor, want %d: the runs and the ones dropped", n, len(rep.Runs)+rep.AheadDropped)
	}
	mu.Lock()
	defer mu.Unlock()
	if events[0] != selector.EventAccepted || events[len(events)-1] != selector.EventSelected {
		t.Errorf("events = %v", events)
	}
}

func sameCases(a, b map[string]map[string]outcome.Outcome) bool {
	if len(a) != len(b) {
		return false
	}
	for art, cs := range a {
		for id, o := range cs {
			if b[art][id] != o {
				return false
			}
		}
	}
	return true
}

// TestSelectCachesRuns: a second identical job is served from the result
// cache, except the repeated base run, which always executes.
func TestSelectCachesRuns(t *testing.T) {
	_, job := uuidJob(t)
	job.Task.GeneratedTests = job.Task.GeneratedTests[:1]
	job.Candidates = job.Candidates[:2]
	cache, err := runcache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	exec := &countingExec{Executor: newLocal(t)}
	sel := &selector.Selector{Exec: exec, Pool: selector.NewPool(2), Cache: cache}
	first, err := sel.Select(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	ran := exec.runs.Load()
	second, err := sel.Select(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if n := exec.runs.Load() - ran; n != 1 {
		t.Fatalf("the second job ran %d runs, want 1 (base/2)", n)
	}
	if first.Verdict.Chosen != second.Verdict.Chosen {
		t.Fatalf("cached verdict %q differs from %q", second.Verdict.Chosen, first.Verdict.Chosen)
	}
}

// TestSelectHostileTests: a test command that hangs, and one that prints
// 100 MB, end as clear statuses without crashing or hanging the job.
func TestSelectHostileTests(t *testing.T) {
	_, job := uuidJob(t)
	job.Candidates = job.Candidates[:1]
	job.Task.GeneratedTests = nil
	job.Options.BaseRuns = 1
	for _, tc := range []struct {
		name, command string
		timeout       time.Duration
		want          scoring.RunStatus
	}{
		{"hang", "sleep 1000", 2 * time.Second, scoring.RunUnknown},
		{"100MB of output", "head -c 100000000 /dev/zero | tr '\\0' x; go test -json -count=1 -run TestNew ./...", time.Minute, scoring.RunOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := job
			j.Task.TestCommand = tc.command
			j.Task.Timeout = selector.Duration(tc.timeout)
			sel := &selector.Selector{Exec: newLocal(t), Pool: selector.NewPool(2)}
			rep, err := sel.Select(context.Background(), j)
			if err != nil {
				t.Fatal(err)
			}
			if got := rep.Matrix.Candidates["fix"].Status; got != tc.want {
				t.Fatalf("status %s (%s), want %s", got, rep.Matrix.Candidates["fix"].Reason, tc.want)
			}
			if tc.want == scoring.RunUnknown && !strings.Contains(rep.Matrix.Candidates["fix"].Reason, "tim") {
				t.Errorf("reason %q does not say it timed out", rep.Matrix.Candidates["fix"].Reason)
			}
		})
	}
}

func TestSelectMissingRepository(t *testing.T) {
	job := selector.Job{ID: "j", Candidates: []scoring.Candidate{{ID: "a", Patch: "diff --git a/x b/x\n"}},
		Task: selector.Task{ID: "t", Env: executor.Environment{Repo: "/nonexistent/repo"}, TestCommand: "true", Format: executor.GoJSON}}
	sel := &selector.Selector{Exec: newLocal(t), Pool: selector.NewPool(1)}
	_, err := sel.Select(context.Background(), job)
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/repo") {
		t.Fatalf("err = %v, want it to name the missing repository", err)
	}
}
