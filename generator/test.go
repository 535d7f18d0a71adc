package generator

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bluekeyes/go-gitdiff/gitdiff"

	"github.com/bestpatch/bestpatch/executor"
)

// Test is one generated test file, ready to run: its TestPatch adds the
// file to the repository, and it knows which cases of a run are its own.
type Test struct {
	executor.TestPatch
	Language Language `json:"language"`
	// Format is the test-output format of the runs the test is read in:
	// Python cases are attributed to the test the way it maps a case ID to
	// a file and function (FormatSpec.Owns). Empty: pytest.
	Format executor.Format `json:"format,omitempty"`
	// Path is the file the patch adds.
	Path string `json:"path"`
	// Funcs are the test functions the file declares (Go's TestXxx,
	// Python's test_...); Go cases and Django's are attributed by them.
	Funcs []string `json:"funcs,omitempty"`
	// Package is the Go import path of the file's directory when known (the
	// repository's go.mod was read); otherwise cases are matched by the
	// directory's suffix of the import path.
	Package string `json:"package,omitempty"`
	// Content is the file's text.
	Content string `json:"content"`
}

// errNotRunnable marks a test file that cannot run as written (a Go syntax
// error, no test function): like a compile error, the model may repair it.
var errNotRunnable = errors.New("the test file cannot run")

// newTest checks a test file written for the context's language and
// format, and builds the patch that adds it. An error wrapping
// errNotRunnable is worth a repair.
func newTest(id string, c Context, f SourceFile) (Test, error) {
	t := Test{TestPatch: executor.TestPatch{ID: id}, Language: c.Language, Format: c.Format, Path: f.Path, Content: f.Content, Package: c.goPackage(path.Dir(f.Path))}
	if !strings.HasSuffix(t.Content, "\n") {
		t.Content += "\n"
	}
	switch t.Language {
	case Go:
		funcs, err := goTestFuncs(f.Path, t.Content)
		if err != nil {
			return Test{}, fmt.Errorf("%w: %w", errNotRunnable, err)
		}
		if len(funcs) == 0 {
			return Test{}, fmt.Errorf("%w: %s declares no test function (func TestXxx(t *testing.T))", errNotRunnable, f.Path)
		}
		t.Funcs = funcs
	case Python:
		if !pyTestDef.MatchString(t.Content) {
			return Test{}, fmt.Errorf("%w: %s declares no test (def test_...)", errNotRunnable, f.Path)
		}
		spec, err := t.pythonFormat()
		if err != nil {
			return Test{}, err
		}
		for _, line := range strings.Split(t.Content, "\n") {
			if fn, ok := spec.DeclaredFunc(line); ok {
				t.Funcs = append(t.Funcs, fn)
			}
		}
	}
	t.Patch = newFilePatch(t.Path, t.Content)
	return t, nil
}

var pyTestDef = regexp.MustCompile(`(?m)^\s*(?:async\s+)?def\s+test|^class\s+Test`)

// newFilePatch is the git diff that creates path with content (which ends
// in a newline).
func newFilePatch(p, content string) string {
	lines := strings.SplitAfter(content, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	frag := &gitdiff.TextFragment{NewPosition: 1, NewLines: int64(len(lines)), LinesAdded: int64(len(lines))}
	for _, l := range lines {
		frag.Lines = append(frag.Lines, gitdiff.Line{Op: gitdiff.OpAdd, Line: l})
	}
	f := &gitdiff.File{NewName: p, IsNew: true, NewMode: 0o100644, TextFragments: []*gitdiff.TextFragment{frag}}
	return f.String()
}

// goTestFuncs parses a Go test file and returns the test functions go test
// runs: top-level TestXxx with one parameter, Xxx not starting lower-case.
func goTestFuncs(filename, src string) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), filename, src, parser.SkipObjectResolution|parser.AllErrors)
	if list, ok := err.(scanner.ErrorList); ok {
		// Every syntax error, not the first alone, for the repair.
		list.RemoveMultiples()
		msgs := make([]string, 0, len(list))
		for _, e := range list[:min(len(list), 10)] {
			msgs = append(msgs, e.Error())
		}
		return nil, errors.New("syntax errors:\n" + strings.Join(msgs, "\n"))
	}
	if err != nil {
		return nil, err
	}
	var funcs []string
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv != nil || !isTestName(fd.Name.Name) || fd.Type.Params.NumFields() != 1 {
			continue
		}
		funcs = append(funcs, fd.Name.Name)
	}
	return funcs, nil
}

func isTestName(name string) bool {
	rest, ok := strings.CutPrefix(name, "Test")
	if !ok {
		return false
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return rest == "" || !unicode.IsLower(r)
}

// pythonFormat is the spec of a Python test's format: pytest unless the
// test says otherwise.
func (t Test) pythonFormat() (*executor.FormatSpec, error) {
	f := t.Format
	if f == "" {
		f = executor.Pytest
	}
	spec, err := f.Spec()
	if err != nil {
		return nil, fmt.Errorf("generated test %s: %w", t.ID, err)
	}
	return spec, nil
}

// Owns reports whether a case of a run belongs to this test: for Go, a case
// "importpath::TestName[/sub]" whose top-level test is one of Funcs in this
// file's package; for Python, what the test's format says (a pytest or
// sympy node id in this file, a Django test of one of Funcs in this file's
// module).
func (t Test) Owns(caseID string) bool {
	if t.Language == Python {
		spec, err := t.pythonFormat()
		return err == nil && spec.Owns(caseID, executor.TestSource{Path: t.Path, Funcs: t.Funcs})
	}
	unit, name, ok := strings.Cut(caseID, "::")
	if !ok {
		return false
	}
	top, _, _ := strings.Cut(name, "/")
	for _, f := range t.Funcs {
		if f == top {
			return t.ownsPackage(unit)
		}
	}
	return false
}

// ownsPackage matches a Go import path against the file's directory.
func (t Test) ownsPackage(importPath string) bool {
	if t.Package != "" {
		return importPath == t.Package
	}
	dir := path.Dir(t.Path)
	return dir == "." || importPath == dir || strings.HasSuffix(importPath, "/"+dir)
}

// ownsFile matches a pytest file path, which is relative to pytest's rootdir
// (the repository or a directory below it).
func (t Test) ownsFile(p string) bool {
	return p == t.Path || strings.HasSuffix(t.Path, "/"+p)
}

// Cases returns the test's cases in a run.
func (t Test) Cases(res executor.Result) []executor.Case {
	var out []executor.Case
	for _, c := range res.Cases {
		if t.Owns(c.ID) {
			out = append(out, c)
		}
	}
	return out
}

// Broken reports whether the run lists the test's unit (Go package; Python
// file, or the runner's name for it: Django's module label) among those
// that failed before any case ran.
func (t Test) Broken(res executor.Result) bool {
	label := ""
	if t.Language == Python {
		if spec, err := t.pythonFormat(); err == nil {
			label, _ = spec.Directive(t.Path)
		}
	}
	for _, b := range res.Broken {
		// "pkg [pkg.test]" and "pkg.test" name the package's test binary.
		unit, _, _ := strings.Cut(b, " ")
		unit = strings.TrimSuffix(unit, ".test")
		if t.Language == Python {
			if t.ownsFile(unit) || label != "" && unit == label {
				return true
			}
		} else if t.ownsPackage(unit) {
			return true
		}
	}
	return false
}
