package generator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/bench/testsubject"
	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/local"
	"github.com/bestpatch/bestpatch/executor/outcome"
)

// localBase runs the base commit of a local repository with real go test,
// through the Local executor, as the selector does.
type localBase struct {
	exec *local.Executor
	repo string

	mu   sync.Mutex
	runs [][]string // test IDs of each run
	// memo replays a run of the same tests, as the selector's run cache does.
	memo map[string]executor.Result
}

func (b *localBase) RunBase(ctx context.Context, tests []executor.TestPatch) (executor.Result, error) {
	ids := []string{}
	for _, t := range tests {
		ids = append(ids, t.ID)
	}
	key := fmt.Sprint(tests)
	b.mu.Lock()
	b.runs = append(b.runs, ids)
	res, ok := b.memo[key]
	b.mu.Unlock()
	if ok {
		return res, nil
	}
	res, err := b.exec.Run(ctx, executor.Run{
		Env:     executor.Environment{Repo: b.repo},
		Tests:   tests,
		Command: "go test -json -count=1 ./...",
		Format:  executor.GoJSON,
		Timeout: 5 * time.Minute,
	})
	if err == nil {
		b.mu.Lock()
		b.memo[key] = res
		b.mu.Unlock()
	}
	return res, err
}

// uuidTask builds the uuid subject (github.com/google/uuid from the module
// proxy with a bug injected: Parse does not check the fourth hyphen) and its
// context as the selector would gather it.
func uuidTask(t *testing.T) (*testsubject.Subject, Context) {
	t.Helper()
	s, err := testsubject.UUID(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var patches []string
	for _, c := range s.Candidates {
		patches = append(patches, c.Patch)
	}
	c, err := GatherContext(t.Context(), GitCheckout{Dir: s.Repo}, Go, patches)
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

const uuidProblem = "uuid.Parse accepts a 36-character UUID whose fourth hyphen (at index 23) is another character, e.g. \"f47ac10b-58cc-0372-8567x0e02b2c3d479\". It must return an error."

func goAnswer(path, body string) string {
	return "Here is a test that reproduces the issue.\n\nFile: " + path + "\n```go\n" + body + "```\n"
}

const (
	reproBody = `package uuid

import "testing"

func TestReproFourthHyphen(t *testing.T) {
	if _, err := Parse("f47ac10b-58cc-0372-8567x0e02b2c3d479"); err == nil {
		t.Fatal("Parse accepted a UUID without its fourth hyphen")
	}
}
`
	passingBody = `package uuid

import "testing"

func TestReproValid(t *testing.T) {
	if _, err := Parse("f47ac10b-58cc-0372-8567-0e02b2c3d479"); err != nil {
		t.Fatal(err)
	}
}
`
	brokenBody = `package uuid

import "testing"

func TestReproStrict(t *testing.T) {
	if ParseStrict("f47ac10b-58cc-0372-8567x0e02b2c3d479") == nil {
		t.Fatal("no error")
	}
}
`
	repairedBody = `package uuid

import "testing"

func TestReproStrict(t *testing.T) {
	for _, s := range []string{"f47ac10b-58cc-0372-8567x0e02b2c3d479", "urn:uuid:f47ac10b-58cc-0372-8567x0e02b2c3d479"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) succeeded", s)
		}
	}
}
`
	syntaxErrorBody = "package uuid\n\nimport \"testing\"\n\nfunc TestReproSyntax(t *testing.T) {\n\tif {\n}\n"
)

func TestTestWriterValidatesOnTheBaseCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test on a real module")
	}
	s, c := uuidTask(t)
	var repairPrompts sync.Map // test slot -> the repair message
	f := newFakeLLM(t, func(_ int, req ChatRequest) reply {
		slot := *req.Seed
		repair := len(req.Messages) > 2
		if repair {
			repairPrompts.Store(slot, req.Messages[len(req.Messages)-1].Content)
		}
		switch slot {
		case 1:
			return reply{content: goAnswer("uuid_repro_test.go", reproBody)}
		case 2:
			return reply{content: goAnswer("uuid_valid_test.go", passingBody)}
		case 3:
			if repair {
				return reply{content: "Sorry, fixed:\n```go\n" + repairedBody + "```\n"}
			}
			return reply{content: goAnswer("uuid_strict_test.go", brokenBody)}
		case 4:
			return reply{content: "The bug is in Parse: it never checks s[23]. Add that check."}
		case 5:
			return reply{content: goAnswer("uuid_syntax_test.go", syntaxErrorBody)}
		}
		return reply{status: 400}
	})
	runner := &localBase{exec: local.New(local.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}), repo: s.Repo, memo: map[string]executor.Result{}}
	t.Cleanup(func() { runner.exec.Close() })
	session := mustEndpoint(t, testConfig(f)).NewSession()
	w := &TestWriter{Model: session, Runner: runner, Repairs: 2}

	rep, err := w.Write(t.Context(), TestRequest{Problem: uuidProblem, Context: c, Count: 5})
	if err != nil {
		t.Fatal(err)
	}

	var kept []string
	for _, k := range rep.Kept {
		kept = append(kept, k.ID+":"+k.Path)
	}
	if got, want := strings.Join(kept, " "), "gen-1:uuid_repro_test.go gen-3:uuid_strict_test.go"; got != want {
		t.Errorf("kept %s, want %s", got, want)
	}
	dropped := map[string]DropReason{}
	for _, d := range rep.Dropped {
		dropped[d.ID] = d.Reason
		t.Logf("dropped %s (%s): %s: %.200s", d.ID, d.Path, d.Reason, d.Detail)
	}
	want := map[string]DropReason{"gen-2": DropPassesOnBase, "gen-4": DropMalformed, "gen-5": DropNotCompiling}
	if fmt.Sprint(dropped) != fmt.Sprint(want) {
		t.Errorf("dropped %v, want %v", dropped, want)
	}
	// The compile error reached the model.
	if p, ok := repairPrompts.Load(int64(3)); !ok || !strings.Contains(p.(string), "ParseStrict") {
		t.Errorf("repair prompt for gen-3 = %v, want the build output naming ParseStrict", p)
	}
	// A syntax error is repaired without a run, up to the bound.
	if p, ok := repairPrompts.Load(int64(5)); !ok || !strings.Contains(p.(string), "missing condition in if statement") {
		t.Errorf("repair prompt for gen-5 = %v, want the parser's message", p)
	}
	// Round 1: all of gen-1..3 together; the package did not build, so each
	// alone, and the base once without tests; round 2: the repaired gen-3.
	wantRuns := "[[gen-1 gen-2 gen-3] [gen-1] [gen-2] [gen-3] [] [gen-3]]"
	if fmt.Sprint(runner.runs) != wantRuns {
		t.Errorf("base runs %v, want %s", runner.runs, wantRuns)
	}
	if rep.BaseRuns != 6 || rep.Repairs != 3 {
		t.Errorf("report counts %d base runs and %d repairs, want 6 and 3", rep.BaseRuns, rep.Repairs)
	}
	// 5 tests + 1 repair of gen-3 + 2 repairs of gen-5.
	if got := len(f.requests()); got != 8 {
		t.Errorf("model requests = %d, want 8", got)
	}

	// The kept tests are patches the executor applies, and gen-1 fails on
	// base (it reproduces) and passes with the fix.
	fix := s.Candidates[0]
	if fix.ID != "fix" {
		t.Fatalf("first uuid candidate is %s, want fix", fix.ID)
	}
	res, err := runner.exec.Run(t.Context(), executor.Run{
		Env: executor.Environment{Repo: s.Repo}, Patch: fix.Patch, Tests: []executor.TestPatch{rep.Kept[0].TestPatch, rep.Kept[1].TestPatch},
		Command: "go test -json -count=1 ./...", Format: executor.GoJSON, Timeout: 5 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range rep.Kept {
		cases := k.Cases(res)
		if len(cases) == 0 {
			t.Errorf("%s: no cases with the fix", k.ID)
		}
		for _, c := range cases {
			if c.Outcome != outcome.Pass {
				t.Errorf("%s: %s is %s with the fix, want PASS", k.ID, c.ID, c.Outcome)
			}
		}
	}

	// Re-running the job costs nothing: every answer comes from the cache
	// (and the base runs from the runner's memo).
	before := len(f.requests())
	again := mustEndpoint(t, testConfig(f)).NewSession()
	again.endpoint.cache = session.endpoint.cache
	w.Model = again
	if _, err := w.Write(t.Context(), TestRequest{Problem: uuidProblem, Context: c, Count: 5}); err != nil {
		t.Fatal(err)
	}
	if got := len(f.requests()); got != before {
		t.Errorf("re-run sent %d requests, want 0", got-before)
	}
	if sp := again.Spent(); sp.Requests != 0 || sp.Cached != 8 {
		t.Errorf("re-run spent %+v, want 0 requests and 8 cached", sp)
	}
}

func TestTestWriterStopsAtTheBudget(t *testing.T) {
	f := newFakeLLM(t, script(reply{content: "no code here"}))
	session := mustEndpoint(t, testConfig(f)).NewSessionWithBudget(Limits{Requests: 2})
	w := &TestWriter{Model: session, Runner: failingRunner{}}
	rep, err := w.Write(t.Context(), TestRequest{Problem: "p", Context: Context{Language: Go}, Count: 3})
	if !errors.Is(err, ErrBudgetExceeded) {
		t.Fatalf("err = %v, want ErrBudgetExceeded", err)
	}
	reasons := map[DropReason]int{}
	for _, d := range rep.Dropped {
		reasons[d.Reason]++
	}
	if reasons[DropMalformed] != 2 || reasons[DropRequestFailed] != 1 {
		t.Errorf("drops %v, want 2 malformed and 1 refused by the budget", reasons)
	}
}

// failingRunner fails the test if a base run is asked for.
type failingRunner struct{}

func (failingRunner) RunBase(context.Context, []executor.TestPatch) (executor.Result, error) {
	return executor.Result{}, errors.New("no base run expected")
}

func TestClassify(t *testing.T) {
	goTest := Test{TestPatch: executor.TestPatch{ID: "gen-1"}, Language: Go, Path: "pkg/a/a_test.go", Funcs: []string{"TestA", "TestB"}}
	pyTest := Test{TestPatch: executor.TestPatch{ID: "gen-2"}, Language: Python, Path: "tests/test_a.py"}
	c := func(id string, o outcome.Outcome) executor.Case { return executor.Case{ID: id, Outcome: o} }
	for _, tc := range []struct {
		name string
		test Test
		res  executor.Result
		kind classKind
		drop DropReason
	}{
		{"go fail reproduces", goTest, executor.Result{Cases: []executor.Case{c("example.com/m/pkg/a::TestA", outcome.Fail), c("example.com/m/pkg/a::TestB", outcome.Pass)}}, classReproduces, ""},
		{"go subtest fail reproduces", goTest, executor.Result{Cases: []executor.Case{c("example.com/m/pkg/a::TestA/sub", outcome.Fail)}}, classReproduces, ""},
		{"go all pass", goTest, executor.Result{Cases: []executor.Case{c("example.com/m/pkg/a::TestA", outcome.Pass)}}, classDrop, DropPassesOnBase},
		{"same name in another package is not ours", goTest, executor.Result{Cases: []executor.Case{c("example.com/m/pkg/b::TestA", outcome.Fail)}}, classDrop, DropDidNotRun},
		{"go package broken", goTest, executor.Result{Broken: []string{"example.com/m/pkg/a"}}, classBroken, ""},
		{"go error cases", goTest, executor.Result{Cases: []executor.Case{c("example.com/m/pkg/a::TestA", outcome.Error)}}, classErrored, ""},
		{"go skipped", goTest, executor.Result{Cases: []executor.Case{c("example.com/m/pkg/a::TestA", outcome.Skip)}}, classDrop, DropSkipped},
		{"not applied", goTest, executor.Result{TestsApplied: map[string]bool{"gen-1": false}}, classDrop, DropNotApplied},
		{"not run", goTest, executor.Result{Cases: []executor.Case{c("example.com/m/pkg/a::TestOther", outcome.Fail)}}, classDrop, DropDidNotRun},
		{"timed out", goTest, executor.Result{Status: executor.TimedOut}, classTimedOut, DropTimedOut},
		{"pytest fail", pyTest, executor.Result{Cases: []executor.Case{c("tests/test_a.py::test_x[1]", outcome.Fail)}}, classReproduces, ""},
		{"pytest rootdir below the repository", Test{Language: Python, Path: "src/tests/test_a.py"}, executor.Result{Cases: []executor.Case{c("tests/test_a.py::TestK::test_x", outcome.Fail)}}, classReproduces, ""},
		{"pytest pass", pyTest, executor.Result{Cases: []executor.Case{c("tests/test_a.py::test_x", outcome.Pass)}}, classDrop, DropPassesOnBase},
		{"pytest collection error", pyTest, executor.Result{Broken: []string{"tests/test_a.py"}}, classBroken, ""},
		{"pytest other file", pyTest, executor.Result{Cases: []executor.Case{c("tests/test_b.py::test_x", outcome.Fail)}}, classDrop, DropDidNotRun},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.test, tc.res)
			if got.kind != tc.kind || got.drop != tc.drop {
				t.Errorf("classify = %+v, want kind %d drop %q", got, tc.kind, tc.drop)
			}
		})
	}
}

// TestClassifyByFormat: a Python test's cases are attributed the way its
// format names them: Django's "method (module.Class[.method])" descriptions
// by the file's module and the methods newTest found, a module that did not
// import by its label; sympy's "file::name" by the file.
func TestClassifyByFormat(t *testing.T) {
	djangoSrc := "from django.test import SimpleTestCase\n\n\nclass GenTests(SimpleTestCase):\n    def test_strip(self):\n        self.assertEqual(1, 2)\n\n    def helper(self):\n        pass\n"
	dj, err := newTest("gen-1", Context{Language: Python, Format: executor.Django}, SourceFile{Path: "tests/utils_tests/test_gen.py", Content: djangoSrc})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(dj.Funcs) != "[test_strip]" || dj.Format != executor.Django {
		t.Fatalf("django test: funcs %v, format %q", dj.Funcs, dj.Format)
	}
	sy, err := newTest("gen-1", Context{Language: Python, Format: executor.Sympy}, SourceFile{Path: "sympy/ntheory/tests/test_gen.py", Content: "def test_pad():\n    assert False\n"})
	if err != nil {
		t.Fatal(err)
	}
	c := func(id string, o outcome.Outcome) executor.Case { return executor.Case{ID: id, Outcome: o} }
	for _, tc := range []struct {
		name string
		test Test
		res  executor.Result
		kind classKind
		drop DropReason
	}{
		{"django fail (Python 3.11+)", dj, executor.Result{Cases: []executor.Case{c("test_strip (utils_tests.test_gen.GenTests.test_strip)", outcome.Fail)}}, classReproduces, ""},
		{"django fail (older Python)", dj, executor.Result{Cases: []executor.Case{c("test_strip (utils_tests.test_gen.GenTests)", outcome.Fail)}}, classReproduces, ""},
		{"django pass", dj, executor.Result{Cases: []executor.Case{c("test_strip (utils_tests.test_gen.GenTests.test_strip)", outcome.Pass)}}, classDrop, DropPassesOnBase},
		{"django same method in another module", dj, executor.Result{Cases: []executor.Case{c("test_strip (utils_tests.test_text.T.test_strip)", outcome.Fail)}}, classDrop, DropDidNotRun},
		{"django docstring title", dj, executor.Result{Cases: []executor.Case{c("Strips the dashes.", outcome.Fail)}}, classDrop, DropDidNotRun},
		{"django import failure", dj, executor.Result{Broken: []string{"utils_tests.test_gen"}}, classBroken, ""},
		{"sympy fail", sy, executor.Result{Cases: []executor.Case{c("sympy/ntheory/tests/test_gen.py::test_pad", outcome.Fail)}}, classReproduces, ""},
		{"sympy import failure", sy, executor.Result{Broken: []string{"sympy/ntheory/tests/test_gen.py"}}, classBroken, ""},
		{"sympy other file", sy, executor.Result{Cases: []executor.Case{c("sympy/ntheory/tests/test_digits.py::test_pad", outcome.Fail)}}, classDrop, DropDidNotRun},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.test, tc.res)
			if got.kind != tc.kind || got.drop != tc.drop {
				t.Errorf("classify = %+v, want kind %d drop %q", got, tc.kind, tc.drop)
			}
		})
	}
}

// TestPromptFollowsTheFormat: the test writer asks for a test in the style
// the task's runner collects (Django's unittest classes, sympy's plain
// functions), pytest's otherwise.
func TestPromptFollowsTheFormat(t *testing.T) {
	for _, c := range []struct {
		format       executor.Format
		want, absent string
	}{
		{executor.Django, "django.test.SimpleTestCase", "Use pytest"},
		{executor.Sympy, "sympy.testing.pytest", "Use pytest"},
		{executor.Pytest, "Use pytest", "SimpleTestCase"},
		{"", "Use pytest", "SimpleTestCase"},
	} {
		msgs := testWriterPrompt("the issue", Context{Language: Python, Format: c.format})
		text := msgs[len(msgs)-1].Content
		if !strings.Contains(text, c.want) || strings.Contains(text, c.absent) {
			t.Errorf("%q: the prompt does not ask for %q (or asks for %q):\n%s", c.format, c.want, c.absent, text)
		}
	}
}

func TestGoTestFuncs(t *testing.T) {
	src := `package a

import "testing"

func TestA(t *testing.T) {}
func Test(t *testing.T) {}
func TestÜber(t *testing.T) {}
func Testlower(t *testing.T) {}
func helper(t *testing.T) {}
func TestTwoArgs(t *testing.T, x int) {}
func (s suite) TestMethod(t *testing.T) {}
func BenchmarkA(b *testing.B) {}
`
	got, err := goTestFuncs("a_test.go", src)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[TestA Test TestÜber]" {
		t.Errorf("funcs = %v", got)
	}
}

func TestNewFilePatchApplies(t *testing.T) {
	dir := t.TempDir()
	if _, err := testsubject.Git(dir, "init", "-q"); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"a/x_test.go": "package a\n\nfunc f() {}\n", "tests/test_y.py": "def test_y():\n    assert True\n"} {
		patch := newFilePatch(name, content)
		if err := testsubject.NewFile("p.patch", patch)(dir); err != nil {
			t.Fatal(err)
		}
		if _, err := testsubject.Git(dir, "apply", "--check", "p.patch"); err != nil {
			t.Errorf("%s: git apply rejects the patch: %v\n%s", name, err, patch)
		}
	}
}
