package executor

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/bestpatch/bestpatch/executor/outcome"
)

// Pytest is pytest's `-rA` short test summary.
const Pytest Format = "pytest"

// pytestFormat is pytest's -rA short test summary.
var pytestFormat = FormatSpec{
	Name:          Pytest,
	Language:      "python",
	Runner:        "pytest -rA",
	CaseID:        "pytest node id: path/test_x.py::Class::test_f[param]",
	Doc:           "the short test summary info section of pytest -rA, checked against pytest's totals line; ANSI colours are ignored; a file that fails collection is a broken unit",
	TestFiles:     []string{"test_*.py", "*_test.py", "conftest.py", "tests/*", "*/tests/*"},
	newParser:     func() outputParser { return newPytestParser() },
	testFunc:      pythonTestFunc,
	owns:          pytestOwns,
	directive:     cleanFile,
	caseDirective: nodeFile,
}

// pytestOwns: a pytest node id names its file, relative to pytest's
// rootdir, which may sit below the repository root.
func pytestOwns(caseID string, src TestSource) bool {
	file, _, ok := strings.Cut(caseID, "::")
	return ok && (file == src.Path || strings.HasSuffix(src.Path, "/"+file))
}

// pytestParser reads the "short test summary info" section that `pytest -rA`
// prints at the end of a session; lines anywhere else (a test printing
// "PASSED ...", the captured output of passing tests, the "path::test PASSED"
// lines of -v) are ignored. Several sessions in one output (several pytest
// invocations) are all read. ANSI colour sequences (--color=yes, tox,
// PY_COLORS) are dropped before a line is read.
//
// Outcomes: PASSED is Pass; FAILED is Fail; ERROR with a node id is Error (a
// setup failure: the case did not run; after a PASSED for the same case it is
// a teardown failure and the case becomes Fail); ERROR with a bare path is a
// collection error, which makes that file a broken unit; XFAIL (the expected
// failure happened) and XPASS (a non-strict xfail passed; strict ones are
// reported FAILED) are Pass, as pytest itself counts them. SKIPPED lines read
// "SKIPPED [count] path:line: reason" and name no node id, so they cannot be
// matched across runs: they are ignored, and a skipped case is simply absent.
//
// Every session ends with a totals line ("== 3 failed, 5 passed, 1 error in
// 0.1s =="). Its passed, failed, error, xfailed and xpassed counts add up to
// the number of summary lines with those words; when they do not, the
// summary was not read in full (no -rA, or lines the parser does not know)
// and finish says so instead of returning part of the evidence.
type pytestParser struct {
	cases     caseSet
	broken    unitSet
	inSummary bool
	read      int // summary lines with an outcome
	reported  int // the totals lines' passed+failed+errors+xfailed+xpassed
	totals    bool
}

func newPytestParser() *pytestParser { return &pytestParser{broken: unitSet{}} }

// brokenFiles: a pytest unit is the file that failed collection.
func (p *pytestParser) brokenFiles() []string { return p.broken.sorted() }

var pytestOutcomes = map[string]outcome.Outcome{
	"PASSED": outcome.Pass,
	"FAILED": outcome.Fail,
	"ERROR":  outcome.Error,
	"XFAIL":  outcome.Pass,
	"XPASS":  outcome.Pass,
}

// pytestTotal matches one count of a totals line: "3 failed", "1 error".
var pytestTotal = regexp.MustCompile(`(\d+) (passed|failed|errors?|xfailed|xpassed|skipped|deselected|warnings?|rerun)\b`)

// pytestDuration ends a totals line: " in 0.05s", " in 1.20 seconds",
// " in 61.00s (0:01:01)".
var pytestDuration = regexp.MustCompile(` in [0-9.]+ ?s(?:econds)?\b`)

func (p *pytestParser) line(line []byte, truncated bool) {
	line = bytes.TrimRight(stripANSI(line), " \t")
	if len(line) > 1 && line[0] == '=' && line[len(line)-1] == '=' {
		// "==== short test summary info ====" opens the section; the next
		// "==== 3 passed in 0.1s ====" rule closes it.
		p.inSummary = bytes.Contains(line, []byte(" short test summary info "))
		p.total(line)
		return
	}
	if !p.inSummary {
		return
	}
	word, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return
	}
	o, known := pytestOutcomes[string(word)]
	if !known {
		return
	}
	id := toValidUTF8(nodeID(rest))
	if id == "" {
		return
	}
	p.read++
	if o == outcome.Error && !strings.Contains(id, "::") {
		p.broken[id] = true
		return
	}
	p.cases.add(id, o)
}

// total reads a totals line, if the rule is one.
func (p *pytestParser) total(rule []byte) {
	inner := bytes.Trim(rule, "= ")
	if !pytestDuration.Match(inner) {
		return
	}
	p.totals = true
	for _, m := range pytestTotal.FindAllSubmatch(inner, -1) {
		switch string(m[2]) {
		case "passed", "failed", "error", "errors", "xfailed", "xpassed":
			n, _ := strconv.Atoi(string(m[1]))
			p.reported += n
		}
	}
}

// nodeID returns the node id at the start of a summary line's remainder: it
// ends at the first space outside brackets, so parameter ids holding spaces
// or " - " ("test_x[a - b]") stay whole and the " - message" is dropped.
func nodeID(s []byte) []byte {
	depth := 0
	for i, c := range s {
		switch c {
		case '[':
			depth++
		case ']':
			if depth > 0 {
				depth--
			}
		case ' ':
			if depth == 0 {
				return s[:i]
			}
		}
	}
	return s
}

func (p *pytestParser) finish() ([]Case, []string, error) {
	switch {
	case !p.totals || p.read == p.reported:
		return p.cases.cases, p.broken.sorted(), nil
	case p.read == 0:
		return nil, nil, fmt.Errorf("format %q: pytest reported %d results but printed no short test summary: add -rA to the test command", Pytest, p.reported)
	}
	return nil, nil, fmt.Errorf("format %q: pytest's totals count %d results (passed, failed, errors, xfailed, xpassed) but its short test summary holds %d: run pytest with -rA and without plugins that rewrite the summary, or use format %q with --junitxml", Pytest, p.reported, p.read, JUnit)
}
