package executor

import (
	"bytes"
	"strings"

	"github.com/bestpatch/bestpatch/scoring"
)

// Pytest is pytest's `-rA` short test summary.
const Pytest Format = "pytest"

// pytestFormat is pytest's -rA short test summary.
var pytestFormat = FormatSpec{
	Name:      Pytest,
	Language:  "python",
	Runner:    "pytest -rA",
	CaseID:    "pytest node id: path/test_x.py::Class::test_f[param]",
	Doc:       "the short test summary info section of pytest -rA; a file that fails collection is a broken unit",
	TestFiles: []string{"test_*.py", "*_test.py", "conftest.py", "tests/*", "*/tests/*"},
	newParser: func() outputParser { return newPytestParser() },
	testFunc:  pythonTestFunc,
	owns:      pytestOwns,
	directive: cleanFile,
}

// pytestOwns: a pytest node id names its file, relative to pytest's
// rootdir, which may sit below the repository root.
func pytestOwns(caseID string, src TestSource) bool {
	file, _, ok := strings.Cut(caseID, "::")
	return ok && (file == src.Path || strings.HasSuffix(src.Path, "/"+file))
}

// pytestParser reads the "short test summary info" section that `pytest -rA`
// prints at the end of a session; lines anywhere else (a test printing
// "PASSED ...", the captured output of passing tests) are ignored. Several
// sessions in one output (several pytest invocations) are all read.
//
// Outcomes: PASSED is Pass; FAILED is Fail; ERROR with a node id is Error (a
// setup failure: the case did not run; after a PASSED for the same case it is
// a teardown failure and the case becomes Fail); ERROR with a bare path is a
// collection error, which makes that file a broken unit; XFAIL (the expected
// failure happened) and XPASS (a non-strict xfail passed; strict ones are
// reported FAILED) are Pass, as pytest itself counts them. SKIPPED lines read
// "SKIPPED [count] path:line: reason" and name no node id, so they cannot be
// matched across runs: they are ignored, and a skipped case is simply absent.
type pytestParser struct {
	cases     caseSet
	broken    unitSet
	inSummary bool
}

func newPytestParser() *pytestParser { return &pytestParser{broken: unitSet{}} }

var pytestOutcomes = map[string]scoring.Outcome{
	"PASSED": scoring.Pass,
	"FAILED": scoring.Fail,
	"ERROR":  scoring.Error,
	"XFAIL":  scoring.Pass,
	"XPASS":  scoring.Pass,
}

func (p *pytestParser) line(line []byte, truncated bool) {
	line = bytes.TrimRight(line, " \t")
	if len(line) > 1 && line[0] == '=' && line[len(line)-1] == '=' {
		// "==== short test summary info ====" opens the section; the next
		// "==== 3 passed in 0.1s ====" rule closes it.
		p.inSummary = bytes.Contains(line, []byte(" short test summary info "))
		return
	}
	if !p.inSummary {
		return
	}
	word, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return
	}
	outcome, known := pytestOutcomes[string(word)]
	if !known {
		return
	}
	id := toValidUTF8(nodeID(rest))
	if id == "" {
		return
	}
	if outcome == scoring.Error && !bytes.Contains([]byte(id), []byte("::")) {
		p.broken[id] = true
		return
	}
	p.cases.add(id, outcome)
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

func (p *pytestParser) finish() ([]Case, []string) {
	return p.cases.cases, p.broken.sorted()
}
