package executor

import (
	"flag"
	"fmt"
	"github.com/bestpatch/bestpatch/executor/executortest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// update rewrites the captured runner outputs in testdata from live runs of
// the real runners (the Debian packages named in each test's skip message):
//
//	go test ./executor -run 'Live' -update
var update = flag.Bool("update", false, "rewrite the captured runner outputs in testdata from live runs")

// runLive runs a command in a copy of a testdata project and returns its
// merged output, as run.sh merges it.
func runLive(t *testing.T, project string, args ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", project))); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "PYTHONHASHSEED=0")
	out, err := cmd.CombinedOutput()
	if _, failed := err.(*exec.ExitError); err != nil && !failed {
		t.Fatalf("%s: %v", strings.Join(args, " "), err)
	}
	return out
}

func checkParsed(t *testing.T, f Format, out []byte, want map[string]string, wantBroken string) {
	t.Helper()
	cases, broken, err := parseOutput(f, out)
	if err != nil {
		t.Fatalf("%v\noutput:\n%s", err, out)
	}
	if got := outcomes(cases); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("cases\n got %v\nwant %v\noutput:\n%s", got, want, out)
	}
	if got := fmt.Sprint(broken); got != wantBroken {
		t.Errorf("broken %s, want %s", got, wantBroken)
	}
}

// TestDjangoLive runs Django's own runner (manage.py test -v 2 prints what
// runtests.py --verbosity 2 prints) on the project in testdata and parses
// its output; -update rewrites testdata/django-v2.txt from it.
func TestDjangoLive(t *testing.T) {
	executortest.NeedPython(t, "django", "python3-django")
	out := runLive(t, "djangoproject", executortest.DebianPython, "manage.py", "test", "-v", "2")
	checkParsed(t, Django, out, executortest.WantDjango, executortest.WantDjangoBroken)
	updateCapture(t, "testdata/django-v2.txt", out)
}

func TestDjangoParser(t *testing.T) {
	captured, err := os.ReadFile("testdata/django-v2.txt")
	if err != nil {
		t.Fatal(err)
	}
	ran := func(n int) string {
		return fmt.Sprintf("\n----------------------------------------------------------------------\nRan %d tests in 0.010s\n\nOK\n", n)
	}
	report := func(word, title string) string {
		return "\n======================================================================\n" + word + ": " + title + "\n----------------------------------------------------------------------\nTraceback (most recent call last):\nAssertionError\n"
	}
	cases := []parseCase{
		{name: "captured: Django 3.2, Python 3.11", out: string(captured), cases: executortest.WantDjango, broken: executortest.WantDjangoBroken},
		// The forms below are those of Python < 3.11 (no method in the
		// parentheses), which SWE-bench's Django images run, and the cases
		// the harness's parse_log_django works around.
		{name: "Python < 3.11 descriptions", out: "test_a (app.tests.T) ... ok\ntest_b (app.tests.T) ... FAIL\ntest_c (app.tests.T) ... ERROR\ntest_d (app.tests.T) ... skipped 'no db'\n" +
			report("FAIL", "test_b (app.tests.T)") + ran(4),
			cases: map[string]string{"test_a (app.tests.T)": "PASS", "test_b (app.tests.T)": "FAIL", "test_c (app.tests.T)": "FAIL", "test_d (app.tests.T)": "SKIP"}},
		{name: "docstring title", out: "test_a (app.tests.T)\nRegression for #1234. ... ok\ntest_b (app.tests.T)\n--version is equivalent to version ... ok\n" + ran(2),
			cases: map[string]string{"Regression for #1234.": "PASS", "--version is equivalent to version": "PASS"}},
		{name: "output between the status and the description (the harness's three patterns)",
			out: "test_a (admin_scripts.tests.T) ... Testing against Django installed in '/testbed/django'\nSystem check identified no issues (0 silenced).\nok\n" +
				"test_b (view_tests.tests.T) ... Internal Server Error: /raises/\nok\n" +
				"test_c (check_framework.tests.T) ... System check identified no issues (0 silenced).\nok\n" + ran(3),
			cases: map[string]string{"test_a (admin_scripts.tests.T)": "PASS", "test_b (view_tests.tests.T)": "PASS", "test_c (check_framework.tests.T)": "PASS"}},
		{name: "output without a newline before the description (django__django-7188)",
			out:   "  Applying sites.0002_alter_domain_unique...test_no_migrations (migrations.test_commands.T) ... ok\n" + ran(1),
			cases: map[string]string{"test_no_migrations (migrations.test_commands.T)": "PASS"}},
		{name: "failing subtest on Python < 3.11: no status, the next test on the same line",
			out:   "test_s (app.tests.T) ... test_t (app.tests.T) ... ok\n" + report("FAIL", "test_s (app.tests.T) (i=2)") + ran(2),
			cases: map[string]string{"test_s (app.tests.T)": "FAIL", "test_t (app.tests.T)": "PASS"}},
		{name: "status lost in the test's output, settled by the failure report",
			out:   "test_a (app.tests.T) ... some output FAIL\n" + report("FAIL", "test_a (app.tests.T)") + ran(1),
			cases: map[string]string{"test_a (app.tests.T)": "FAIL"}},
		{name: "a test that prints ok and then fails",
			out:   "test_a (app.tests.T) ... ok\nFAIL\n" + report("FAIL", "test_a (app.tests.T)") + ran(1),
			cases: map[string]string{"test_a (app.tests.T)": "FAIL"}},
		{name: "expected failure and unexpected success", out: "test_a (app.tests.T) ... expected failure\ntest_b (app.tests.T) ... unexpected success\n" + ran(2),
			cases: map[string]string{"test_a (app.tests.T)": "PASS", "test_b (app.tests.T)": "FAIL"}},
		{name: "import failure on Python < 3.11", out: "app.tests (unittest.loader._FailedTest) ... ERROR\ntest_a (other.tests.T) ... ok\n" + report("ERROR", "app.tests (unittest.loader._FailedTest)") + ran(2),
			cases: map[string]string{"test_a (other.tests.T)": "PASS"}, broken: "[app.tests]"},
		{name: "two runs of the runner", out: "test_a (app.tests.T) ... ok\n" + ran(1) + "test_b (app.tests.T) ... FAIL\n" + ran(1),
			cases: map[string]string{"test_a (app.tests.T)": "PASS", "test_b (app.tests.T)": "FAIL"}},
		{name: "ANSI colours and CRLF", out: strings.ReplaceAll("test_a (app.tests.T) ... \x1b[32mok\x1b[0m\n"+ran(1), "\n", "\r\n"),
			cases: map[string]string{"test_a (app.tests.T)": "PASS"}},
		{name: "verbosity 1", out: "..F.\n" + report("FAIL", "test_b (app.tests.T)") + ran(4),
			err: "Django's runner ran 4 tests but the django parser read 1: run the tests with --verbosity 2"},
		{name: "a status never printed", out: "test_a (app.tests.T) ... some output\ntest_b (app.tests.T) ... ok\n" + ran(2),
			err: "ran 2 tests but the django parser read 1 (no status found for test_a (app.tests.T))"},
		{name: "no runner count: what was read", out: "test_a (app.tests.T) ... ok\n", cases: map[string]string{"test_a (app.tests.T)": "PASS"}},
	}
	checkParses(t, Django, cases)
}

func TestDjangoDirectiveAndOwns(t *testing.T) {
	spec, err := Django.Spec()
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		"tests/utils_tests/test_text.py": "utils_tests.test_text",
		"tests/admin_views/tests.py":     "admin_views.tests",
		"tests/admin_views/__init__.py":  "admin_views",
		"shapes/tests.py":                "shapes.tests",
		"tests/runtests.py":              "runtests",
	} {
		if got, err := spec.Directive(file); err != nil || got != want {
			t.Errorf("Directive(%q) = %q, %v; want %q", file, got, err, want)
		}
	}
	for _, bad := range []string{"../x.py", "/abs/x.py", "tests/data.json", "tests/__init__.py"} {
		if got, err := spec.Directive(bad); err == nil {
			t.Errorf("Directive(%q) = %q, want an error", bad, got)
		}
	}
	src := TestSource{Path: "tests/utils_tests/test_gen.py", Funcs: []string{"test_gen"}}
	for id, want := range map[string]bool{
		"test_gen (utils_tests.test_gen.GenTests)":          true,
		"test_gen (utils_tests.test_gen.GenTests.test_gen)": true,
		"test_gen (utils_tests.test_text.TextTests)":        false,
		"test_other (utils_tests.test_gen.GenTests)":        false,
		"A docstring title.":                                false,
	} {
		if got := spec.Owns(id, src); got != want {
			t.Errorf("Owns(%q) = %v, want %v", id, got, want)
		}
	}
}
