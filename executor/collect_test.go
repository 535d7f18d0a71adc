package executor

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestCollectorStatus(t *testing.T) {
	pass := "=== short test summary info ===\nPASSED t::a\n=== end ===\n"
	cases := []struct {
		name           string
		format         Format
		stdout, stderr string
		report         *string // nil: no report read
		status         Status
		reason         string
		check          func(t *testing.T, r Result)
	}{
		{name: "completed", format: Pytest, stdout: pass, stderr: "bestpatch:apply=git-apply\nbestpatch:exit=1\n", status: Completed,
			check: func(t *testing.T, r Result) {
				if r.Applied != "git apply" || r.ExitCode != 1 || len(r.Cases) != 1 {
					t.Errorf("applied %q exit %d cases %v", r.Applied, r.ExitCode, r.Cases)
				}
			}},
		{name: "apply failed quotes git", format: Pytest, stderr: "error: corrupt patch at line 3\nbestpatch:apply=failed\n", status: ApplyFailed, reason: "corrupt patch at line 3"},
		{name: "empty", format: Pytest, stderr: "bestpatch:apply=patch-fuzz\nbestpatch:empty\n", status: EmptyPatch, reason: "changes nothing",
			check: func(t *testing.T, r Result) {
				if r.Applied != "patch --fuzz" {
					t.Errorf("applied %q", r.Applied)
				}
			}},
		{name: "refused in the sandbox", format: Pytest, stderr: "bestpatch:refused=the patch writes x/y through x, a symbolic link\n", status: ApplyFailed, reason: "refused before it was applied: the patch writes x/y through x"},
		{name: "timeout keeps partial results", format: Pytest, stdout: pass, stderr: "bestpatch:timeout\nbestpatch:exit=137\n", status: TimedOut, reason: "(2m0s)",
			check: func(t *testing.T, r Result) {
				if len(r.Cases) != 1 {
					t.Errorf("cases %v", r.Cases)
				}
			}},
		{name: "infra marker", format: Pytest, stderr: "fatal: x\nbestpatch:infra=cannot reset the work tree\n", status: Infra, reason: "cannot reset the work tree\nfatal: x"},
		{name: "script died", format: Pytest, stdout: pass, stderr: "bestpatch:apply=git-apply\n", status: Infra, reason: "stopped before the test command finished"},
		{name: "no results", format: GoJSON, stdout: "ok  \tpkg\t0.1s\n", stderr: "bestpatch:exit=0\n", status: Infra, reason: "no test results in the output: check test_command and test_format (go-json)"},
		{name: "summary not read in full", format: Pytest, stdout: "=== short test summary info ===\nPASSED t.py::a\n=== 2 passed in 0.1s ===\n", stderr: "bestpatch:exit=0\n", status: Infra, reason: `format "pytest": pytest's totals count 2 results`},
		{name: "broken units alone are results", format: GoJSON, stdout: "FAIL\tpkg [build failed]\n", stderr: "bestpatch:exit=1\n", status: Completed,
			check: func(t *testing.T, r Result) {
				if fmt.Sprint(r.Broken) != "[pkg]" {
					t.Errorf("broken %v", r.Broken)
				}
			}},
		{name: "tests applied, test files undone", format: Pytest, stdout: pass, status: Completed,
			stderr: "bestpatch:test-apply=ok gen 1\nbestpatch:test-apply=failed gen2\nbestpatch:exit=0",
			check: func(t *testing.T, r Result) {
				if fmt.Sprint(r.TestsApplied) != "map[gen 1:true gen2:false]" || fmt.Sprint(r.Restored) != "[a b_test.go]" {
					t.Errorf("tests applied %v restored %q", r.TestsApplied, r.Restored)
				}
			}},
		{name: "junit report", format: JUnit, stdout: "anything\n", stderr: "bestpatch:exit=1\n", report: ptr(`<testsuite><testcase classname="c" name="n"><failure/></testcase></testsuite>`), status: Completed,
			check: func(t *testing.T, r Result) {
				if fmt.Sprint(outcomes(r.Cases)) != "map[c::n:FAIL]" {
					t.Errorf("cases %v", r.Cases)
				}
			}},
		{name: "junit report missing", format: JUnit, stderr: "bestpatch:report=missing r.xml\nbestpatch:exit=2\n", status: Infra, reason: "no JUnit report at r.xml"},
		{name: "junit report not collected", format: JUnit, stderr: "bestpatch:exit=0\n", status: Infra, reason: "not collected"},
		{name: "junit report broken", format: JUnit, stderr: "bestpatch:exit=0\n", report: ptr("<testsuite><testcase"), status: Infra, reason: "cannot be read"},
		{name: "junit report without cases", format: JUnit, stderr: "bestpatch:exit=0\n", report: ptr("<testsuite/>"), status: Infra, reason: "no test results"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := Stage{Timeout: 2 * time.Minute, Report: "r.xml", Undone: []string{"a b_test.go"}}
			c, err := NewCollector(tc.format, st)
			if err != nil {
				t.Fatal(err)
			}
			// Byte by byte: lines cut anywhere must still be read whole.
			for i := range len(tc.stdout) {
				c.Stdout().Write([]byte{tc.stdout[i]})
			}
			for i := range len(tc.stderr) {
				c.Stderr().Write([]byte{tc.stderr[i]})
			}
			if tc.report != nil {
				c.ReadReport(strings.NewReader(*tc.report))
			}
			r := c.Result()
			if r.Status != tc.status || !strings.Contains(r.Reason, tc.reason) {
				t.Fatalf("status %q reason %q, want %q saying %q", r.Status, r.Reason, tc.status, tc.reason)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
	if _, err := NewCollector("tap", Stage{}); err == nil {
		t.Error("an unknown format makes a collector")
	}
}

func ptr[T any](v T) *T { return &v }

func TestLineSplitter(t *testing.T) {
	type line struct {
		text      string
		truncated bool
	}
	cases := []struct {
		name   string
		writes []string
		want   []line
	}{
		{"whole lines", []string{"a\nb\n"}, []line{{"a", false}, {"b", false}}},
		{"split across writes", []string{"ab", "c\nd", "e\n"}, []line{{"abc", false}, {"de", false}}},
		{"no final newline", []string{"a\nbc"}, []line{{"a", false}, {"bc", false}}},
		{"crlf", []string{"a\r\n\r\n"}, []line{{"a", false}, {"", false}}},
		{"long line cut", []string{"0123456789\nok\n"}, []line{{"01234", true}, {"ok", false}}},
		{"long line over writes", []string{"012", "345", "678", "9\nok"}, []line{{"01234", true}, {"ok", false}}},
		{"long last line", []string{"0123456789"}, []line{{"01234", true}}},
		{"exactly max", []string{"01234\n"}, []line{{"01234", false}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []line
			s := NewLineSplitter(5, func(b []byte, tr bool) { got = append(got, line{string(b), tr}) })
			for _, w := range tc.writes {
				if n, err := s.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			s.Close()
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestExcerpt(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 5, 16, 17, 40, 1000} {
		data := make([]byte, size)
		for i := range data {
			data[i] = 'a' + byte(i%26)
		}
		e := excerpt{headMax: 8, tailMax: 8}
		for rest := data; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(20))
			e.Write(rest[:n])
			rest = rest[n:]
		}
		want := string(data)
		if size > 16 {
			want = string(data[:8]) + fmt.Sprintf("\n[... bestpatch: %d bytes of output omitted ...]\n", size-16) + string(data[size-8:])
		}
		if got := e.String(); got != want {
			t.Errorf("size %d: %q, want %q", size, got, want)
		}
	}
	e := excerpt{headMax: 4, tailMax: 4}
	e.Write([]byte("\xff\xfeab\xe9"))
	if !utf8.ValidString(e.String()) || !strings.Contains(e.String(), "ab") {
		t.Errorf("invalid UTF-8 not replaced: %q", e.String())
	}
}

// BenchmarkCollect100MB feeds 100 MB of output (lines, then one huge line)
// through a collector and reports the heap in use at the end next to the
// bytes fed: it stays near MaxLine + the excerpt, not near 100 MB.
func BenchmarkCollect100MB(b *testing.B) {
	const total = 100 << 20
	chunk := bytes.Repeat([]byte("y\n"), 32<<10)
	long := bytes.Repeat([]byte("a"), 64<<10)
	b.SetBytes(2 * total)
	b.ReportAllocs()
	var before, after runtime.MemStats
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&before)
		c, _ := NewCollector(Pytest, Stage{})
		for n := 0; n < total; n += len(chunk) {
			c.Stdout().Write(chunk)
		}
		for n := 0; n < total; n += len(long) {
			c.Stdout().Write(long)
		}
		c.Stderr().Write([]byte("bestpatch:exit=0\n"))
		runtime.ReadMemStats(&after)
		if r := c.Result(); len(r.Output) > 2*ExcerptHalf+200 {
			b.Fatalf("output %d bytes", len(r.Output))
		}
	}
	b.ReportMetric(float64(int64(after.HeapInuse)-int64(before.HeapInuse))/(1<<20), "heap-MiB")
}
