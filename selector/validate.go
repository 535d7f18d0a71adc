package selector

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bestpatch/bestpatch/executor"

	"github.com/bestpatch/bestpatch/scoring"
)

// ErrInvalidJob marks errors that come from the job's content, not from
// running it: the caller should fix the input, not retry.
var ErrInvalidJob = errors.New("invalid job")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidJob, fmt.Sprintf(format, args...))
}

// Validate checks a job before anything runs.
func (j Job) Validate() error {
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
	if _, err := scoring.ParsePolicy(j.Options.policy()); err != nil {
		return invalid("job %q: policy: %v (built-in policies: %s)", j.ID, err, strings.Join(scoring.PolicyNames(), ", "))
	}
	if len(j.Candidates) == 0 {
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
		ids[c.ID] = true
	}
	return nil
}
