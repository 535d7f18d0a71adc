package bench

import (
	"context"
	"slices"
	"strings"
	"testing"

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
