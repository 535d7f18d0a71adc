package executor

import (
	"fmt"
	"github.com/bestpatch/bestpatch/executor/executortest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sympyFixtureTests is a test file added to a temporary copy of Debian's
// sympy, so that its runner runs every status it prints.
const sympyFixtureTests = `from sympy.testing.pytest import XFAIL, SKIP, skip, slow


def test_pass():
    assert 1 + 1 == 2


def test_fail():
    assert 1 + 1 == 3


def test_exception():
    raise ValueError("boom")


@XFAIL
def test_xfail():
    assert False


@XFAIL
def test_xpass():
    assert True


def test_skip():
    skip("not today")


@SKIP("decorated")
def test_skip_decorator():
    assert False


@slow
def test_slow():
    assert True


def test_prints():
    print("hello from a test")
    assert True


def test_last():
    assert True
`

const (
	sympyFixtureFile = "sympy/core/tests/test_bestpatch_fixture.py"
	sympyBrokenFile  = "sympy/core/tests/test_bestpatch_broken.py"
	// sympyRealFile is one of sympy's own test files, run as it ships.
	sympyRealFile = "sympy/core/tests/test_truediv.py"
)

// wantSympy is what the sympy parser reads from a run of the three files.
var wantSympy = map[string]string{
	sympyFixtureFile + "::test_pass":           "PASS",
	sympyFixtureFile + "::test_fail":           "FAIL",
	sympyFixtureFile + "::test_exception":      "FAIL", // E: it ran and raised
	sympyFixtureFile + "::test_xfail":          "PASS",
	sympyFixtureFile + "::test_xpass":          "PASS",
	sympyFixtureFile + "::test_skip":           "SKIP",
	sympyFixtureFile + "::test_skip_decorator": "SKIP",
	sympyFixtureFile + "::test_slow":           "SKIP", // w: slow, not run
	sympyFixtureFile + "::test_prints":         "PASS", // status after the test's output
	sympyFixtureFile + "::test_last":           "PASS", // status before the file's [FAIL]
	sympyRealFile + "::test_truediv":           "PASS",
	sympyRealFile + "::test_basic":             "PASS",
	sympyRealFile + "::test_ibasic":            "PASS",
}

const wantSympyBroken = "[" + sympyBrokenFile + "]"

// TestSympyLive runs sympy's own runner (what bin/test calls) from Debian's
// python3-sympy, in a copy of the package (symbolic links) with two test
// files added, and parses its output; -update rewrites
// testdata/sympy-verbose.txt from it.
func TestSympyLive(t *testing.T) {
	executortest.NeedPython(t, "sympy", "python3-sympy")
	src, err := exec.Command(executortest.DebianPython, "-c", "import os, sympy; print(os.path.dirname(sympy.__file__))").Output()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := exec.Command("cp", "-rs", strings.TrimSpace(string(src)), filepath.Join(root, "sympy")).Run(); err != nil {
		t.Fatalf("copy sympy as links: %v", err)
	}
	for name, body := range map[string]string{sympyFixtureFile: sympyFixtureTests, sympyBrokenFile: "import no_such_module  # noqa: F401\n\n\ndef test_never():\n    pass\n"} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := fmt.Sprintf("import sympy, sys; sys.exit(not sympy.test(%q, %q, %q, verbose=True))", sympyFixtureFile, sympyBrokenFile, sympyRealFile)
	cmd := exec.Command(executortest.DebianPython, "-c", script)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if _, failed := err.(*exec.ExitError); err != nil && !failed {
		t.Fatalf("sympy.test: %v", err)
	}
	checkParsed(t, Sympy, out, wantSympy, wantSympyBroken)
	updateCapture(t, "testdata/sympy-verbose.txt", out)
}

func TestSympyParser(t *testing.T) {
	captured, err := os.ReadFile("testdata/sympy-verbose.txt")
	if err != nil {
		t.Fatal(err)
	}
	head := "============================= test process starts ==============================\nexecutable:         /usr/bin/python3\n\n"
	done := func(counts string) string {
		return "\n\n================== tests finished: " + counts + ", in 0.44 seconds ===================\n"
	}
	cases := []parseCase{
		{name: "captured: sympy 1.11, Python 3.11", out: string(captured), cases: wantSympy, broken: wantSympyBroken},
		{name: "one file, [OK] on the last line", out: head + "s/t/test_a.py[2] \ntest_x ok\ntest_y ok                                   [OK]\n" + done("2 passed"),
			cases: map[string]string{"s/t/test_a.py::test_x": "PASS", "s/t/test_a.py::test_y": "PASS"}},
		{name: "a long name wrapped by the runner", out: head + "s/t/test_a.py[1] \ntest_" + strings.Repeat("x", 80) + " \nok\n[OK]\n" + done("1 passed"),
			cases: map[string]string{"s/t/test_a.py::test_" + strings.Repeat("x", 80): "PASS"}},
		{name: "timeouts: an exception or a skip", out: head + "s/t/test_a.py[2] \ntest_x T\ntest_y Timeout T        [FAIL]\n" + done("1 skipped, 1 exceptions"),
			cases: map[string]string{"s/t/test_a.py::test_x": "ERROR", "s/t/test_a.py::test_y": "SKIP"}},
		{name: "a status lost in the output, settled by the failure report",
			out: head + "s/t/test_a.py[1] \ntest_x output F\n                      [FAIL]\n\n________________________________________________________________________________\n__________________ s/t/test_a.py:test_x __________________\nTraceback\n\n" +
				done("0 passed, 1 failed"),
			cases: map[string]string{"s/t/test_a.py::test_x": "FAIL"}},
		{name: "the counts wrapped over two lines", out: head + "s/t/test_a.py[2] \ntest_x ok\ntest_y f      [OK]\n\n\n tests finished: 1 passed, \n1 expected to fail, in 0.78 seconds \n",
			cases: map[string]string{"s/t/test_a.py::test_x": "PASS", "s/t/test_a.py::test_y": "PASS"}},
		{name: "slowest tests section is not tests", out: head + "s/t/test_a.py[1] \ntest_x ok      [OK]\n\n____ slowest tests ____\ntest_x - Took 12.000 seconds\n" + done("1 passed"),
			cases: map[string]string{"s/t/test_a.py::test_x": "PASS"}},
		{name: "coloured", out: head + "s/t/test_a.py[1] \ntest_x \x1b[0;32mok\x1b[0m      \x1b[0;32m[OK]\x1b[0m\n" + done("1 passed"),
			cases: map[string]string{"s/t/test_a.py::test_x": "PASS"}},
		{name: "not verbose", out: head + "s/t/test_a.py[3] ..F       [FAIL]\n" + done("2 passed, 1 failed"),
			err: "sympy's runner counted 3 tests but the sympy parser read 0: run bin/test with --verbose"},
		{name: "a status never printed", out: head + "s/t/test_a.py[2] \ntest_x some output\ntest_y ok       [OK]\n" + done("2 passed"),
			err: "counted 2 tests but the sympy parser read 1 (no status found for s/t/test_a.py::test_x)"},
	}
	checkParses(t, Sympy, cases)
}
