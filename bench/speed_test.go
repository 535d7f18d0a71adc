package bench

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/outcome"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

// screenExec is a Go suite whose base does not compile with gen_b_test.go:
// the base's first run names it, so the selector drops that test and runs
// the candidate with the kept one.
type screenExec struct{}

func (screenExec) Run(_ context.Context, r executor.Run) (executor.Result, error) {
	res := executor.Result{Status: executor.Completed}
	if slices.ContainsFunc(r.Tests, func(t executor.TestPatch) bool { return t.ID == "b" }) {
		res.Broken, res.BrokenFiles = []string{"p"}, []string{"gen_b_test.go"}
		return res, nil
	}
	res.Cases = []executor.Case{{ID: "p::TestA", Outcome: outcome.Pass}}
	if slices.ContainsFunc(r.Tests, func(t executor.TestPatch) bool { return t.ID == "a" }) {
		o := outcome.Fail
		if r.Patch != "" {
			o = outcome.Pass
		}
		res.Cases = append(res.Cases, executor.Case{ID: "p::TestGenA", Outcome: o})
	}
	return res, nil
}

func newFileDiff(name, line string) string {
	return "diff --git a/" + name + " b/" + name + "\nnew file mode 100644\n--- /dev/null\n+++ b/" + name + "\n@@ -0,0 +1 @@\n+" + line + "\n"
}

// The selector's runs are rebuilt for the bare ones, those with the tests
// the base kept included: they are in a plan only once it holds the base's
// results.
func TestSelectorRuns(t *testing.T) {
	job := selector.Job{ID: "j", Task: selector.Task{
		ID: "t", Env: executor.Environment{Image: "img"}, TestCommand: "go test -json ./...", Format: executor.GoJSON,
		GeneratedTests: []selector.GeneratedTest{{ID: "a", Patch: newFileDiff("gen_a_test.go", "package p")}, {ID: "b", Patch: newFileDiff("gen_b_test.go", "package p")}},
	}, Candidates: []scoring.Candidate{{ID: "c01", Patch: newFileDiff("fix.go", "package p")}}}
	job.Options.Execution = selector.ExecutionAll
	sel := &selector.Selector{Exec: screenExec{}, Pool: selector.NewPool(1)}
	rep, err := sel.Select(t.Context(), job)
	if err != nil {
		t.Fatal(err)
	}
	kept := ""
	for _, r := range rep.Runs {
		if strings.Contains(r.ID, "kept-") {
			kept = r.ID
		}
	}
	if kept == "" {
		t.Fatalf("no run with the kept tests among %v: the test proves nothing", rep.Runs)
	}
	runs, err := selectorRuns(job, rep)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != len(rep.Runs) {
		t.Fatalf("%d runs rebuilt, want %d", len(runs), len(rep.Runs))
	}
	for i, r := range rep.Runs {
		if r.ID == kept && (len(runs[i].Tests) != 1 || runs[i].Tests[0].ID != "a") {
			t.Errorf("run %s rebuilt with tests %v, want a only", r.ID, runs[i].Tests)
		}
	}
}

// The rounds of a speed measurement are summed up by the round whose job
// took the median time (the lower middle of an even count), the shortest
// and longest, and whether every round chose alike.
func TestSpeedRounds(t *testing.T) {
	round := func(ms int, chosen string, ties ...string) speedRound {
		var rep selector.Report
		rep.Duration = time.Duration(ms) * time.Millisecond
		rep.Verdict.Chosen, rep.Verdict.Ties = chosen, ties
		return speedRound{rep: rep}
	}
	for _, tc := range []struct {
		name   string
		rounds []speedRound
		median int
		spread [2]time.Duration
		same   bool
	}{
		{"one", []speedRound{round(300, "c1")}, 0, [2]time.Duration{300 * time.Millisecond, 300 * time.Millisecond}, true},
		{"odd", []speedRound{round(500, "c1"), round(200, "c1"), round(300, "c1")}, 2, [2]time.Duration{200 * time.Millisecond, 500 * time.Millisecond}, true},
		{"even: the lower middle", []speedRound{round(400, "c1"), round(100, "c1"), round(300, "c1"), round(200, "c1")}, 3, [2]time.Duration{100 * time.Millisecond, 400 * time.Millisecond}, true},
		{"another choice", []speedRound{round(200, "c1"), round(300, "c2")}, 0, [2]time.Duration{200 * time.Millisecond, 300 * time.Millisecond}, false},
		{"other ties", []speedRound{round(200, "c1", "c3"), round(300, "c1")}, 0, [2]time.Duration{200 * time.Millisecond, 300 * time.Millisecond}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := medianRound(tc.rounds); got != tc.median {
				t.Errorf("median round %d, want %d", got, tc.median)
			}
			if got := spread(tc.rounds); got != tc.spread {
				t.Errorf("spread %v, want %v", got, tc.spread)
			}
			if got := sameChoices(tc.rounds, tc.rounds[0].rep); got != tc.same {
				t.Errorf("same choices %v, want %v", got, tc.same)
			}
		})
	}
}

// A run that failed for infrastructure reasons in any round, not only the
// median one, fails the measurement; one killed at its memory limit is a
// finished run.
func TestSpeedInfraFailed(t *testing.T) {
	round := func(status executor.Status, reason string) speedRound {
		var rep selector.Report
		rep.Runs = []selector.RunRecord{{ID: "base/1", Status: executor.Completed}, {ID: "cand/x", Status: status, Reason: reason}}
		rep.Results = map[string]executor.Result{"cand/x": {Status: status, Reason: reason}}
		return speedRound{rep: rep}
	}
	ok := round(executor.Completed, "")
	for _, tc := range []struct {
		name   string
		rounds []speedRound
		fails  bool
	}{
		{"all completed", []speedRound{ok, ok, ok}, false},
		{"infra in a round that is not the median", []speedRound{ok, round(executor.Infra, "the engine failed"), ok}, true},
		{"killed at its memory limit", []speedRound{ok, round(executor.Infra, executor.OutOfMemoryReason+" of 64 MiB"), ok}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := infraFailed(tc.rounds, ""); (err != nil) != tc.fails {
				t.Errorf("infraFailed: %v, want an error: %v", err, tc.fails)
			}
		})
	}
}

// The header names the engine's storage driver when the backend read it:
// every figure of a run in a container moves with it.
func TestWriteSpeedStorageDriver(t *testing.T) {
	for _, tc := range []struct {
		driver, want string
	}{
		{"fuse-overlayfs", "on 2 cores, storage driver fuse-overlayfs; medians of 5 rounds"},
		{"", "on 2 cores; medians of 5 rounds"},
	} {
		var b strings.Builder
		r := SpeedResult{Task: "t", Image: "i", Workers: 2, Cores: 2, Rounds: 5, StorageDriver: tc.driver, Selector: time.Second, Ideal: time.Second}
		if err := WriteSpeed(&b, r); err != nil {
			t.Fatal(err)
		}
		if header, _, _ := strings.Cut(b.String(), "\n"); !strings.HasSuffix(header, tc.want) {
			t.Errorf("driver %q: header %q, want it to end with %q", tc.driver, header, tc.want)
		}
	}
}
