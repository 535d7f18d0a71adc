package scoring

import (
	"strings"
	"testing"
)

// pythonTests are the test-file patterns of the pytest format (executor's
// registry holds the real defaults; scoring cannot import it).
var pythonTests = NewTestFiles("test_*.py", "*_test.py", "conftest.py", "tests/*", "*/tests/*")

func TestTestFilesMatch(t *testing.T) {
	for _, tc := range []struct {
		name     string
		patterns []string
		path     string
		want     bool
	}{
		{"top-level tests dir", []string{"tests/*"}, "tests/unit/helpers.py", true},
		{"tests dir at any depth", []string{"*/tests/*"}, "sympy/core/tests/test_x.py", true},
		{"star crosses slashes", []string{"*_test.go"}, "a/b/c/foo_test.go", true},
		{"base-name pattern at depth", []string{"test_*.py"}, "pkg/test_utils.py", true},
		{"base-name pattern: the star stays in the base name", []string{"test_*.py"}, "test_project/core/admin.py", false},
		{"path pattern: the star crosses slashes", []string{"*/test_*.py"}, "pkg/test_dir/admin.py", true},
		{"path pattern anchored at the root", []string{"tests/*"}, "pkg/tests/x.py", false},
		{"whole path is matched", []string{"tests/*"}, "src/tests_helper.py", false},
		{"case-sensitive", []string{"tests/*"}, "Tests/x.py", false},
		{"literal question mark", []string{"a?.py"}, "ab.py", false},
		{"no star: exact base name", []string{"conftest.py"}, "pkg/conftest.py", true},
		{"no star: exact path", []string{"pkg/conftest.py"}, "conftest.py", false},
		{"no star: not a suffix of the base name", []string{"conftest.py"}, "pkg/myconftest.py", false},
		{"no patterns", nil, "tests/x.py", false},
		// Python defaults, on SWE-bench paths that are not test files.
		{"django's test utilities", pythonTests.Patterns(), "django/test/utils.py", false},
		{"sphinx's testing helpers", pythonTests.Patterns(), "sphinx/testing/util.py", false},
		{"astropy's testing module", pythonTests.Patterns(), "astropy/modeling/testing.py", false},
		{"a module named like a test", pythonTests.Patterns(), "pkg/testimony.py", false},
		{"latest is not _test", pythonTests.Patterns(), "src/latest.py", false},
		{"a project named test_*", pythonTests.Patterns(), "test_project/core/admin.py", false},
		{"django's test suite", pythonTests.Patterns(), "tests/admin_views/tests.py", true},
		{"conftest", pythonTests.Patterns(), "src/conftest.py", true},
	} {
		if got := NewTestFiles(tc.patterns...).Match(tc.path); got != tc.want {
			t.Errorf("%s: %q matching %q = %v, want %v", tc.name, tc.patterns, tc.path, got, tc.want)
		}
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pat, s string
		want   bool
	}{
		{"p::TestA", "p::TestA", true},
		{"p::TestA", "p::TestAB", false},
		{"p::Test*", "p::TestAB/sub", true},
		{"*::TestA", "x/y::TestA", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXcYb", false},
		{"a*a", "a", false},
		{"*x*y", "xyxy", true},
		{"*", "", true},
	} {
		if got := Glob(tc.pat, tc.s); got != tc.want {
			t.Errorf("Glob(%q, %q) = %v", tc.pat, tc.s, got)
		}
	}
}

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
		tests TestFiles
		flag  string // want this flag; "" wants neither
	}{
		{"fix only", fix, pythonTests, ""},
		{"fix and test", fix + test, pythonTests, FlagTouchesTests},
		{"test only", test, pythonTests, FlagOnlyTests},
		{"rename out of tests", renamed, pythonTests, FlagOnlyTests},
		{"test only, zero matcher", test, TestFiles{}, ""},
		{"fix and test, other matcher", fix + test, NewTestFiles("*_test.go"), ""},
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
