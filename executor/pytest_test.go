package executor

import (
	"fmt"
	"github.com/bestpatch/bestpatch/executor/executortest"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// pytestSuite exercises every summary line pytest -rA writes: pass, fail,
// setup error, teardown error after a pass, skips, xfail, xpass (strict and
// not), parameter ids with spaces, " - " and brackets, a class, output that
// looks like a summary line, and a file that fails collection; and the ids
// the SWE-bench harness rewrites (tests/test_names.py): absolute paths as
// parameters (parse_log_pytest_options) and matplotlib's MouseButton enum
// (parse_log_matplotlib; a plain Enum prints as MouseButton.LEFT on every
// Python, as matplotlib's IntEnum did before 3.11).
var pytestSuite = map[string]string{
	"tests/test_a.py": `import pytest

def test_pass():
    pass

def test_fail():
    assert 1 == 2

@pytest.fixture
def broken():
    raise RuntimeError("fixture boom")

def test_error(broken):
    pass

@pytest.fixture
def bad_teardown():
    yield
    raise RuntimeError("teardown boom")

def test_teardown(bad_teardown):
    pass

def test_skip():
    pytest.skip("nope")

@pytest.mark.xfail(reason="known")
def test_xfail():
    assert False

@pytest.mark.xfail(reason="known")
def test_xpass():
    pass

@pytest.mark.xfail(strict=True, reason="strict")
def test_xpass_strict():
    pass

@pytest.mark.parametrize("x", ["a b", "c - d", "e[f]"])
def test_param(x):
    assert x != "c - d"

class TestK:
    def test_m(self):
        print("PASSED tests/test_a.py::fake")
        assert True
`,
	"tests/test_bad.py": "import nonexistent_module_xyz\n\ndef test_never():\n    pass\n",
	"tests/test_names.py": `import enum

import pytest

class MouseButton(enum.Enum):
    LEFT = 1
    RIGHT = 3

@pytest.mark.parametrize("button", [MouseButton.LEFT, MouseButton.RIGHT])
def test_button(button):
    assert button.value in (1, 3)

@pytest.mark.parametrize("path", ["/tmp/data/a.txt", "//server/share/b.txt", "/tmp/*.py", "rel/c.txt"])
def test_path(path):
    assert path
`,
}

var wantPytestCases = map[string]string{
	"tests/test_a.py::test_pass":         "PASS",
	"tests/test_a.py::test_fail":         "FAIL",
	"tests/test_a.py::test_error":        "ERROR",
	"tests/test_a.py::test_teardown":     "FAIL",
	"tests/test_a.py::test_xfail":        "PASS",
	"tests/test_a.py::test_xpass":        "PASS",
	"tests/test_a.py::test_xpass_strict": "FAIL",
	"tests/test_a.py::test_param[a b]":   "PASS",
	"tests/test_a.py::test_param[c - d]": "FAIL",
	"tests/test_a.py::test_param[e[f]]":  "PASS",
	"tests/test_a.py::TestK::test_m":     "PASS",

	"tests/test_names.py::test_button[MouseButton.LEFT]":   "PASS",
	"tests/test_names.py::test_button[MouseButton.RIGHT]":  "PASS",
	"tests/test_names.py::test_path[/tmp/data/a.txt]":      "PASS",
	"tests/test_names.py::test_path[//server/share/b.txt]": "PASS",
	"tests/test_names.py::test_path[/tmp/*.py]":            "PASS",
	"tests/test_names.py::test_path[rel/c.txt]":            "PASS",
}

// runPytest runs real pytest on pytestSuite with the given options, as a
// test command does, and returns its output.
func runPytest(t *testing.T, options string) []byte {
	t.Helper()
	py := executortest.PytestPython(t)
	dir := t.TempDir()
	executortest.WriteFiles(t, dir, pytestSuite)
	cmd := exec.Command("bash", "-c", py+" -m pytest "+options+" -p no:cacheprovider --continue-on-collection-errors tests 2>&1")
	cmd.Dir = dir
	out, err := cmd.Output()
	if _, failed := err.(*exec.ExitError); err != nil && !failed {
		t.Fatalf("pytest: %v", err)
	}
	return out
}

// TestPytestRealOutput runs real pytest -rA on pytestSuite, as the test
// commands of astropy 3.0+, flask, matplotlib, pylint, pytest, requests,
// scikit-learn and xarray run it, and parses its output; -update rewrites
// testdata/pytest-rA.txt from it.
func TestPytestRealOutput(t *testing.T) {
	out := runPytest(t, "-rA")
	checkParsed(t, Pytest, out, wantPytestCases, "[tests/test_bad.py]")
	updateCapture(t, "testdata/pytest-rA.txt", out)
}

// TestPytestHarnessCommands runs real pytest the way the other SWE-bench
// repositories' test commands do (the harness's variants: seaborn's
// --no-header; old astropy's -vv with the classic console style and no
// tracebacks; sphinx's tox.ini, whose pytest the harness's image setup
// turns into pytest -rA, with --durations and, under tox, colour) and
// checks that the one pytest format reads every case of each, where the
// harness has a parser per variant.
func TestPytestHarnessCommands(t *testing.T) {
	for _, c := range []struct{ repos, options string }{
		{"seaborn", "--no-header -rA"},
		{"astropy 0.x, 1.x", "-rA -vv -o console_output_style=classic --tb=no"},
		{"sphinx (tox.ini's pytest under tox)", "-rA --durations 25 --color=yes"},
	} {
		t.Run(c.repos, func(t *testing.T) {
			checkParsed(t, Pytest, runPytest(t, c.options), wantPytestCases, "[tests/test_bad.py]")
		})
	}
}

func TestPytestParser(t *testing.T) {
	captured, err := os.ReadFile("testdata/pytest-rA.txt")
	if err != nil {
		t.Fatal(err)
	}
	// sum is a session's summary whose totals line counts its lines.
	sum := func(lines ...string) string {
		n := 0
		for _, l := range lines {
			if w, _, _ := strings.Cut(l, " "); pytestOutcomes[w] != 0 {
				n++
			}
		}
		return "=== short test summary info ===\n" + strings.Join(lines, "\n") + fmt.Sprintf("\n=== %d passed in 0.01s ===\n", n)
	}
	// colour is how pytest --color=yes writes a line.
	colour := func(s string) string { return "\x1b[32m" + strings.Replace(s, " ", "\x1b[0m ", 1) + "\x1b[0m" }
	cases := []parseCase{
		{name: "captured: pytest 7.2, Python 3.11", out: string(captured), cases: wantPytestCases, broken: "[tests/test_bad.py]"},
		{name: "lines outside the summary are ignored", out: "PASSED t.py::outside\nt.py::verbose PASSED [ 50%]\n" + sum("PASSED t.py::inside") + "FAILED t.py::after\n",
			cases: map[string]string{"t.py::inside": "PASS"}},
		{name: "two sessions", out: sum("PASSED a.py::x") + "noise\n" + sum("FAILED b.py::y - boom"),
			cases: map[string]string{"a.py::x": "PASS", "b.py::y": "FAIL"}},
		{name: "skips carry no node id", out: sum("SKIPPED [2] t.py:3: reason", "PASSED t.py::a"), cases: map[string]string{"t.py::a": "PASS"}},
		{name: "collection error without message", out: sum("ERROR t.py", "ERROR u.py - ImportError: x"), cases: map[string]string{}, broken: "[t.py u.py]"},
		{name: "unknown words and CRLF", out: strings.ReplaceAll(sum("RERUN t.py::a", "PASSED t.py::a"), "\n", "\r\n"), cases: map[string]string{"t.py::a": "PASS"}},
		{name: "XPASS without a dash", out: sum("XPASS t.py::a reason text"), cases: map[string]string{"t.py::a": "PASS"}},
		{name: "ANSI colours (tox, --color=yes)", out: colour("=== short test summary info ===") + "\n" + colour("PASSED t.py::a") + "\n" + colour("FAILED t.py::b - x") + "\n" +
			"\x1b[31m=== \x1b[31m\x1b[1m1 failed\x1b[0m, \x1b[32m1 passed\x1b[0m\x1b[31m in 0.10s\x1b[0m\x1b[31m ===\x1b[0m\n",
			cases: map[string]string{"t.py::a": "PASS", "t.py::b": "FAIL"}},
		{name: "old pytest: seconds", out: "=== short test summary info ===\nPASSED t.py::a\n=== 1 passed, 1 pytest-warnings in 0.01 seconds ===\n",
			cases: map[string]string{"t.py::a": "PASS"}},
		{name: "no -rA", out: "t.py .F\n=== FAILURES ===\n=== 1 failed, 1 passed in 0.01s ===\n",
			err: "printed no short test summary: add -rA"},
		{name: "summary shorter than the totals", out: "=== short test summary info ===\nPASSED t.py::a\n=== 1 failed, 1 passed in 0.01s ===\n",
			err: "totals count 2 results (passed, failed, errors, xfailed, xpassed) but its short test summary holds 1"},
		{name: "no tests ran", out: "=== no tests ran in 0.01s ===\n", cases: map[string]string{}},
	}
	checkParses(t, Pytest, cases)
}
