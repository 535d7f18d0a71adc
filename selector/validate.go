package selector

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bestpatch/bestpatch/executor"

	"github.com/bestpatch/bestpatch/scoring"
)

// Limits of one job. Validate refuses a job beyond them, naming the limit,
// so that select, batch and the daemon refuse the same jobs before anything
// is stored or run: a job is input from whoever submits it, and its size
// and timeout are what it costs.
const (
	// MaxCandidates bounds the candidates of a job (before duplicates are
	// merged).
	MaxCandidates = 1000
	// MaxGeneratedTests bounds a task's generated tests, and those a job
	// asks the model for (Options.GenerateTests).
	MaxGeneratedTests = 100
	// MaxJobPatchBytes bounds the patches of a job together: every
	// candidate's and every generated test's.
	MaxJobPatchBytes = 64 << 20
	// MaxBaseRuns bounds Options.BaseRuns.
	MaxBaseRuns = 10
	// MaxAdversarialRounds bounds Options.AdversarialRounds.
	MaxAdversarialRounds = 10
	// MaxTimeout bounds the timeout of one run.
	MaxTimeout = 6 * time.Hour
)

// ErrInvalidJob marks errors that come from the job's content, not from
// running it: the caller should fix the input, not retry.
var ErrInvalidJob = errors.New("invalid job")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidJob, fmt.Sprintf(format, args...))
}

// Validate checks a job before anything runs.
func (j Job) Validate() error {
	_, err := j.validate()
	return err
}

// validate checks a job and returns its policy, parsed: on a job's way
// through Select (and NewPlan), the one check and the one parse; the plan
// carries the policy to scoring.
func (j Job) validate() (scoring.Policy, error) {
	var pol scoring.Policy
	err := j.check(&pol)
	return pol, err
}

// check checks a job, and sets *pol to its parsed policy.
func (j Job) check(pol *scoring.Policy) error {
	t := j.Task
	if t.Env.Image == "" && t.Env.Repo == "" {
		return invalid("task %q: environment needs \"image\" (a Docker image) or \"repo\" (a local checkout)", t.ID)
	}
	if t.TestCommand == "" {
		return invalid("task %q: \"test_command\" is empty: give the command that runs the tests, e.g. \"go test -json ./...\"", t.ID)
	}
	spec, err := t.Format.Spec()
	if err != nil {
		return invalid("task %q: %v", t.ID, err)
	}
	if spec.Internal {
		return invalid("task %q: test_format %q is bestpatch's own, not a test runner's: use one of %s", t.ID, t.Format, executor.FormatNames())
	}
	if spec.ReadsReport() && t.Report == "" {
		return invalid("task %q: test_format %q needs \"junit_report\", the report's path in the repository", t.ID, t.Format)
	}
	if t.Timeout < 0 {
		return invalid("task %q: timeout is negative", t.ID)
	}
	if p := t.PassToPass; p != nil {
		if len(p.Tests) == 0 {
			return invalid("task %q: pass_to_pass lists no test, so no original case would count: drop it, or list the tests", t.ID)
		}
		if err := p.LogParser.Validate(); err != nil {
			return invalid("task %q: pass_to_pass: %v", t.ID, err)
		}
	}
	seen := map[string]bool{OriginalArtifact: true}
	for i, g := range t.GeneratedTests {
		switch {
		case g.ID == "":
			return invalid("task %q: generated_tests[%d] has no \"id\"", t.ID, i)
		case seen[g.ID]:
			return invalid("task %q: generated test id %q is used twice (or is reserved)", t.ID, g.ID)
		case g.Patch == "":
			return invalid("task %q: generated test %q has an empty patch", t.ID, g.ID)
		}
		seen[g.ID] = true
	}
	switch o := j.Options; {
	case o.Execution != "" && !slices.Contains(ExecutionModes, o.Execution):
		return invalid("job %q: options.execution %q is not known: use %q (the default: run what can change the choice), %q (run every candidate) or %q (run nothing)", j.ID, o.Execution, ExecutionAdaptive, ExecutionAll, ExecutionNone)
	case o.executionFree() && (o.GenerateTests > 0 || o.AdversarialRounds > 0):
		return invalid("job %q: options.execution %q runs nothing, but generated and adversarial tests need runs: drop one or the other", j.ID, ExecutionNone)
	}
	p, err := scoring.ParsePolicy(j.Options.policy())
	if err != nil {
		return invalid("job %q: policy: %v (built-in policies: %s)", j.ID, err, strings.Join(scoring.PolicyNames(), ", "))
	}
	*pol = p
	if m := j.Options.MinConfidence; m < 0 || m > 1 {
		return invalid("job %q: min_confidence %v is outside [0, 1]: give a probability", j.ID, m)
	}
	if err := j.Options.ConfidenceModels.Validate(); err != nil {
		return invalid("job %q: confidence_models: %v", j.ID, err)
	}
	if r := j.Options.Stream; r != nil {
		if err := r.Validate(); err != nil {
			return invalid("job %q: options.stream: %v", j.ID, err)
		}
		if work := j.Options.ModelWork(); len(work) > 0 {
			return invalid("job %q: an open job (options.stream) takes no model work (%s): its tests and judge scores would have to be redone as candidates arrive; generate tests before opening it (generated_tests), or submit the candidates as one job", j.ID, strings.Join(work, ", "))
		}
	} else if len(j.Candidates) == 0 {
		return invalid("task %q: no candidates: give at least one predictions line with this instance_id", t.ID)
	}
	ids := map[string]bool{}
	for i, c := range j.Candidates {
		if c.ID == "" {
			return invalid("task %q: candidate %d has no id", t.ID, i)
		}
		if ids[c.ID] {
			return invalid("task %q: candidate id %q is used twice", t.ID, c.ID)
		}
		if c.Verifier != nil && (*c.Verifier < 0 || *c.Verifier > 1) {
			return invalid("task %q: candidate %q: verifier_score %v is outside [0, 1]", t.ID, c.ID, *c.Verifier)
		}
		if c.Prior != nil && (*c.Prior < 0 || *c.Prior > 1) {
			return invalid("task %q: candidate %q: prior %v is outside [0, 1]", t.ID, c.ID, *c.Prior)
		}
		ids[c.ID] = true
	}
	return j.checkLimits()
}

// checkLimits refuses a job beyond the job limits.
func (j Job) checkLimits() error {
	t, o := j.Task, j.Options
	if time.Duration(t.Timeout) > MaxTimeout {
		return invalid("task %q: timeout %s is over the limit of %s for one run: give the time one run of the tests needs", t.ID, time.Duration(t.Timeout), MaxTimeout)
	}
	if n := len(j.Candidates); n > MaxCandidates {
		return invalid("task %q: %d candidates, over the limit of %d for one job: drop duplicates or split them into several jobs", t.ID, n, MaxCandidates)
	}
	if n := len(t.GeneratedTests); n > MaxGeneratedTests {
		return invalid("task %q: %d generated tests, over the limit of %d for one job: keep the ones that tell candidates apart", t.ID, n, MaxGeneratedTests)
	}
	for _, c := range []struct {
		name     string
		n, limit int
	}{
		{"base_runs", o.BaseRuns, MaxBaseRuns},
		{"generate_tests", o.GenerateTests, MaxGeneratedTests},
		{"adversarial_rounds", o.AdversarialRounds, MaxAdversarialRounds},
	} {
		if c.n < 0 || c.n > c.limit {
			return invalid("job %q: options: %s %d is outside 0 to %d", j.ID, c.name, c.n, c.limit)
		}
	}
	total := 0
	for _, c := range j.Candidates {
		total += len(c.Patch)
	}
	for _, g := range t.GeneratedTests {
		total += len(g.Patch)
	}
	if total > MaxJobPatchBytes {
		return invalid("task %q: the patches of the job come to %s, over the limit of %s for one job: drop duplicates or split the candidates into several jobs", t.ID, byteSize(total), byteSize(MaxJobPatchBytes))
	}
	return nil
}

// byteSize is a size for people: 71.3 MiB.
func byteSize(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
