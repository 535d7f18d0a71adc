package selector

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/scoring"
)

// TestValidateLimits: a job beyond a limit is refused with an error that
// names the limit; a job at the limit is accepted.
func TestValidateLimits(t *testing.T) {
	cands := func(n int) []scoring.Candidate {
		out := make([]scoring.Candidate, n)
		for i := range out {
			out[i] = scoring.Candidate{ID: fmt.Sprint(i), Patch: fixPatch}
		}
		return out
	}
	tests := func(n int) []GeneratedTest {
		out := make([]GeneratedTest, n)
		for i := range out {
			out[i] = GeneratedTest{ID: fmt.Sprint("g", i), Patch: testPatch(fmt.Sprintf("g%d_test.go", i), "TestG")}
		}
		return out
	}
	half := strings.Repeat("x", MaxJobPatchBytes/2)
	for _, tc := range []struct {
		name string
		edit func(*Job)
		want string // empty: accepted
	}{
		{"timeout at the limit", func(j *Job) { j.Task.Timeout = Duration(MaxTimeout) }, ""},
		{"timeout over the limit", func(j *Job) { j.Task.Timeout = Duration(999999 * time.Hour) }, "timeout 999999h0m0s is over the limit of 6h0m0s"},
		{"candidates at the limit", func(j *Job) { j.Candidates = cands(MaxCandidates) }, ""},
		{"candidates over the limit", func(j *Job) { j.Candidates = cands(MaxCandidates + 1) }, "1001 candidates, over the limit of 1000"},
		{"generated tests at the limit", func(j *Job) { j.Task.GeneratedTests = tests(MaxGeneratedTests) }, ""},
		{"generated tests over the limit", func(j *Job) { j.Task.GeneratedTests = tests(MaxGeneratedTests + 1) }, "101 generated tests, over the limit of 100"},
		{"tests asked for over the limit", func(j *Job) { j.Options.GenerateTests = MaxGeneratedTests + 1 }, "generate_tests 101 is outside 0 to 100"},
		{"base runs over the limit", func(j *Job) { j.Options.BaseRuns = 1e6 }, "base_runs 1000000 is outside 0 to 10"},
		{"negative base runs", func(j *Job) { j.Options.BaseRuns = -1 }, "base_runs -1 is outside"},
		{"adversarial rounds over the limit", func(j *Job) { j.Options.AdversarialRounds = 11 }, "adversarial_rounds 11 is outside 0 to 10"},
		{"prior outside [0, 1]", func(j *Job) { p := 1.5; j.Candidates[0].Prior = &p }, `candidate "a": prior 1.5 is outside [0, 1]`},
		{"a confidence model of no scope", func(j *Job) { j.Options.ConfidenceModels = scoring.ConfidenceModels{{Scope: "vibes"}} }, `confidence_models: confidence model: scope "vibes"`},
		{"two confidence models of one scope", func(j *Job) {
			j.Options.ConfidenceModels = scoring.ConfidenceModels{{Scope: scoring.ScopeTests}, {Scope: scoring.ScopeTests}}
		}, "two confidence models of scope tests"},
		{"a confidence model", func(j *Job) { j.Options.ConfidenceModels = scoring.ConfidenceModels{{Scope: scoring.ScopeTests}} }, ""},
		{"patches at the limit", func(j *Job) {
			j.Candidates = []scoring.Candidate{{ID: "a", Patch: half}, {ID: "b", Patch: half}}
		}, ""},
		{"patches over the limit", func(j *Job) {
			j.Candidates = []scoring.Candidate{{ID: "a", Patch: half}, {ID: "b", Patch: half}}
			j.Task.GeneratedTests = []GeneratedTest{{ID: "g", Patch: "x"}}
		}, "the patches of the job come to 64.0 MiB, over the limit of 64.0 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := Job{ID: "j", Task: Task{ID: "t", Env: executor.Environment{Repo: "/r"}, TestCommand: "go test -json ./...", Format: "go-json"}}
			job.Candidates = []scoring.Candidate{{ID: "a", Patch: fixPatch}}
			tc.edit(&job)
			err := job.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want accepted", err)
			case tc.want != "" && (!errors.Is(err, ErrInvalidJob) || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate() = %v, want ErrInvalidJob saying %q", err, tc.want)
			}
		})
	}
}

// TestTimeoutFromJSON: the probe's task, with "timeout": "999999h", is
// refused when planned (select, batch and the daemon all plan).
func TestTimeoutFromJSON(t *testing.T) {
	var job Job
	data := `{"task":{"instance_id":"t","environment":{"repo":"/r"},"test_command":"go test -json ./...","test_format":"go-json","timeout":"999999h"},
	          "candidates":[{"id":"a","patch":""}]}`
	if err := json.Unmarshal([]byte(data), &job); err != nil {
		t.Fatal(err)
	}
	if _, err := NewPlan(job); !errors.Is(err, ErrInvalidJob) || !strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("NewPlan: %v, want the timeout refused", err)
	}
}
