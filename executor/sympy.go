package executor

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/bestpatch/bestpatch/executor/outcome"
)

// Sympy is the verbose output of sympy's own test runner.
const Sympy Format = "sympy"

// sympyFormat is sympy's test runner (bin/test --verbose, which calls
// sympy.testing.runtests; SWE-bench runs bin/test -C --verbose FILES).
var sympyFormat = FormatSpec{
	Name:      Sympy,
	Language:  "python",
	Runner:    "bin/test -C --verbose (sympy.testing.runtests)",
	CaseID:    `file::test_name ("sympy/core/tests/test_basic.py::test_equality"); SWE-bench writes the bare test_name`,
	Doc:       "the per-test lines of bin/test --verbose under each file header, checked against the runner's \"tests finished\" counts; a file that fails to import is a broken unit",
	TestFiles: []string{"test_*.py", "conftest.py", "*/tests/*"},
	TestStyle: `- Use sympy's test runner: plain test_... functions with assert statements (no classes, no pytest fixtures); raises from sympy.testing.pytest for expected exceptions.
- Put the file in the tests directory of the package it tests (sympy/<package>/tests/) and name it test_<something>.py; it must be a new file, not one that exists.
- Import the code under test the way the existing tests do.
`,
	newParser:     func() outputParser { return newSympyParser() },
	testFunc:      pythonTestFunc,
	owns:          pytestOwns, // "file::name", as a pytest node id
	directive:     cleanFile,
	caseDirective: nodeFile,
}

// sympyParser reads bin/test --verbose:
//
//	sympy/core/tests/test_basic.py[22]
//	test_structure ok
//	test_equality F
//	test_printing hello from the test
//	ok
//	test_last E                                                   [FAIL]
//	sympy/core/tests/test_broken.py[?]   Failed to import          [FAIL]
//	...
//	___ sympy/core/tests/test_basic.py:test_equality ___
//	...
//	== tests finished: 20 passed, 1 failed, 1 exceptions, in 1.2 seconds ==
//
// A case's ID is "file::test_name" with the file as the runner prints it
// (relative to the sympy checkout), so that generated test files are
// attributed as pytest node ids are; SWE-bench's FAIL_TO_PASS and
// PASS_TO_PASS hold the bare test_name, the part after "::".
//
// Outcomes: ok is Pass; F (assertion) and E (exception: it ran and raised)
// are Fail; f (expected to fail) and X (expected to fail but passed, which
// the runner does not count as a failure) are Pass; s (skip), w (slow, not
// run) and K are Skip; T is a timeout: Error, or Skip when the runner skipped
// the test with the message "Timeout". A status the test's own output pushed
// to a later line (or the runner's line wrapping at 80 columns) is read
// there. The failure report's "file:test_name" titles fail their tests. A
// file that fails to import is a broken unit.
//
// The tests read are checked against the "tests finished" counts (passed,
// failed, skipped, expected to fail, expected to fail but passed,
// exceptions); when they differ, finish says so.
type sympyParser struct {
	cases  caseSet
	broken unitSet
	file   string // the file whose tests are being printed; "" outside
	// pending is the ID of a test whose status has not been printed yet.
	pending    string
	unresolved map[string]bool
	read       int
	// summary gathers the "tests finished" text, which the runner wraps at
	// 80 columns.
	summary   strings.Builder
	inSummary bool
	reported  int
	finished  bool
}

func newSympyParser() *sympyParser {
	return &sympyParser{broken: unitSet{}, unresolved: map[string]bool{}}
}

// brokenFiles: a sympy unit is the file that failed to import.
func (p *sympyParser) brokenFiles() []string { return p.broken.sorted() }

var (
	// sympyFile is a file header: "sympy/core/tests/test_basic.py[22] ".
	sympyFile = regexp.MustCompile(`^(\S+\.py)\[(\d+)\]$`)
	// sympyImport is a file that failed to import.
	sympyImport = regexp.MustCompile(`^(\S+\.py)\[\?\]\s+Failed to import`)
	// sympyFileStatus is the right-aligned verdict of a file.
	sympyFileStatus = regexp.MustCompile(`\s*\[(?:OK|FAIL)\]$`)
	// sympyTitle is a failure report's title: "___ file.py:test_x ___"
	// (without the underscores when the title is wider than 80 columns).
	sympyTitle = regexp.MustCompile(`^_*\s*(\S+\.py):(test\w*)\s*_*$`)
	// sympyTest is a test line: the name, then the status or output.
	sympyTest = regexp.MustCompile(`^(test\w*)(?: (.*))?$`)
	// sympyCount is one count of the "tests finished" text.
	sympyCount = regexp.MustCompile(`(\d+) (passed|failed|skipped|expected to fail but passed|expected to fail|exceptions)`)
)

// sympyStatus maps a status mark to its outcome; msg is the word before it
// (a skip's message).
func sympyStatus(mark, msg string) (outcome.Outcome, bool) {
	switch mark {
	case "ok", "f", "X":
		return outcome.Pass, true
	case "F", "E":
		return outcome.Fail, true
	case "s", "w", "K":
		return outcome.Skip, true
	case "T":
		if msg == "Timeout" {
			return outcome.Skip, true
		}
		return outcome.Error, true
	}
	return 0, false
}

func (p *sympyParser) line(raw []byte, truncated bool) {
	line := strings.TrimRight(toValidUTF8(stripANSI(raw)), " \t")
	if p.inSummary {
		p.summary.WriteString(" " + strings.Trim(line, "= "))
		if strings.Contains(line, " seconds") || !strings.HasSuffix(line, ",") {
			p.endSummary()
		}
		return
	}
	trimmed := strings.TrimSpace(line)
	switch {
	case strings.Contains(trimmed, "tests finished:"):
		p.leave()
		p.file = ""
		p.inSummary = true
		p.summary.Reset()
		p.summary.WriteString(strings.Trim(trimmed, "= "))
		if strings.Contains(trimmed, " seconds") {
			p.endSummary()
		}
		return
	case sympyImport.MatchString(trimmed):
		p.leave()
		p.file = ""
		p.broken[sympyImport.FindStringSubmatch(trimmed)[1]] = true
		p.read++ // counted among the exceptions
		return
	}
	trimmed = sympyFileStatus.ReplaceAllString(trimmed, "")
	if m := sympyFile.FindStringSubmatch(trimmed); m != nil {
		p.leave()
		p.file = m[1]
		return
	}
	if strings.HasPrefix(trimmed, "___") || (p.file == "" && sympyTitle.MatchString(trimmed)) {
		p.leave()
		p.file = "" // the report sections
		if m := sympyTitle.FindStringSubmatch(trimmed); m != nil {
			p.failed(m[1] + "::" + m[2])
		}
		return
	}
	if p.file == "" || trimmed == "" {
		return
	}
	if m := sympyTest.FindStringSubmatch(trimmed); m != nil {
		p.leave()
		p.test(p.file+"::"+m[1], m[2])
		return
	}
	if p.pending != "" {
		fields := strings.Fields(trimmed)
		if len(fields) > 0 {
			msg := ""
			if len(fields) > 1 {
				msg = fields[len(fields)-2]
			}
			if o, ok := sympyStatus(fields[len(fields)-1], msg); ok && (len(fields) == 1 || msg == "Timeout" || msg == "Slow") {
				p.cases.add(p.pending, o)
				p.read++
				p.pending = ""
			}
		}
	}
}

// test reads a test line's remainder: its status, a skip's message and
// mark, or the test's own output (the status comes later).
func (p *sympyParser) test(id, rest string) {
	fields := strings.Fields(rest)
	if len(fields) > 0 {
		msg := ""
		if len(fields) > 1 {
			msg = fields[len(fields)-2]
		}
		mark := fields[len(fields)-1]
		// A lone mark is a status; after other words only a skip's mark
		// (its message comes first) or a timeout is.
		if o, ok := sympyStatus(mark, msg); ok && (len(fields) == 1 || o == outcome.Skip || mark == "T") {
			p.cases.add(id, o)
			p.read++
			return
		}
	}
	p.pending = id
}

// failed reads a failure report title.
func (p *sympyParser) failed(id string) {
	if p.unresolved[id] {
		delete(p.unresolved, id)
		p.read++
	}
	p.cases.add(id, outcome.Fail)
}

func (p *sympyParser) leave() {
	if p.pending != "" {
		p.unresolved[p.pending] = true
		p.pending = ""
	}
}

func (p *sympyParser) endSummary() {
	p.inSummary = false
	p.finished = true
	for _, m := range sympyCount.FindAllStringSubmatch(p.summary.String(), -1) {
		n, _ := strconv.Atoi(m[1])
		p.reported += n
	}
}

func (p *sympyParser) finish() ([]Case, []string, error) {
	p.leave()
	if p.inSummary {
		p.endSummary()
	}
	if p.finished && p.read != p.reported {
		return nil, nil, fmt.Errorf("format %q: sympy's runner counted %d tests but the sympy parser read %d%s: run bin/test with --verbose (and without doctests)", Sympy, p.reported, p.read, missingHint(p.unresolved))
	}
	return p.cases.cases, p.broken.sorted(), nil
}
