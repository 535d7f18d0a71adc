package service_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/internal/runcache"
	"github.com/bestpatch/bestpatch/internal/testsubject"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/service"
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
