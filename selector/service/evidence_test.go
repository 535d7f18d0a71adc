package service_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/bench/testsubject"
	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/internal/runcache"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/client"
	"github.com/bestpatch/bestpatch/selector/service"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// tinyJob is a job on the tiny subject with the given candidates, and the
// file whose existence makes TestEnvironment fail.
func tinyJob(t *testing.T, id string, ids ...string) (selector.Job, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs go test")
	}
	s, err := testsubject.Tiny(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	flaked := filepath.Join(t.TempDir(), "flaked")
	job := selector.Job{ID: id, Task: selector.Task{
		ID: "tiny-1", Env: executor.Environment{Repo: s.Repo, Env: map[string]string{testsubject.TinyFlakedEnv: flaked}},
		TestCommand: s.Command, Format: executor.GoJSON, Timeout: selector.Duration(2 * time.Minute),
	}}
	for _, c := range s.Candidates {
		for _, want := range ids {
			if c.ID == want {
				job.Candidates = append(job.Candidates, c)
			}
		}
	}
	return job, flaked
}

// TestDaemonRepeatedBaseRunNeverCached: on the daemon too, the repeated
// base run executes although the result cache holds the base, and finds
// the case that changed since flaky.
func TestDaemonRepeatedBaseRunNeverCached(t *testing.T) {
	job, flaked := tinyJob(t, "tiny-first", "fix")
	ns := startNATS(t)
	cache, err := runcache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	startDaemon(t, ns.ClientURL(), service.Config{Name: "d1", Cache: cache})
	c := newClient(t, ns.ClientURL())
	ctx := ctxFor(t, 5*time.Minute)
	first, err := c.SubmitAndWait(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Matrix.Flaky) != 0 {
		t.Fatalf("flaky before the environment changed: %v", first.Matrix.Flaky)
	}
	if err := os.WriteFile(flaked, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	job.ID = "tiny-second"
	second, err := c.SubmitAndWait(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range second.Runs {
		if want := r.ID != "base/2"; r.Cached != want {
			t.Errorf("second job: run %s cached = %v, want %v (only the repeated base run executes)", r.ID, r.Cached, want)
		}
	}
	want := "example.com/tiny::TestEnvironment"
	if got := second.Matrix.Flaky[selector.OriginalArtifact]; len(got) != 1 || got[0] != want {
		t.Fatalf("flaky cases = %v, want [%s]", second.Matrix.Flaky, want)
	}
}

// TestDaemonAbstainedJobFails: a job whose runs give no evidence (output no
// parser understands) ends failed with the reason, its report kept with the
// outcome; before, the daemon marked it done with a choice.
func TestDaemonAbstainedJobFails(t *testing.T) {
	job, _ := tinyJob(t, "tiny-noparse", "fix", "wrong")
	job.Task.TestCommand = "echo all tests passed, trust me"
	ns := startNATS(t)
	startDaemon(t, ns.ClientURL(), service.Config{Name: "d1"})
	c := newClient(t, ns.ClientURL())
	ctx := ctxFor(t, 5*time.Minute)
	_, err := c.SubmitAndWait(ctx, job)
	var failed *client.FailedError
	if !errors.As(err, &failed) || failed.State != wire.Failed || !strings.Contains(failed.Message, "abstained: ") || !strings.Contains(failed.Message, "no test results in the output") {
		t.Fatalf("err = %v, want the job failed because it abstained", err)
	}
	out, err := c.Outcome(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if out.Report == nil || out.Report.Verdict.Abstained == "" || out.Report.Verdict.Chosen != "" || len(out.Report.Runs) == 0 {
		t.Errorf("outcome %+v: want the abstained report, with its runs, kept", out)
	}
}

// TestDaemonExecutionFree: an execution-free job runs nothing; the daemon
// scores it on accepting it, and the verdict says it rests on no execution.
func TestDaemonExecutionFree(t *testing.T) {
	job, _ := tinyJob(t, "tiny-free", "fix", "wrong")
	job.Options.Execution = selector.ExecutionNone
	ns := startNATS(t)
	startDaemon(t, ns.ClientURL(), service.Config{Name: "d1"})
	c := newClient(t, ns.ClientURL())
	ctx := ctxFor(t, time.Minute)
	rep, err := c.SubmitAndWait(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict.Chosen == "" || rep.Verdict.Basis.Execution != scoring.EvidenceExecutionFree || len(rep.Runs) != 0 {
		t.Fatalf("chosen %q, basis %+v, %d runs: want a choice resting on no execution", rep.Verdict.Chosen, rep.Verdict.Basis, len(rep.Runs))
	}
	// Submitting it again answers from the finished job.
	again, err := c.Submit(ctx, job)
	if err != nil || !again.Existing || again.State != wire.Done {
		t.Errorf("resubmission: %+v, %v; want existing and done", again, err)
	}
}

// TestDaemonSampleMore: a job whose verdict is below its min_confidence is
// done, not failed: its verdict says sample more and names the candidate
// it withheld.
func TestDaemonSampleMore(t *testing.T) {
	job, _ := tinyJob(t, "tiny-sample-more", "fix", "wrong")
	job.Options.Execution = selector.ExecutionNone
	job.Options.MinConfidence = 1
	ns := startNATS(t)
	startDaemon(t, ns.ClientURL(), service.Config{Name: "d1"})
	c := newClient(t, ns.ClientURL())
	rep, err := c.SubmitAndWait(ctxFor(t, time.Minute), job)
	if err != nil {
		t.Fatalf("a sample-more verdict ended the job in error: %v", err)
	}
	v := rep.Verdict
	if !v.SampleMore || v.Chosen != "" || v.Withheld == "" || v.Confidence == nil || !strings.HasPrefix(v.Abstained, "sample more") {
		t.Errorf("verdict %+v: want sample more with the withheld candidate and its confidence", v)
	}
}
