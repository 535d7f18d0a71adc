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
	// Path is the file the patch adds.
	Path string `json:"path"`
	// Funcs are the Go test functions the file declares (Go only); Go cases
	// are attributed to the test by them.
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

// newTest checks a test file and builds the patch that adds it. An error
// wrapping errNotRunnable is worth a repair.
func newTest(id string, lang Language, f SourceFile, goPackage string) (Test, error) {
	t := Test{TestPatch: executor.TestPatch{ID: id}, Language: lang, Path: f.Path, Content: f.Content, Package: goPackage}
	if !strings.HasSuffix(t.Content, "\n") {
		t.Content += "\n"
	}
	switch lang {
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
			return Test{}, fmt.Errorf("%w: %s declares no pytest test (def test_...)", errNotRunnable, f.Path)
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

// Owns reports whether a case of a run belongs to this test: for Go, a case
// "importpath::TestName[/sub]" whose top-level test is one of Funcs in this
// file's package; for pytest, a node id in this file.
func (t Test) Owns(caseID string) bool {
	unit, name, ok := strings.Cut(caseID, "::")
	if !ok {
		return false
	}
	if t.Language == Python {
		return t.ownsFile(unit)
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

// Broken reports whether the run lists the test's unit (Go package, pytest
// file) among those that failed before any case ran.
func (t Test) Broken(res executor.Result) bool {
	for _, b := range res.Broken {
		// "pkg [pkg.test]" and "pkg.test" name the package's test binary.
		unit, _, _ := strings.Cut(b, " ")
		unit = strings.TrimSuffix(unit, ".test")
		if t.Language == Python {
			if t.ownsFile(unit) {
				return true
			}
		} else if t.ownsPackage(unit) {
			return true
		}
	}
	return false
}
