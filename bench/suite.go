package bench

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/outcome"
	"github.com/bestpatch/bestpatch/selector"
)

// suite runs one module's test command on repositories derived from it,
// through the Local executor (the same run.sh the selector uses, so a patch
// applies, or fails to, exactly as it will during selection). A shared
// semaphore bounds the runs in flight across modules.
type suite struct {
	exec    selector.Executor
	slots   *semaphore.Weighted
	command string
	env     map[string]string
	timeout time.Duration
	log     *slog.Logger
}

const pass = outcome.Pass

// outcomes is one run's result by case ID.
type outcomes map[string]outcome.Outcome

func (s *suite) run(ctx context.Context, repo, patch string, tests []executor.TestPatch) (executor.Result, outcomes, error) {
	return s.runCommand(ctx, repo, patch, tests, s.command)
}

// runCommand is run with another test command (one that also writes a
// coverage profile).
func (s *suite) runCommand(ctx context.Context, repo, patch string, tests []executor.TestPatch, command string) (executor.Result, outcomes, error) {
	if err := s.slots.Acquire(ctx, 1); err != nil {
		return executor.Result{}, nil, err
	}
	defer s.slots.Release(1)
	res, err := s.exec.Run(ctx, executor.Run{
		Env:       executor.Environment{Repo: repo, Env: s.env},
		Patch:     patch,
		Tests:     tests,
		TestFiles: selector.Task{Format: executor.GoJSON}.TestFileMatcher().Patterns(),
		Command:   command,
		Format:    executor.GoJSON,
		Timeout:   s.timeout,
	})
	if err != nil {
		return res, nil, fmt.Errorf("run the tests of %s: %w", repo, err)
	}
	if s.log != nil {
		s.log.Debug("run", "repo", repo, "status", res.Status, "cases", len(res.Cases), "seconds", res.Duration.Seconds())
	}
	out := outcomes{}
	for _, c := range res.Cases {
		out[c.ID] = c.Outcome
	}
	return res, out, nil
}

// built reports whether a run completed with every package built.
func built(res executor.Result) bool {
	return res.Status == executor.Completed && len(res.Broken) == 0
}

// topLevel is the top-level test of a case: "pkg::TestX/sub" -> "pkg::TestX".
func topLevel(caseID string) string {
	pkg, name, ok := strings.Cut(caseID, "::")
	if !ok {
		return caseID
	}
	name, _, _ = strings.Cut(name, "/")
	return pkg + "::" + name
}
