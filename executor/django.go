package executor

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/bestpatch/bestpatch/executor/outcome"
)

// Django is the output of Django's test runner at verbosity 2.
const Django Format = "django"

// djangoFormat is Django's test runner (tests/runtests.py --verbosity 2 in
// Django's own repository, manage.py test -v 2 in a project): unittest's
// verbose lines.
var djangoFormat = FormatSpec{
	Name:      Django,
	Language:  "python",
	Runner:    "./tests/runtests.py --verbosity 2 (manage.py test -v 2)",
	CaseID:    `as SWE-bench writes it: "test_x (app.tests.Class)" ("test_x (app.tests.Class.test_x)" on Python 3.11+), or the first line of the test's docstring`,
	Doc:       "unittest's verbose progress lines, checked against the runner's \"Ran N tests\"; statuses printed after the test's own output, on a later line, are read; a module that fails to import or a class whose setUpClass fails is a broken unit",
	TestFiles: []string{"tests.py", "test_*.py", "tests/*", "*/tests/*"},
	TestStyle: `- Use Django's test framework: a class deriving from django.test.SimpleTestCase (django.test.TestCase only if the test needs the database) with test_... methods and self.assert... checks; the runner collects no plain functions.
- Put the file in the test app of the code it tests (in Django's repository an app directory under tests/, as the example shows) and name it test_<something>.py; it must be a new file, not one that exists.
- Give the test methods no docstring: the runner would name such a test by its docstring instead of its module and method.
- Import the code under test the way the existing tests do.
`,
	newParser:     func() outputParser { return newDjangoParser() },
	testFunc:      pythonTestFunc,
	owns:          djangoOwns,
	directive:     djangoLabel,
	caseDirective: djangoCaseModule,
}

// djangoLabel is the runner's label of a test file, as the SWE-bench harness
// derives test directives: the path without ".py" and without a leading
// tests/ (runtests.py runs from there), dots for slashes.
// tests/app/test_x.py -> app.test_x; app/tests.py -> app.tests;
// tests/app/__init__.py -> app.
func djangoLabel(file string) (string, error) {
	c, err := cleanFile(file)
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(c, ".py") {
		return "", fmt.Errorf("test file %q is not a Python module: Django's runner takes module labels", file)
	}
	c = strings.TrimPrefix(strings.TrimSuffix(c, ".py"), "tests/")
	c = strings.TrimSuffix(strings.TrimSuffix(c, "__init__"), "/")
	if c == "" || c == "tests" {
		return "", fmt.Errorf("test file %q names the whole test suite, not one module", file)
	}
	return strings.ReplaceAll(c, "/", "."), nil
}

// djangoName matches a test's description as unittest prints it:
// "test_x (app.tests.Class)", "test_x (app.tests.Class.test_x)", a subtest's
// "test_x (app.tests.Class.test_x) (i=2)", or "app.tests
// (unittest.loader._FailedTest)" for a module that did not import. Group 1
// is the description without subtest parameters, 2 the method, 3 the dotted
// path, 4 the parameters.
var djangoName = regexp.MustCompile(`(([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*) \(([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\))( \(.*\))?`)

// djangoID splits a case ID into its method and dotted path, if it is a
// description and not a docstring title.
func djangoID(caseID string) (method, dotted string, ok bool) {
	m := djangoName.FindStringSubmatch(caseID)
	if m == nil || len(m[0]) != len(caseID) || m[4] != "" {
		return "", "", false
	}
	return m[2], m[3], true
}

// djangoCaseModule is the module of a Django description: its dotted path
// without the class, and without the method that Python 3.11+ repeats
// there. "test_x (app.tests.Class)" -> app.tests.
func djangoCaseModule(caseID string) (string, bool) {
	method, dotted, ok := djangoID(caseID)
	if !ok || strings.HasPrefix(dotted, "unittest.") {
		return "", false
	}
	parts := strings.Split(dotted, ".")
	if parts[len(parts)-1] == method {
		parts = parts[:len(parts)-1]
	}
	if len(parts) < 2 {
		return "", false
	}
	return strings.Join(parts[:len(parts)-1], "."), true
}

// djangoOwns: a Django case belongs to a generated test file when its method
// is one of the file's test functions and its module (the dotted path
// without the class, and without the method on Python 3.11+) is the file's
// module, relative to the runner's start directory. A case titled by its
// docstring cannot be attributed.
func djangoOwns(caseID string, src TestSource) bool {
	method, _, ok := djangoID(caseID)
	if !ok || !slices.Contains(src.Funcs, method) {
		return false
	}
	module, ok := djangoCaseModule(caseID)
	if !ok {
		return false
	}
	file := pythonModule(src.Path)
	return file == module || strings.HasSuffix(file, "."+module)
}

// djangoParser reads unittest's verbose output as Django's runner prints it
// (the SWE-bench harness's parse_log_django reads the same lines):
//
//	test_x (app.tests.Class) ... ok
//	test_y (app.tests.Class)
//	Docstring's first line. ... FAIL
//	test_z (app.tests.Class) ... output the test printed
//	ok
//
// A case's ID is its description ("test_x (app.tests.Class)", with the
// method repeated on Python 3.11+), or for a test with a docstring the
// docstring's first line, as SWE-bench writes both in FAIL_TO_PASS and
// PASS_TO_PASS. Outcomes: ok is Pass; FAIL, ERROR (the test ran and raised)
// and unexpected success are Fail; skipped is Skip; expected failure is
// Pass (the harness ignores the last two words). A failing subtest fails its
// test. A module that does not import (unittest.loader._FailedTest) and a
// class or module whose setUpClass/setUpModule failed are broken units.
//
// The status may land on a later line when the test prints something: the
// test stays pending until a line that is only a status, or until the
// failure report at the end ("FAIL: test_x (app.tests.Class)") names it.
// The tests read are checked against the runner's "Ran N tests" lines; when
// they differ the output was not read in full, and finish says so.
type djangoParser struct {
	cases  caseSet
	broken unitSet
	ids    map[string]string // description -> case ID (a docstring title, or itself)
	// header is a description printed alone: its docstring's first line
	// and the status follow on the next line.
	header string
	// pending is the description whose status has not been printed yet.
	pending string
	// unresolved are descriptions left pending when the next test began.
	unresolved map[string]bool
	read       int // tests whose outcome was read
	ran        int // the sum of the "Ran N tests" lines
	ranSeen    bool
}

func newDjangoParser() *djangoParser {
	return &djangoParser{broken: unitSet{}, ids: map[string]string{}, unresolved: map[string]bool{}}
}

// djangoRan matches the runner's closing count.
var djangoRan = regexp.MustCompile(`^Ran (\d+) tests? in `)

// djangoReport matches a failure report's title line.
var djangoReport = regexp.MustCompile(`^(FAIL|ERROR|UNEXPECTED SUCCESS): (.*)$`)

// djangoStatus maps a status word to its outcome; ok is false for text that
// is not a status.
func djangoStatus(s string) (o outcome.Outcome, ok bool) {
	switch {
	case s == "ok" || s == "OK":
		return outcome.Pass, true
	case s == "FAIL" || s == "ERROR" || s == "unexpected success":
		return outcome.Fail, true
	case s == "expected failure":
		return outcome.Pass, true
	case s == "skipped" || strings.HasPrefix(s, "skipped '") || strings.HasPrefix(s, `skipped "`):
		return outcome.Skip, true
	}
	return 0, false
}

func (p *djangoParser) line(raw []byte, truncated bool) {
	line := strings.TrimSpace(toValidUTF8(stripANSI(raw)))
	if line == "" {
		return
	}
	if m := djangoRan.FindStringSubmatch(line); m != nil {
		n, _ := strconv.Atoi(m[1])
		p.ran += n
		p.ranSeen = true
		p.settle()
		return
	}
	if m := djangoReport.FindStringSubmatch(line); m != nil {
		if desc := djangoBase(m[2]); p.known(desc) {
			p.reported(desc)
			return
		}
	}
	if p.header != "" {
		desc := p.header
		if title, status, ok := strings.Cut(line, " ... "); ok && !p.isProgress(line) {
			p.header = ""
			p.ids[desc] = title
			p.status(desc, status)
			return
		}
		if !p.isProgress(line) {
			return // output between the description and its docstring
		}
		p.header = ""
		p.unresolved[desc] = true
	}
	if p.isProgress(line) {
		p.progress(line)
		return
	}
	if m := djangoName.FindStringSubmatch(line); m != nil && len(m[0]) == len(line) && m[4] == "" {
		p.leave()
		p.header = line
		return
	}
	if p.pending != "" {
		if _, ok := djangoStatus(line); ok {
			desc := p.pending
			p.pending = ""
			p.status(desc, line)
		}
	}
}

// isProgress reports whether a line holds "description ... status".
func (p *djangoParser) isProgress(line string) bool {
	loc := djangoName.FindStringIndex(line)
	return loc != nil && strings.HasPrefix(line[loc[1]:], " ... ")
}

// progress reads "description ... status" lines; anything before the
// description is output without a newline (a migration's "Applying ...").
// A test that printed no status before the next description (a failing
// subtest on Python < 3.11) is left pending.
func (p *djangoParser) progress(line string) {
	m := djangoName.FindStringSubmatchIndex(line)
	desc := line[m[2]:m[3]]
	rest := line[m[1]+len(" ..."):]
	if m[8] >= 0 { // a subtest: "test_x (...) (i=2) ... FAIL"
		if o, ok := djangoStatus(strings.TrimSpace(rest)); ok && o == outcome.Fail {
			if p.pending == desc {
				p.pending = ""
				p.read++
			}
			p.cases.add(p.id(desc), outcome.Fail)
		}
		return
	}
	p.leave()
	p.ids[desc] = desc
	if p.isProgress(rest) {
		p.pending = desc
		p.progress(rest)
		return
	}
	p.status(desc, strings.TrimSpace(rest))
}

// status records a description's status, or leaves it pending when the
// text after " ... " is the test's own output.
func (p *djangoParser) status(desc, status string) {
	o, ok := djangoStatus(status)
	if !ok {
		p.leave()
		p.pending = desc
		return
	}
	method, dotted, _ := djangoID(desc)
	switch {
	case strings.HasPrefix(dotted, "unittest.loader._FailedTest") || strings.HasPrefix(dotted, "unittest.loader.ModuleImportFailure"):
		p.broken[method] = true
		p.read++
	case djangoFixture(method):
		p.broken[dotted] = true // not counted in "Ran N tests"
	default:
		p.cases.add(p.id(desc), o)
		p.read++
	}
}

// reported reads the failure report's "FAIL: description" title: it
// settles a test whose status never came, and fails one read as passing
// (the test printed "ok" itself).
func (p *djangoParser) reported(desc string) {
	method, dotted, _ := djangoID(desc)
	switch {
	case strings.HasPrefix(dotted, "unittest.loader."):
		p.broken[method] = true
	case djangoFixture(method):
		p.broken[dotted] = true
	case p.pending == desc || p.unresolved[desc]:
		if p.pending == desc {
			p.pending = ""
		}
		delete(p.unresolved, desc)
		p.cases.add(p.id(desc), outcome.Fail)
		p.read++
	default:
		if _, seen := p.ids[desc]; !seen {
			p.read++ // not in the progress lines (verbosity 1): the count check says so
		}
		p.cases.add(p.id(desc), outcome.Fail)
	}
}

// known reports whether a report title is a test's description.
func (p *djangoParser) known(desc string) bool {
	_, _, ok := djangoID(desc)
	return ok
}

// leave moves a pending test to the unresolved ones: the next test began.
func (p *djangoParser) leave() {
	if p.pending != "" {
		p.unresolved[p.pending] = true
		p.pending = ""
	}
}

// settle ends a run of the runner: what is still pending stays unresolved.
func (p *djangoParser) settle() {
	p.leave()
	if p.header != "" {
		p.unresolved[p.header] = true
		p.header = ""
	}
}

// id is a description's case ID: its docstring title if it had one.
func (p *djangoParser) id(desc string) string {
	if id, ok := p.ids[desc]; ok {
		return id
	}
	return desc
}

// djangoBase is a report title's description without subtest parameters.
func djangoBase(title string) string {
	if m := djangoName.FindStringSubmatch(title); m != nil && len(m[0]) == len(title) {
		return m[1]
	}
	return title
}

// djangoFixture reports class and module fixtures, which unittest reports
// in place of a test when they fail.
func djangoFixture(method string) bool {
	switch method {
	case "setUpClass", "tearDownClass", "setUpModule", "tearDownModule":
		return true
	}
	return false
}

func (p *djangoParser) finish() ([]Case, []string, error) {
	p.settle()
	if p.ranSeen && p.read != p.ran {
		return nil, nil, fmt.Errorf("format %q: Django's runner ran %d tests but the django parser read %d%s: run the tests with --verbosity 2, and with --buffer if tests print to the console", Django, p.ran, p.read, missingHint(p.unresolved))
	}
	return p.cases.cases, p.broken.sorted(), nil
}
