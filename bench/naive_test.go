package bench

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

const genPatch = `diff --git a/sub/zz_bp_repro1_test.go b/sub/zz_bp_repro1_test.go
new file mode 100644
--- /dev/null
+++ b/sub/zz_bp_repro1_test.go
@@ -0,0 +1,7 @@
+package sub
+
+import "testing"
+
+func TestBPRepro1X(t *testing.T) {}
+
+func Example_bPRepro2() {}
`

func TestOnlyTestCommand(t *testing.T) {
	got, err := onlyTestCommand("go test -json -count=1 -vet=off -skip '^TestSlow$' ./...", genPatch)
	if err != nil {
		t.Fatal(err)
	}
	want := "go test -json -count=1 -vet=off -skip '^TestSlow$' -run '^(TestBPRepro1X|Example_bPRepro2)$' ./sub"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if _, err := onlyTestCommand("go test ./...", "diff --git a/x.go b/x.go\n"); err == nil {
		t.Error("a patch without tests gave a command")
	}
}

// TestNaiveRuns checks the naive way's shape: base and every candidate
// (duplicates included), each once per artifact.
func TestNaiveRuns(t *testing.T) {
	task := selector.Task{
		ID: "t", Env: executor.Environment{Image: "img"}, TestCommand: "go test -json ./...", Format: executor.GoJSON,
		GeneratedTests: []selector.GeneratedTest{{ID: "t1", Patch: genPatch}, {ID: "t2", Patch: genPatch}},
	}
	cands := []scoring.Candidate{{ID: "a", Patch: "p"}, {ID: "b", Patch: "p"}, {ID: "c", Patch: ""}}
	runs, err := NaiveRuns(task, cands)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != (1+len(cands))*3 {
		t.Fatalf("%d runs, want %d", len(runs), (1+len(cands))*3)
	}
	suites, singles := 0, 0
	for _, r := range runs {
		switch {
		case len(r.Tests) == 0 && r.Command == task.TestCommand:
			suites++
		case len(r.Tests) == 1 && strings.Contains(r.Command, "-run '^(TestBPRepro1X|Example_bPRepro2)$' ./sub"):
			singles++
		default:
			t.Errorf("unexpected run: %d tests, %q", len(r.Tests), r.Command)
		}
		if err := r.Validate(); err != nil {
			t.Error(err)
		}
	}
	if suites != 4 || singles != 8 {
		t.Errorf("%d suite runs and %d single-test runs, want 4 and 8", suites, singles)
	}
}

// naiveExec answers each run by its command.
type naiveExec map[string]executor.Result

func (e naiveExec) Run(_ context.Context, r executor.Run) (executor.Result, error) {
	return e[r.Command], nil
}

// A naive run killed for memory is a finished run, named; any other
// infrastructure failure stops the naive way.
func TestRunNaive(t *testing.T) {
	oom := executor.Result{Status: executor.Infra, Reason: executor.OutOfMemoryReason + "a process was killed at the run's memory limit of 4096 MiB"}
	runs := []executor.Run{{Command: "ok"}, {Command: "oom"}, {Command: "ok"}, {Command: "oom"}}
	exec := naiveExec{"ok": {Status: executor.Completed}, "oom": oom}
	_, killed, err := runNaive(t.Context(), exec, 2, runs)
	if err != nil || fmt.Sprint(killed) != "[1 3]" {
		t.Errorf("runNaive = %v, %v; want runs [1 3] killed for memory and no error", killed, err)
	}
	exec["oom"] = executor.Result{Status: executor.Infra, Reason: "process limit reached: forks failed 3 times"}
	if _, _, err := runNaive(t.Context(), exec, 2, runs); err == nil || !strings.Contains(err.Error(), "process limit") {
		t.Errorf("runNaive with a process-limit failure: %v, want an error saying so", err)
	}
}

// A naive run is named by its candidate and artifact, in NaiveRuns' order,
// with how the selector's runs of that candidate ended.
func TestNaiveRunName(t *testing.T) {
	job := selector.Job{
		Task:       selector.Task{GeneratedTests: []selector.GeneratedTest{{ID: "g1"}, {ID: "g2"}}},
		Candidates: []scoring.Candidate{{ID: "c01", Model: "exact"}, {ID: "c02", Model: "wrong-1"}},
	}
	rep := selector.Report{Runs: []selector.RunRecord{
		{ID: "base", Status: executor.Completed},
		{ID: "r1", Candidates: []string{"c02"}, Status: executor.Infra, Reason: "out of memory: killed"},
	}}
	for i, want := range map[int]string{
		0: "the base, the original tests",
		2: "the base, generated test g2",
		3: "candidate c01 (exact), the original tests; the selector's runs of it: no run of its own",
		7: "candidate c02 (wrong-1), generated test g1; the selector's runs of it: infra (out of memory: killed)",
	} {
		if got := naiveRunName(job, rep, i); got != want {
			t.Errorf("run %d: %q, want %q", i, got, want)
		}
	}
}
