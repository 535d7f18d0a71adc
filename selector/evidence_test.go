package selector_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/internal/runcache"
	"github.com/bestpatch/bestpatch/internal/testsubject"
	"github.com/bestpatch/bestpatch/selector"
)

// tinyJob is a job on the tiny subject with the given candidates, and the
// file whose existence makes TestEnvironment fail.
func tinyJob(t *testing.T, ids ...string) (selector.Job, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs go test")
	}
	s, err := testsubject.Tiny(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	flaked := filepath.Join(t.TempDir(), "flaked")
	job := selector.Job{ID: "tiny-1", Task: selector.Task{
		ID: "tiny-1", Env: executor.Environment{Repo: s.Repo, Env: map[string]string{testsubject.TinyFlakedEnv: flaked}},
		TestCommand: s.Command, Format: executor.GoJSON, Timeout: selector.Duration(2 * time.Minute),
	}}
	for _, c := range s.Candidates {
		for _, id := range ids {
			if c.ID == id {
				job.Candidates = append(job.Candidates, c)
			}
		}
	}
	return job, flaked
}

// TestRepeatedBaseRunNeverCached: the repeated base run executes even when
// the result cache holds the base, so a case that changed since is found
// flaky; before, base/2 was base/1's cached result and nothing was flaky.
func TestRepeatedBaseRunNeverCached(t *testing.T) {
	job, flaked := tinyJob(t, "fix")
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
	if len(first.Matrix.Flaky) != 0 {
		t.Fatalf("flaky before the environment changed: %v", first.Matrix.Flaky)
	}
	if err := os.WriteFile(flaked, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ran := exec.runs.Load()
	job.ID = "tiny-2"
	second, err := sel.Select(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range second.Runs {
		if want := r.ID != "base/2"; r.Cached != want {
			t.Errorf("second job: run %s cached = %v, want %v (only the repeated base run executes)", r.ID, r.Cached, want)
		}
	}
	if n := exec.runs.Load() - ran; n != 1 {
		t.Errorf("the second job executed %d runs, want 1 (base/2)", n)
	}
	want := "example.com/tiny::TestEnvironment"
	if got := second.Matrix.Flaky[selector.OriginalArtifact]; len(got) != 1 || got[0] != want {
		t.Fatalf("flaky cases = %v, want [%s]", second.Matrix.Flaky, want)
	}
	if second.Verdict.Chosen != "fix" {
		t.Errorf("chose %q, want fix", second.Verdict.Chosen)
	}
}
