package executor

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/bestpatch/bestpatch/executor/testfile"
)

// Format names a test-output format that the executor can parse: one of the
// registered FormatSpecs (see formats.go).
type Format string

// FormatSpec is everything bestpatch knows about one test-output format: how
// to read the test command's output, which files are its test files, how its
// runner names a test file, and how a case ID maps back to the file and test
// function that declared it. Each format is one file holding its spec and
// its parser, and one line in the registry (formats.go); no other code
// switches on format names.
type FormatSpec struct {
	// Name is the test_format value that selects the format.
	Name Format
	// Language is the language the generator writes tests in for this
	// format ("go", "python"), or "" when the format does not say (junit).
	Language string
	// Runner is the test command the format reads, for documentation.
	Runner string
	// CaseID describes the shape of a case ID, for documentation.
	CaseID string
	// Doc says what the format reads, briefly.
	Doc string
	// Internal formats serve bestpatch's own runs (listing): never a task's
	// test_format, and left out of the names an error suggests.
	Internal bool
	// TestFiles are the default test-file patterns (testfile.Matcher
	// syntax: `*` crosses `/`); a task's test_files replace them.
	TestFiles []string
	// TestStyle tells a test writer (package generator) how this format's
	// runner wants a test file written and where it must go, when that
	// differs from the language's usual style (pytest for Python): one rule
	// a line, each starting with "- ". Empty: the language's style.
	TestStyle string

	// newParser returns the incremental stdout parser; nil means the
	// results come from a report file the test command writes (junit).
	newParser func() outputParser
	// testFunc finds the test function an added source line declares; its
	// first non-empty group is the function's name.
	testFunc *regexp.Regexp
	// owns reports whether a case ID comes from a test file a generated
	// test adds (see TestSource).
	owns func(caseID string, src TestSource) bool
	// directive turns a test file's repository path into the argument the
	// runner takes to run just that file; nil when the runner has no such
	// argument.
	directive func(file string) (string, error)
	// caseDirective is the runner's argument that runs a case's file or
	// module, read from the case ID; ok is false when the ID does not say.
	caseDirective func(caseID string) (arg string, ok bool)
}

// Spec returns the format's spec, or an error listing the registered
// formats when the name is not one of them.
func (f Format) Spec() (*FormatSpec, error) {
	for _, s := range registry {
		if s.Name == f {
			return s, nil
		}
	}
	if f == "" {
		return nil, fmt.Errorf("no test_format given: set it to one of %s", FormatNames())
	}
	return nil, fmt.Errorf("test_format %q is not known: use one of %s", f, FormatNames())
}

// Formats returns the registered formats' specs, in registration order.
func Formats() []*FormatSpec { return slices.Clone(registry) }

// FormatNames lists the names a task's test_format may take, quoted and
// comma-separated, for error messages.
func FormatNames() string {
	var names []string
	for _, s := range registry {
		if !s.Internal {
			names = append(names, fmt.Sprintf("%q", s.Name))
		}
	}
	return strings.Join(names, ", ")
}

// ReadsReport reports whether the format's results come from a report file
// the test command writes (Run.Report) rather than from its output.
func (s *FormatSpec) ReadsReport() bool { return s.newParser == nil }

// TestFileMatcher is the matcher of the format's default test files.
func (s *FormatSpec) TestFileMatcher() testfile.Matcher {
	return testfile.NewMatcher(s.TestFiles...)
}

// Directive turns a test file's repository path into the argument the
// format's runner takes to run that file alone: the path for pytest and
// sympy's bin/test, a dotted module label for Django's runtests.py
// (tests/app/test_x.py -> app.test_x), the package for go test.
func (s *FormatSpec) Directive(file string) (string, error) {
	if s.directive == nil {
		return "", fmt.Errorf("format %q does not say how its runner names a test file: give the test command its arguments yourself", s.Name)
	}
	return s.directive(file)
}

// NamesTestFiles reports whether the format's runner can be told to run a
// test file alone (Directive).
func (s *FormatSpec) NamesTestFiles() bool { return s.directive != nil }

// CaseDirective returns the argument the format's runner takes to run the
// file or module a case ID comes from, as the SWE-bench harness derives test
// directives: the file of a pytest node id ("tests/test_x.py::T::f[a]" ->
// tests/test_x.py) or of a sympy "file::test_x", the module label of a
// Django description ("test_x (app.tests.Class)" -> app.tests). ok is false
// when the ID does not name one: a Django docstring title, sympy's bare
// test names as SWE-bench writes them.
func (s *FormatSpec) CaseDirective(caseID string) (arg string, ok bool) {
	if s.caseDirective == nil {
		return "", false
	}
	return s.caseDirective(caseID)
}

// TestSource is a test file that a generated test adds: its repository path
// and the test functions it declares.
type TestSource struct {
	Path  string
	Funcs []string
}

// DeclaredFunc returns the test function an added source line declares
// ("func TestX(" for Go, "def test_x(" for Python), if any.
func (s *FormatSpec) DeclaredFunc(line string) (string, bool) {
	if s.testFunc == nil {
		return "", false
	}
	m := s.testFunc.FindStringSubmatch(line)
	for _, g := range m[min(1, len(m)):] {
		if g != "" {
			return g, true
		}
	}
	return "", false
}

// Owns reports whether a case of this format's output comes from src, a
// test file that a generated test adds. It is how cases are attributed to
// generated test artifacts.
func (s *FormatSpec) Owns(caseID string, src TestSource) bool {
	if s.owns == nil {
		return false
	}
	return s.owns(caseID, src)
}

// Test-function declarations on a source line, per language.
var (
	goTestFunc     = regexp.MustCompile(`^\s*func\s+((?:Test|Fuzz|Example)\w*)\s*\(`)
	pythonTestFunc = regexp.MustCompile(`^\s*(?:async\s+)?def\s+(test\w*)\s*\(`)
)

// nodeFile is the file of a "file::name" case ID (pytest node ids, sympy):
// a relative path ending in .py, with no spaces.
func nodeFile(caseID string) (string, bool) {
	file, _, ok := strings.Cut(caseID, "::")
	if !ok || !strings.HasSuffix(file, ".py") || strings.ContainsAny(file, " \t") {
		return "", false
	}
	c, err := cleanFile(file)
	return c, err == nil
}

// pythonModule is a Python file's dotted module path: a/b/c.py -> a.b.c.
func pythonModule(file string) string {
	return strings.ReplaceAll(strings.TrimSuffix(file, ".py"), "/", ".")
}

// hasPart reports whether part is whole components of name, components
// being separated by sep: hasPart("a.b.c", "b.c", ".") is true,
// hasPart("a.bb", "b", ".") is not.
func hasPart(name, part, sep string) bool {
	if part == "" {
		return false
	}
	return strings.Contains(sep+name+sep, sep+part+sep)
}

// cleanFile checks a test file path given to Directive: relative, inside
// the repository.
func cleanFile(file string) (string, error) {
	c := path.Clean(file)
	if file == "" || path.IsAbs(c) || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("test file %q is not a path inside the repository", file)
	}
	return c, nil
}
