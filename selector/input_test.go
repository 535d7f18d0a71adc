package selector

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/scoring"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadTasksRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		// want holds substrings of the error: the file, line and field.
		want []string
	}{
		{"wrong type", `{"instance_id": "x", "timeout": true}`, []string{"task.json:1", `field "timeout"`, "want a duration"}},
		{"wrong type deep", "{\n  \"instance_id\": \"x\",\n  \"environment\": {\"repo\": 7}\n}", []string{"task.json:3", `"environment.repo"`, "number"}},
		{"unknown field", `{"instance_id": "x", "test_comand": "go test"}`, []string{`field "test_comand"`, "unknown field"}},
		{"not json", "{\n\"instance_id\": \"x\",,\n}", []string{"task.json:2", "not valid JSON"}},
		{"missing id", `{"test_command": "go test"}`, []string{`field "instance_id"`, "missing"}},
		{"both patch and file", `{"instance_id": "x", "generated_tests": [{"id": "g", "patch": "p", "patch_file": "f"}]}`, []string{`generated_tests[0]`, "not both"}},
		{"missing patch file", `{"instance_id": "x", "generated_tests": [{"id": "g", "patch_file": "nope.diff"}]}`, []string{`generated_tests[0].patch_file`, "no such file"}},
		{"jsonl bad second line", "{\"instance_id\": \"a\"}\n{\"instance_id\": 5}\n", []string{"task.json:2", `field "instance_id"`}},
		{"empty", "  \n", []string{"no task in the file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "task.json", tc.body)
			_, err := LoadTasks(p)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoadTasksResolvesPaths(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "g.diff", "diff --git a/x_test.go b/x_test.go\n")
	p := writeFile(t, dir, "task.json", `{"instance_id": "x", "environment": {"repo": "repo"}, "timeout": "90s",
		"generated_tests": [{"id": "g", "patch_file": "g.diff"}]}`)
	tasks, err := LoadTasks(p)
	if err != nil {
		t.Fatal(err)
	}
	got := tasks[0]
	if got.Env.Repo != filepath.Join(dir, "repo") {
		t.Errorf("repo = %q, want it resolved against the task file", got.Env.Repo)
	}
	if got.GeneratedTests[0].Patch != "diff --git a/x_test.go b/x_test.go\n" {
		t.Errorf("patch_file not read: %+v", got.GeneratedTests)
	}
	if time.Duration(got.Timeout) != 90*time.Second {
		t.Errorf("timeout = %v", got.Timeout)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Job)
		want string
	}{
		{"no environment", func(j *Job) { j.Task.Env.Repo = "" }, `"image"`},
		{"no command", func(j *Job) { j.Task.TestCommand = "" }, "test_command"},
		{"bad format", func(j *Job) { j.Task.Format = "tap" }, `"tap" is not known`},
		{"internal format", func(j *Job) { j.Task.Format = executor.Listing }, `"listing" is bestpatch's own`},
		{"junit without report", func(j *Job) { j.Task.Format = "junit" }, "junit_report"},
		{"no candidates", func(j *Job) { j.Candidates = nil }, "no candidates"},
		{"duplicate candidate", func(j *Job) { j.Candidates = append(j.Candidates, j.Candidates[0]) }, "used twice"},
		{"reserved test id", func(j *Job) { j.Task.GeneratedTests = []GeneratedTest{{ID: "original", Patch: "p"}} }, "reserved"},
		{"unknown policy", func(j *Job) { j.Options.Policy = "magic" }, "policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := Job{ID: "j", Task: Task{ID: "t", Env: executor.Environment{Repo: "/r"}, TestCommand: "go test -json ./...", Format: "go-json"}}
			job.Candidates = []scoring.Candidate{{ID: "a", Patch: fixPatch}}
			tc.edit(&job)
			err := job.Validate()
			if !errors.Is(err, ErrInvalidJob) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want ErrInvalidJob mentioning %q", err, tc.want)
			}
		})
	}
}
