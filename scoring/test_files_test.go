package scoring

import (
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor/testfile"
)

// pythonTests are the test-file patterns of the pytest format (executor's
// registry holds the real defaults; scoring cannot import it).
var pythonTests = testfile.NewMatcher("test_*.py", "*_test.py", "conftest.py", "tests/*", "*/tests/*")

// TestTestFilesFlags: only_tests and touches_tests follow the matcher given
// in Input, renames count from either side, and a zero matcher flags
// nothing.
func TestTestFilesFlags(t *testing.T) {
	fix := "--- a/pkg/mod.py\n+++ b/pkg/mod.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
	test := "--- a/tests/test_mod.py\n+++ b/tests/test_mod.py\n@@ -1 +1 @@\n-assert x == 1\n+assert x == 2\n"
	renamed := "diff --git a/tests/data.py b/pkg/data.py\nsimilarity index 100%\nrename from tests/data.py\nrename to pkg/data.py\n"
	for _, tc := range []struct {
		name  string
		patch string
		tests testfile.Matcher
		flag  string // want this flag; "" wants neither
	}{
		{"fix only", fix, pythonTests, ""},
		{"fix and test", fix + test, pythonTests, FlagTouchesTests},
		{"test only", test, pythonTests, FlagOnlyTests},
		{"rename out of tests", renamed, pythonTests, FlagOnlyTests},
		{"test only, zero matcher", test, testfile.Matcher{}, ""},
		{"fix and test, other matcher", fix + test, testfile.NewMatcher("*_test.go"), ""},
	} {
		a, err := Assess(Input{Candidates: []Candidate{{ID: "c", Patch: tc.patch}}, TestFiles: tc.tests})
		if err != nil {
			t.Fatal(err)
		}
		s, _ := a.Signals("c")
		only, touches := hasFlag(s.Flags, FlagOnlyTests), hasFlag(s.Flags, FlagTouchesTests)
		switch {
		case tc.flag == "" && (only || touches),
			tc.flag == FlagOnlyTests && (!only || touches),
			tc.flag == FlagTouchesTests && (only || !touches):
			t.Errorf("%s: flags %v, want %q", tc.name, s.Flags, tc.flag)
		}
		if tc.flag == FlagOnlyTests && !strings.Contains(a.outWhy["c"], "test files") {
			t.Errorf("%s: out because %q", tc.name, a.outWhy["c"])
		}
	}
}
