package executor

import (
	"bytes"
	"fmt"
	"github.com/bestpatch/bestpatch/executor/executortest"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestJUnitRealReport(t *testing.T) {
	py := executortest.PytestPython(t)
	dir := t.TempDir()
	executortest.WriteFiles(t, dir, pytestSuite)
	cmd := exec.Command(py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--continue-on-collection-errors", "--junitxml=report.xml", "tests")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		if _, failed := err.(*exec.ExitError); !failed {
			t.Fatalf("pytest: %v\n%s", err, out)
		}
	}
	f, err := os.Open(filepath.Join(dir, "report.xml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases, err := parseJUnit(f, MaxReportSize)
	if err != nil {
		t.Fatal(err)
	}
	got := outcomes(cases)
	// The same suite as the -rA summary gives, named classname::name, and
	// with the skip visible (JUnit names skipped cases).
	for id, want := range map[string]string{
		"tests.test_a::test_pass": "PASS", "tests.test_a::test_fail": "FAIL", "tests.test_a::test_error": "ERROR",
		"tests.test_a::test_teardown": "FAIL", "tests.test_a::test_skip": "SKIP", "tests.test_a::test_xfail": "PASS",
		"tests.test_a::test_xpass": "PASS", "tests.test_a::test_xpass_strict": "FAIL",
		"tests.test_a::test_param[c - d]": "FAIL", "tests.test_a.TestK::test_m": "PASS",
	} {
		if got[id] != want {
			t.Errorf("%s: %q, want %q", id, got[id], want)
		}
	}
	// The file that fails collection is an errored case of its own.
	if got["tests.test_bad"] != "ERROR" {
		t.Errorf("collection error: cases %v, want tests.test_bad ERROR", got)
	}
}

func TestJUnitParser(t *testing.T) {
	captured, err := os.ReadFile("testdata/pytest-junit.xml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		xml   string
		cases map[string]string
		err   string
	}{
		{name: "captured pytest report", xml: string(captured), cases: map[string]string{
			"tests.test_a::test_pass": "PASS", "tests.test_a::test_fail": "FAIL", "tests.test_a::test_error": "ERROR",
			"tests.test_a::test_teardown": "FAIL", "tests.test_a::test_skip": "SKIP", "tests.test_a::test_skip_mark": "SKIP",
			"tests.test_a::test_xfail": "PASS", "tests.test_a::test_xpass": "PASS", "tests.test_a::test_xpass_strict": "FAIL",
			"tests.test_a::test_param[a b]": "PASS", "tests.test_a::test_param[c - d]": "FAIL", "tests.test_a::test_param[e[f]]": "PASS",
			"tests.test_a.TestK::test_m": "PASS",
		}},
		{name: "nested suites, no classname, surefire reruns", xml: `<?xml version="1.0"?>
<testsuites><testsuite name="outer"><testsuite name="inner">
<testcase name="bare"><system-out>x</system-out></testcase>
<testcase classname="C" name="flaky"><flakyFailure message="once"/></testcase>
<testcase classname="C" name="both"><failure/><error/></testcase>
</testsuite></testsuite></testsuites>`,
			cases: map[string]string{"bare": "PASS", "C::flaky": "PASS", "C::both": "FAIL"}},
		{name: "a single testsuite root", xml: `<testsuite><testcase classname="a" name="b"><skipped/></testcase></testsuite>`,
			cases: map[string]string{"a::b": "SKIP"}},
		{name: "cut short", xml: `<testsuite><testcase classname="a" name="b"/><testcase classname="a" name="c">`,
			cases: map[string]string{"a::b": "PASS"}, err: "not valid XML"},
		{name: "not XML", xml: "PASS everything", cases: map[string]string{}, err: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseJUnit(strings.NewReader(tc.xml), MaxReportSize)
			if fmt.Sprint(outcomes(got)) != fmt.Sprint(tc.cases) {
				t.Errorf("cases\n got %v\nwant %v", outcomes(got), tc.cases)
			}
			if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("error %v, want one saying %q", err, tc.err)
			}
		})
	}
}

func TestJUnitSizeCap(t *testing.T) {
	// A report bigger than the cap: a valid start, then endless padding.
	head := `<testsuite><testcase classname="a" name="b"/><testcase classname="a" name="c"><system-out>`
	r := io.MultiReader(strings.NewReader(head), &repeatReader{b: bytes.Repeat([]byte("x"), 1<<16)})
	got, err := parseJUnit(r, 1<<20)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("error %v, want the size cap", err)
	}
	if fmt.Sprint(outcomes(got)) != "map[a::b:PASS]" {
		t.Errorf("cases %v, want a::b PASS", outcomes(got))
	}
}

// repeatReader yields b forever without holding more than b.
type repeatReader struct{ b []byte }

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], r.b)
	}
	return n, nil
}
