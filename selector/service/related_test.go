package service_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/bench/testsubject"
	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/outcome"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/client"
	"github.com/bestpatch/bestpatch/selector/service"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// TestRelatedTestsThroughTheDaemon runs a job whose regression tests are
// related to the candidates' changes on a daemon: the listing run goes
// through the work queue like any run, and the plan replayed from the stored
// results hands out base and candidate runs with the related test files.
func TestRelatedTestsThroughTheDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("runs pytest")
	}
	py, err := testsubject.PythonWithPytest()
	if err != nil {
		t.Skip(err)
	}
	s, err := testsubject.Related(t.TempDir(), py)
	if err != nil {
		t.Fatal(err)
	}
	task := selector.Task{
		ID: "pkg__pkg-1", Env: executor.Environment{Repo: s.Repo},
		TestCommand: s.Command, Format: executor.Pytest,
		TestFiles: testsubject.RelatedTestFiles, Timeout: selector.Duration(2 * time.Minute),
		TestArgs: &selector.TestArgs{Related: "python", ListPatterns: testsubject.RelatedListPatterns},
	}
	fix, helpers := s.Candidates[0], s.Candidates[1]
	ns := startNATS(t)
	startDaemon(t, ns.ClientURL(), service.Config{Name: "d1"})
	c := newClient(t, ns.ClientURL())
	ctx := ctxFor(t, 3*time.Minute)

	rep, err := c.SubmitAndWait(ctx, selector.Job{ID: "related-1", Task: task, Candidates: []scoring.Candidate{fix}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict.Chosen != "fix" {
		t.Fatalf("chose %q", rep.Verdict.Chosen)
	}
	base := rep.Matrix.Base.Cases[selector.OriginalArtifact]
	if len(base) != 2 || base["pkg/tests/test_mod.py::test_f"] != outcome.Fail {
		t.Errorf("base cases %v, want test_mod.py's only", base)
	}
	if !strings.Contains(strings.Join(rep.Verdict.Notes, "\n"), "pkg/mod.py -> pkg/tests/test_mod.py") {
		t.Errorf("notes %q", rep.Verdict.Notes)
	}

	// No related test: the job runs nothing (never the whole suite) and
	// fails because it abstained, saying what to use instead; its report
	// is kept with the outcome.
	job := selector.Job{ID: "related-2", Task: task, Candidates: []scoring.Candidate{helpers}}
	_, err = c.SubmitAndWait(ctx, job)
	var failed *client.FailedError
	if !errors.As(err, &failed) || failed.State != wire.Failed || !strings.Contains(failed.Message, "abstained: no related test") || !strings.Contains(failed.Message, "--regression-tests p2p or all") {
		t.Fatalf("a job without related tests: %v, want it failed because it abstained", err)
	}
	out, err := c.Outcome(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if out.Report == nil || out.Report.Verdict.Abstained == "" || len(out.Report.Runs) != 1 || out.Report.Runs[0].ID != selector.ListRunID {
		t.Errorf("outcome %+v: want the abstained report, with the listing as its only run", out)
	}
}
