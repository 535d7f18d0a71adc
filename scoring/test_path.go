package scoring

import (
	"path"
	"strings"
)

// IsTestPath reports whether a repository path looks like a test file: a
// file under a test directory, or named as Go, pytest, JavaScript and Java
// tests are. The executor restores such files before running, and a
// candidate that edits them is flagged (test tampering).
func IsTestPath(p string) bool {
	p = strings.ToLower(p)
	for _, dir := range strings.Split(path.Dir(p), "/") {
		switch dir {
		case "test", "tests", "testing", "testdata", "__tests__", "spec":
			return true
		}
	}
	base := path.Base(p)
	switch {
	case strings.HasSuffix(base, "_test.go"),
		strings.HasPrefix(base, "test_") && strings.HasSuffix(base, ".py"),
		strings.HasSuffix(base, "_test.py"),
		base == "conftest.py",
		strings.Contains(base, ".test."), strings.Contains(base, ".spec."),
		strings.HasSuffix(base, "test.java"), strings.HasSuffix(base, "tests.java"):
		return true
	}
	return false
}
