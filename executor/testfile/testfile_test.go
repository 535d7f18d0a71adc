package testfile

import "testing"

// pythonTests are the test-file patterns of the pytest format (executor's
// registry holds the real defaults; this leaf cannot import it).
var pythonTests = NewMatcher("test_*.py", "*_test.py", "conftest.py", "tests/*", "*/tests/*")

func TestMatcherMatch(t *testing.T) {
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
		if got := NewMatcher(tc.patterns...).Match(tc.path); got != tc.want {
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
