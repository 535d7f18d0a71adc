package selector_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/bench/testsubject"
	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/internal/runcache"
	"github.com/bestpatch/bestpatch/scoring"
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

// TestSelectExecutionFree: a job that asks for an execution-free choice
// runs nothing and chooses by the patches alone, and says so.
func TestSelectExecutionFree(t *testing.T) {
	job, _ := tinyJob(t, "fix", "wrong", "tamper")
	job.Task.GeneratedTests = []selector.GeneratedTest{{ID: "g", Patch: "diff --git a/x_test.go b/x_test.go\n"}}
	job.Options.Execution = selector.ExecutionNone
	exec := &countingExec{Executor: newLocal(t)}
	rep, err := (&selector.Selector{Exec: exec, Pool: selector.NewPool(2)}).Select(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	v := rep.Verdict
	if exec.runs.Load() != 0 || len(rep.Runs) != 0 {
		t.Errorf("%d runs executed, %d reported: want none", exec.runs.Load(), len(rep.Runs))
	}
	if v.Chosen == "" || v.Chosen == "tamper" || v.Abstained != "" || v.Basis.Execution != scoring.EvidenceExecutionFree {
		t.Errorf("chosen %q, abstained %q, basis %+v: want a clean candidate chosen execution-free", v.Chosen, v.Abstained, v.Basis)
	}
	if !slices.ContainsFunc(v.Notes, func(n string) bool { return strings.Contains(n, "execution-free, as the job asked") }) {
		t.Errorf("notes %q do not say the choice rests on no execution", v.Notes)
	}
	if len(rep.Dropped) != 0 {
		t.Errorf("dropped %v: an execution-free job drops no generated test, it runs none", rep.Dropped)
	}
	// Without an executor at all.
	if _, err := (&selector.Selector{Pool: selector.NewPool(1)}).Select(context.Background(), job); err != nil {
		t.Errorf("execution-free without an executor: %v", err)
	}
}

// TestSelectPartialEvidence: a candidate whose run times out leaves the
// verdict resting on the others, and the basis says which and how many.
func TestSelectPartialEvidence(t *testing.T) {
	job, _ := tinyJob(t, "fix", "hang")
	job.Task.Timeout = selector.Duration(15 * time.Second)
	rep, err := (&selector.Selector{Exec: newLocal(t), Pool: selector.NewPool(2)}).Select(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	b := rep.Verdict.Basis
	if rep.Verdict.Chosen != "fix" || b.Execution != scoring.EvidencePartial || !slices.Equal(b.Executed, []string{"fix"}) ||
		!slices.Equal(b.Unknown, []string{"hang"}) || b.UnknownRuns != 1 || b.BaseCases != 2 {
		t.Fatalf("chosen %q, basis %+v: want fix, partial evidence (fix ran, hang unknown, 1 unknown run, 2 base cases)", rep.Verdict.Chosen, b)
	}
	var text strings.Builder
	if err := rep.WriteText(&text, nil); err != nil {
		t.Fatal(err)
	}
	if want := "Basis:  partial execution evidence: 1 of 2 candidate(s) in play ran, against 2 base case(s); no evidence for hang; 1 run(s) timed out"; !strings.Contains(text.String(), want) {
		t.Errorf("text lacks %q:\n%s", want, text.String())
	}
}

// TestExecutionOptionValidated: an unknown execution mode, or an
// execution-free job asking for tests that need runs, is refused.
func TestExecutionOptionValidated(t *testing.T) {
	base := selector.Job{ID: "j", Candidates: []scoring.Candidate{{ID: "a", Patch: answerPatch}},
		Task: selector.Task{ID: "t", Env: executor.Environment{Repo: "/tmp"}, TestCommand: "go test -json ./...", Format: executor.GoJSON}}
	for _, tc := range []struct {
		name string
		opts selector.Options
		want string
	}{
		{"unknown mode", selector.Options{Execution: "some"}, `options.execution "some" is not known`},
		{"generated tests", selector.Options{Execution: selector.ExecutionNone, GenerateTests: 2}, "generated and adversarial tests need runs"},
		{"adversarial rounds", selector.Options{Execution: selector.ExecutionNone, AdversarialRounds: 1}, "generated and adversarial tests need runs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := base
			job.Options = tc.opts
			err := job.Validate()
			if !errors.Is(err, selector.ErrInvalidJob) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want an invalid job mentioning %q", err, tc.want)
			}
		})
	}
	job := base
	job.Options.Execution = selector.ExecutionNone
	if err := job.Validate(); err != nil {
		t.Errorf("execution-free job refused: %v", err)
	}
}

const answerPatch = "diff --git a/answer.go b/answer.go\n--- a/answer.go\n+++ b/answer.go\n@@ -1,3 +1,3 @@\n package tiny\n \n-func Answer() int { return 41 }\n+func Answer() int { return 42 }\n"

// TestSelectMinConfidence: an execution-free job below its minimum
// confidence ends with a verdict that asks for more samples, names the
// candidate it withheld, and is no failure; at a minimum it reaches, it
// chooses.
func TestSelectMinConfidence(t *testing.T) {
	job, _ := tinyJob(t, "fix", "wrong")
	job.Options.Execution = selector.ExecutionNone
	var events []selector.Event
	sel := &selector.Selector{Pool: selector.NewPool(1), OnEvent: func(e selector.Event) { events = append(events, e) }}
	rep, err := sel.Select(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	conf := rep.Verdict.Confidence
	if conf == nil || rep.Verdict.Chosen == "" {
		t.Fatalf("execution-free verdict without a confidence: %+v", rep.Verdict)
	}
	chosen := rep.Verdict.Chosen

	job.Options.MinConfidence = math.Min(1, *conf+0.01)
	events = nil
	if rep, err = sel.Select(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	v := rep.Verdict
	if v.Chosen != "" || !v.SampleMore || v.Withheld != chosen || !strings.HasPrefix(v.Abstained, "sample more: confidence") {
		t.Fatalf("verdict %+v: want sample more, %s withheld", v, chosen)
	}
	if last := events[len(events)-1]; last.Kind != selector.EventSelected || !strings.HasPrefix(last.Message, "sample more") {
		t.Errorf("last event %+v: want a finished job saying sample more", last)
	}
	var text strings.Builder
	if err := rep.WriteText(&text, nil); err != nil || !strings.Contains(text.String(), "Abstained: sample more") {
		t.Errorf("text (%v):\n%s", err, text.String())
	}

	job.Options.MinConfidence = *conf
	if rep, err = sel.Select(context.Background(), job); err != nil || rep.Verdict.Chosen != chosen {
		t.Errorf("at its own confidence: chose %q (%v), want %s", rep.Verdict.Chosen, err, chosen)
	}
	job.Options.MinConfidence = 1.5
	if _, err := sel.Select(context.Background(), job); !errors.Is(err, selector.ErrInvalidJob) || !strings.Contains(err.Error(), "min_confidence 1.5") {
		t.Errorf("min_confidence 1.5: %v", err)
	}
}
