package executortest

import (
	"os/exec"
	"testing"
)

// ScratchModule is a Go module exercising every shape of `go test -json`
// output the parser handles: passing, failing, skipping, nested and
// parallel subtests, a panic inside a subtest, go's own -timeout, a test
// package that does not compile, a library that does not compile (so its
// importer does not build either), a missing import, a TestMain that exits
// before any test, and a package without tests.
var ScratchModule = map[string]string{
	"go.mod": "module example.com/scratch\n\ngo 1.21\n",
	"ok/ok_test.go": `package ok

import "testing"

func TestPass(t *testing.T) {}
func TestFail(t *testing.T) { t.Log("hello"); t.Fatal("boom") }
func TestSkip(t *testing.T) { t.Skip("not today") }
func TestSub(t *testing.T) {
	t.Run("good", func(t *testing.T) {})
	t.Run("bad case", func(t *testing.T) { t.Error("x") })
	t.Run("nested", func(t *testing.T) { t.Run("deep", func(t *testing.T) {}) })
}
func TestParallel(t *testing.T) {
	for _, n := range []string{"a", "b"} {
		t.Run(n, func(t *testing.T) { t.Parallel() })
	}
}
`,
	"panicky/p_test.go": `package panicky

import "testing"

func TestA(t *testing.T) {}
func TestB(t *testing.T) { t.Run("inner", func(t *testing.T) { var m map[string]int; m["x"] = 1 }) }
func TestC(t *testing.T) {}
`,
	"timeouty/t_test.go": `package timeouty

import ("testing"; "time")

func TestQuick(t *testing.T) {}
func TestSlow(t *testing.T) { time.Sleep(time.Hour) }
func TestNeverReached(t *testing.T) {}
`,
	"buildfail/b.go":      "package buildfail\n\nfunc F() int { return 1 }\n",
	"buildfail/b_test.go": "package buildfail\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) { undefined() }\n",
	// A test file that compiles, in the package that does not: only the
	// other file is named by the build errors.
	"buildfail/fine_test.go": "package buildfail\n\nimport \"testing\"\n\nfunc TestFine(t *testing.T) { t.Log(\"fine_test.go:3: not an error\") }\n",
	"libfail/lib.go":         "package libfail\n\nfunc F() int { return \"x\" }\n",
	"uses/u_test.go":         "package uses\n\nimport (\"testing\"; \"example.com/scratch/libfail\")\n\nfunc TestU(t *testing.T) { libfail.F() }\n",
	"setupfail/s_test.go":    "package setupfail\n\nimport (\"testing\"; \"example.com/scratch/doesnotexist\")\n\nfunc TestS(t *testing.T) { doesnotexist.F() }\n",
	"mainexit/m_test.go":     "package mainexit\n\nimport (\"os\"; \"testing\")\n\nfunc TestMain(m *testing.M) { os.Exit(3) }\nfunc TestM(t *testing.T) {}\n",
	"nofiles/n.go":           "package nofiles\n",
}

// ScratchCommand runs the module's tests; go's -timeout is short so that
// the timeouty package hits it.
const ScratchCommand = "go test -json -timeout 2s ./..."

// WantScratchCases are the cases the scratch module's tests produce.
var WantScratchCases = map[string]string{
	"example.com/scratch/ok::TestPass":            "PASS",
	"example.com/scratch/ok::TestFail":            "FAIL",
	"example.com/scratch/ok::TestSkip":            "SKIP",
	"example.com/scratch/ok::TestSub":             "FAIL",
	"example.com/scratch/ok::TestSub/good":        "PASS",
	"example.com/scratch/ok::TestSub/bad_case":    "FAIL",
	"example.com/scratch/ok::TestSub/nested":      "PASS",
	"example.com/scratch/ok::TestSub/nested/deep": "PASS",
	"example.com/scratch/ok::TestParallel":        "PASS",
	"example.com/scratch/ok::TestParallel/a":      "PASS",
	"example.com/scratch/ok::TestParallel/b":      "PASS",
	"example.com/scratch/panicky::TestA":          "PASS",
	"example.com/scratch/panicky::TestB":          "FAIL",
	"example.com/scratch/panicky::TestB/inner":    "FAIL",
	"example.com/scratch/timeouty::TestQuick":     "PASS",
	"example.com/scratch/timeouty::TestSlow":      "FAIL",
}

// WantDjango is what the django parser reads from the project in
// testdata/djangoproject (shapes/tests.py says what each test does).
var WantDjango = map[string]string{
	"Area of a unit square is one.":                                            "PASS", // a docstring: its title is the ID
	"Area of a unit square is two.":                                            "FAIL",
	"test_error (shapes.tests.AreaTests.test_error)":                           "FAIL", // ERROR: it ran and raised
	"test_expected_failure (shapes.tests.AreaTests.test_expected_failure)":     "PASS",
	"test_fail (shapes.tests.AreaTests.test_fail)":                             "FAIL",
	"test_pass (shapes.tests.AreaTests.test_pass)":                             "PASS",
	"test_prints (shapes.tests.AreaTests.test_prints)":                         "PASS", // status after the test's output
	"test_skipped (shapes.tests.AreaTests.test_skipped)":                       "SKIP",
	"test_subtests (shapes.tests.AreaTests.test_subtests)":                     "FAIL", // a failing subtest
	"test_unexpected_success (shapes.tests.AreaTests.test_unexpected_success)": "FAIL",
	"test_warns (shapes.tests.AreaTests.test_warns)":                           "PASS", // status after a logged error
	"test_square (shapes.tests.PerimeterTests.test_square)":                    "PASS",
}

// WantDjangoBroken: a module that does not import, a class whose
// setUpClass fails.
const WantDjangoBroken = "[shapes.test_broken shapes.test_setup.BrokenSetup]"

// DebianPython is Debian's interpreter, which the python3-* packages serve.
const DebianPython = "/usr/bin/python3"

// NeedPython skips unless Debian's python3 imports module (from the Debian
// package pkg).
func NeedPython(t *testing.T, module, pkg string) {
	t.Helper()
	if err := exec.Command(DebianPython, "-c", "import "+module).Run(); err != nil {
		t.Skipf("%s cannot import %s (%v): install the Debian package %s (apt-get install -y %s)", DebianPython, module, err, pkg, pkg)
	}
}
