package selector

import (
	"slices"
	"testing"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/testfile"
	"github.com/bestpatch/bestpatch/scoring"
)

// editPatch changes one line of a file.
func editPatch(file string) string {
	return "diff --git a/" + file + " b/" + file + "\n--- a/" + file + "\n+++ b/" + file + "\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
}

// TestOneDefinitionOfTestFiles: the test files the executor strips (the
// patterns of every run of the task) and the ones scoring flags are the same
// matcher, from the task's format or its test_files. Before it, scoring
// called django/test/utils.py, sphinx/testing/util.py and pytest's
// testing/python/fixtures.py test files (and dropped a resolved candidate of
// pytest-dev__pytest-7490 as only tests) while the executor ran them.
func TestOneDefinitionOfTestFiles(t *testing.T) {
	for _, tc := range []struct {
		name      string
		format    executor.Format
		testFiles []string
		path      string
		want      bool
	}{
		{"django's test utilities are code", executor.Pytest, nil, "django/test/utils.py", false},
		{"sphinx's testing helpers are code", executor.Pytest, nil, "sphinx/testing/util.py", false},
		{"pytest-7490's resolved candidate", executor.Pytest, nil, "testing/python/fixtures.py", false},
		{"a test module", executor.Pytest, nil, "sympy/core/tests/test_basic.py", true},
		{"a conftest", executor.Pytest, nil, "src/conftest.py", true},
		{"a Go test", executor.GoJSON, nil, "pkg/x_test.go", true},
		{"Go testdata", executor.GoJSON, nil, "pkg/testdata/in.txt", true},
		{"a Python test under go-json", executor.GoJSON, nil, "tests/test_x.py", false},
		{"task test_files replace the defaults", executor.Pytest, []string{"testing/*"}, "testing/python/fixtures.py", true},
		{"task test_files replace, not extend", executor.Pytest, []string{"testing/*"}, "tests/test_x.py", false},
	} {
		task := Task{ID: "t", Env: executor.Environment{Repo: "/r"}, TestCommand: "true", Format: tc.format, TestFiles: tc.testFiles}
		job := Job{ID: "j", Task: task, Candidates: []scoring.Candidate{
			{ID: "fix", Patch: editPatch("pkg/fix.py")},
			{ID: "edit", Patch: editPatch(tc.path)},
		}}
		if got := task.TestFileMatcher().Match(tc.path); got != tc.want {
			t.Errorf("%s: TestFileMatcher().Match(%q) = %v, want %v", tc.name, tc.path, got, tc.want)
		}
		// The executor strips what the run's patterns match.
		run := task.run(editPatch(tc.path), nil)
		if got := testfile.NewMatcher(run.TestFiles...).Match(tc.path); got != tc.want {
			t.Errorf("%s: the run's test files %q match %q: %v, want %v", tc.name, run.TestFiles, tc.path, got, tc.want)
		}
		// Scoring flags what the same matcher matches.
		pol, err := scoring.ParsePolicy(job.Options.policy())
		if err != nil {
			t.Fatal(err)
		}
		v, err := scoreMatrix(job, pol, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range v.Ranking {
			if r.ID != "edit" {
				continue
			}
			if got := slices.Contains(r.Signals.Flags, scoring.FlagOnlyTests); got != tc.want {
				t.Errorf("%s: flags %v, only_tests %v, want %v", tc.name, r.Signals.Flags, got, tc.want)
			}
		}
	}
}
