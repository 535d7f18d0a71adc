package executor

import (
	"bytes"
	"fmt"
	"github.com/bestpatch/bestpatch/executor/executortest"
	"os"
	"os/exec"
	"strings"
	"testing"
)

var wantScratchBroken = []string{
	"example.com/scratch/buildfail",
	"example.com/scratch/libfail",
	"example.com/scratch/mainexit",
	"example.com/scratch/setupfail",
	"example.com/scratch/uses",
}

// goTestOutput runs the scratch module's tests with the real go command,
// stdout and stderr merged as run.sh merges them, and extra environment.
func goTestOutput(t testing.TB, env ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	executortest.WriteFiles(t, dir, executortest.ScratchModule)
	cmd := exec.Command("bash", "-c", executortest.ScratchCommand+" 2>&1")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{"GOTOOLCHAIN=local"}, env...)...)
	out, err := cmd.Output()
	if _, failed := err.(*exec.ExitError); err != nil && !failed {
		t.Fatalf("go test: %v", err)
	}
	return out
}

func TestGoTestRealOutput(t *testing.T) {
	forms := []struct{ name, godebug string }{
		{"build events (Go 1.24+)", ""},
		{"build failures as text", "GODEBUG=gotestjsonbuildtext=1"},
	}
	for _, form := range forms {
		t.Run(form.name, func(t *testing.T) {
			t.Parallel()
			out := goTestOutput(t, form.godebug)
			cases, broken, err := parseOutput(GoJSON, out)
			if err != nil {
				t.Fatal(err)
			}
			if got := outcomes(cases); fmt.Sprint(got) != fmt.Sprint(executortest.WantScratchCases) {
				t.Errorf("cases\n got %v\nwant %v", got, executortest.WantScratchCases)
			}
			if fmt.Sprint(broken) != fmt.Sprint(wantScratchBroken) {
				t.Errorf("broken %v, want %v", broken, wantScratchBroken)
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
}

// The files build errors point at, read from real go output in both forms
// (never from a test's own log lines, which look the same).
func TestGoTestBrokenFiles(t *testing.T) {
	for _, godebug := range []string{"", "GODEBUG=gotestjsonbuildtext=1"} {
		t.Run(godebug, func(t *testing.T) {
			t.Parallel()
			out := goTestOutput(t, godebug)
			p := newGoTestParser()
			s := NewLineSplitter(MaxLine, p.line)
			s.Write(out)
			s.Close()
			// fine_test.go, in buildfail too, builds: not named.
			want := []string{"buildfail/b_test.go", "libfail/lib.go", "setupfail/s_test.go"}
			if got := p.brokenFiles(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("broken files %v, want %v\n%s", got, want, out)
			}
		})
	}
}

func TestGoTestParser(t *testing.T) {
	captured := func(name string) string {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	ev := func(action, pkg, test string) string {
		return fmt.Sprintf(`{"Action":%q,"Package":%q,"Test":%q}`, action, pkg, test)
	}
	cases := []struct {
		name   string
		out    string
		cases  map[string]string
		broken []string
	}{
		{name: "captured, build events", out: captured("gotest-json.txt"), cases: map[string]string{
			"example.com/scratch/ok::TestPass": "PASS", "example.com/scratch/ok::TestFail": "FAIL", "example.com/scratch/ok::TestSkip": "SKIP",
			"example.com/scratch/ok::TestSub": "FAIL", "example.com/scratch/ok::TestSub/good": "PASS", "example.com/scratch/ok::TestSub/bad_case": "FAIL",
			"example.com/scratch/ok::TestSub/nested": "PASS", "example.com/scratch/ok::TestSub/nested/deep": "PASS",
			"example.com/scratch/ok::TestParallel": "PASS", "example.com/scratch/ok::TestParallel/a": "PASS", "example.com/scratch/ok::TestParallel/b": "PASS",
			"example.com/scratch/panicky::TestA": "PASS", "example.com/scratch/panicky::TestB": "FAIL", "example.com/scratch/panicky::TestB/inner": "FAIL",
			"example.com/scratch/timeouty::TestQuick": "PASS", "example.com/scratch/timeouty::TestSlow": "FAIL",
		}, broken: []string{"example.com/scratch/buildfail", "example.com/scratch/libfail", "example.com/scratch/uses"}},
		{name: "plain-text build failure line (old go)", out: "# example.com/m/p\np/x.go:1: bad\nFAIL\texample.com/m/p [build failed]\n" + ev("pass", "example.com/m/q", "TestQ"),
			cases: map[string]string{"example.com/m/q::TestQ": "PASS"}, broken: []string{"example.com/m/p"}},
		{name: "paused parallel tests did not run", out: strings.Join([]string{
			ev("run", "p", "TestP"), ev("run", "p", "TestP/a"), ev("pause", "p", "TestP/a"), ev("run", "p", "TestP/b"),
			`{"Action":"output","Package":"p","Test":"TestP/b","Output":"panic: test timed out after 1s\n"}`, ev("fail", "p", ""),
		}, "\n"), cases: map[string]string{"p::TestP": "FAIL", "p::TestP/b": "FAIL"}},
		{name: "repeated runs keep the worst", out: strings.Join([]string{ev("pass", "p", "TestA"), ev("fail", "p", "TestA"), ev("pass", "p", "TestA"), ev("pass", "p", "")}, "\n"),
			cases: map[string]string{"p::TestA": "FAIL"}},
		{name: "noise and cut lines", out: "{not json\n" + `{"Action":"pass","Package":"p","Test":"TestA"` + "\n\x00\xff\n" + ev("pass", "p", "TestB") + "\r\n",
			cases: map[string]string{"p::TestB": "PASS"}},
		{name: "package skipped (no test files) is not broken", out: ev("skip", "p", ""), cases: map[string]string{}},
		{name: "last line without newline", out: ev("pass", "p", "TestA"), cases: map[string]string{"p::TestA": "PASS"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, broken, err := parseOutput(GoJSON, []byte(tc.out))
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(outcomes(got)) != fmt.Sprint(tc.cases) {
				t.Errorf("cases\n got %v\nwant %v", outcomes(got), tc.cases)
			}
			if fmt.Sprint(broken) != fmt.Sprint(tc.broken) && !(len(broken) == 0 && len(tc.broken) == 0) {
				t.Errorf("broken %v, want %v", broken, tc.broken)
			}
		})
	}
}

// BenchmarkParseGoJSON measures the go test -json parser on captured real
// output, through the line splitter as a run feeds it.
func BenchmarkParseGoJSON(b *testing.B) {
	one, err := os.ReadFile("testdata/gotest-json.txt")
	if err != nil {
		b.Fatal(err)
	}
	// Many packages' worth: rename the packages so they do not merge.
	var buf bytes.Buffer
	for i := range 200 {
		buf.Write(bytes.ReplaceAll(one, []byte("example.com/scratch/"), fmt.Appendf(nil, "example.com/scratch%d/", i)))
	}
	out := buf.Bytes()
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		p := newGoTestParser()
		s := NewLineSplitter(MaxLine, p.line)
		for rest := out; len(rest) > 0; {
			n := min(len(rest), 32<<10)
			s.Write(rest[:n])
			rest = rest[n:]
		}
		s.Close()
		if cases, _, _ := p.finish(); len(cases) == 0 {
			b.Fatal("no cases")
		}
	}
}
