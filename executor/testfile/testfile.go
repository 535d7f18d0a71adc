// Package testfile says which repository paths are test files (Matcher) and
// matches the `*` patterns that name them and test cases (Glob). It is a
// leaf that imports only the standard library: the executor strips test
// files with it and scoring flags candidates that change them, and scoring
// must stay pure (it must not import the executor, which does I/O).
package testfile

import "strings"

// Matcher says which repository paths are test files. It is the one
// definition the executor and scoring share: the executor strips a
// candidate's changes to test files before the tests run, and scoring flags
// a candidate that changes them (only_tests, touches_tests) and leaves them
// out of the change that consensus compares.
//
// Paths are slash-separated and relative to the repository root. In a
// pattern, `*` matches any run of characters, `/` included, and every other
// character stands for itself; matching is case-sensitive. A pattern that
// holds a `/` matches the whole path: "tests/*" matches every file under the
// top-level tests directory, "*/tests/*" every file under a directory named
// tests below the root. A pattern without `/` matches the file's base name,
// as in .gitignore: "test_*.py" matches pkg/test_x.py but not
// test_project/settings.py, where `*` would otherwise cross the `/`.
//
// The zero value matches nothing. Defaults come from the test format
// (executor's format registry); a task's test_files replace them.
type Matcher struct {
	patterns []string
}

// NewMatcher returns the matcher of the given patterns.
func NewMatcher(patterns ...string) Matcher {
	return Matcher{patterns: append([]string(nil), patterns...)}
}

// Match reports whether path is a test file.
func (t Matcher) Match(path string) bool {
	base := path[strings.LastIndexByte(path, '/')+1:]
	for _, p := range t.patterns {
		if !strings.Contains(p, "/") {
			if Glob(p, base) {
				return true
			}
		} else if Glob(p, path) {
			return true
		}
	}
	return false
}

// Patterns returns a copy of the patterns.
func (t Matcher) Patterns() []string { return append([]string(nil), t.patterns...) }

// Glob matches s against a pattern in which `*` stands for any run of
// characters (including "/") and everything else is literal. Test-file
// patterns and case-ID patterns (a task's original_tests) both use it.
func Glob(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, last)
}
