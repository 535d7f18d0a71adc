package executor

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/bestpatch/bestpatch/executor/outcome"
)

// JUnit is a JUnit XML report file that the test command writes.
const JUnit Format = "junit"

// junitFormat is a JUnit XML report file that the test command writes.
var junitFormat = FormatSpec{
	Name:      JUnit,
	Runner:    "any runner that writes a JUnit XML report (junit_report)",
	CaseID:    "classname::name",
	Doc:       "every <testcase> of the report file; the output is not read",
	TestFiles: []string{"*_test.go", "testdata/*", "*/testdata/*", "test_*.py", "*_test.py", "conftest.py", "tests/*", "*/tests/*", "src/test/*", "*/src/test/*"},
	testFunc:  regexp.MustCompile(goTestFunc.String() + "|" + pythonTestFunc.String()),
	owns:      junitOwns,
}

// junitOwns: a JUnit case's classname is a dotted Python module (and class)
// or a Go import path; its name is the test function (parameters cut).
func junitOwns(caseID string, src TestSource) bool {
	class, name, ok := strings.Cut(caseID, "::")
	if !ok {
		return false
	}
	top, _, _ := strings.Cut(name, "[")
	top, _, _ = strings.Cut(top, "/")
	if !slices.Contains(src.Funcs, top) {
		return false
	}
	dir := path.Dir(src.Path)
	return hasPart(class, pythonModule(src.Path), ".") || class == dir || strings.HasSuffix(class, "/"+dir)
}

// MaxReportSize caps how much of a JUnit report is read. The decoder
// streams, but one element's text (a huge <system-out>) is held whole.
const MaxReportSize = 64 << 20

// parseJUnit reads a JUnit XML report as a stream: every <testcase>, at any
// depth of <testsuites>/<testsuite>, is one case "classname::name" (just
// "name" without a classname). A case with a <failure> child is Fail, with
// an <error> child Error (pytest writes <error> when setup fails, so the case
// did not run; an error "on teardown" after the body ran is Fail), with a
// <skipped> child Skip (pytest's xfail, type "pytest.xfail", is Pass as in
// the pytest format), otherwise Pass. At most limit bytes are read; cases
// read before a syntax error or the limit are returned with the error.
func parseJUnit(r io.Reader, limit int64) ([]Case, error) {
	lr := &io.LimitedReader{R: r, N: limit + 1}
	d := xml.NewDecoder(lr)
	var cases caseSet
	var cur *Case // the open <testcase>, if any
	depth, caseDepth := 0, 0
	for {
		tok, err := d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			if lr.N <= 0 {
				return cases.cases, fmt.Errorf("JUnit report is larger than %s: read only its first part", formatBytes(limit))
			}
			return cases.cases, fmt.Errorf("JUnit report is not valid XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case t.Name.Local == "testcase" && cur == nil:
				cls, name := attr(t, "classname"), attr(t, "name")
				id := name
				if cls != "" {
					id = cls + "::" + name
				}
				cur, caseDepth = &Case{ID: id, Outcome: outcome.Pass}, depth
			case cur != nil && depth == caseDepth+1:
				cur.Outcome = mergeJUnitChild(cur.Outcome, t)
			}
		case xml.EndElement:
			if cur != nil && depth == caseDepth {
				cases.add(cur.ID, cur.Outcome)
				cur = nil
			}
			depth--
		}
	}
	return cases.cases, nil
}

// mergeJUnitChild folds one child element of a <testcase> into its outcome.
func mergeJUnitChild(o outcome.Outcome, child xml.StartElement) outcome.Outcome {
	var next outcome.Outcome
	switch child.Name.Local {
	case "failure":
		next = outcome.Fail
	case "error":
		next = outcome.Error
		if strings.HasPrefix(attr(child, "message"), "failed on teardown") {
			next = outcome.Fail
		}
	case "skipped":
		if attr(child, "type") == "pytest.xfail" {
			return o
		}
		next = outcome.Skip
	default:
		return o // system-out, properties, rerun records: not an outcome
	}
	if o == outcome.Pass || outcomeRank(next) > outcomeRank(o) {
		return next
	}
	return o
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}
