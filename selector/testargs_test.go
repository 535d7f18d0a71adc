package selector

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/outcome"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector/swebench/logparser"
)

func modPatch(file string) string {
	return "diff --git a/" + file + " b/" + file + "\n--- a/" + file + "\n+++ b/" + file + "\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
}

func argsPlan(t *testing.T, args *TestArgs, cands ...scoring.Candidate) *Plan {
	t.Helper()
	job := Job{ID: "j", Candidates: cands, Task: Task{
		ID: "django__django-1", Env: executor.Environment{Image: "img", Workdir: "/testbed", Activate: "source a"},
		TestCommand: "./tests/runtests.py --verbosity 2", Format: executor.Django,
		TestFiles: []string{"tests/*"}, TestArgs: args,
	}}
	p, err := NewPlan(job)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func listing(files ...string) executor.Result {
	r := executor.Result{Status: executor.Completed}
	for _, f := range files {
		r.Cases = append(r.Cases, executor.Case{ID: f, Outcome: outcome.Pass})
	}
	return r
}

func TestPlanOriginalArgs(t *testing.T) {
	p := argsPlan(t, &TestArgs{Original: []string{"utils_tests.test_text", "a b"}}, scoring.Candidate{ID: "c", Patch: modPatch("django/utils/text.py")})
	for _, r := range p.Needed() {
		if r.ID == ListRunID {
			t.Fatal("fixed arguments need no listing")
		}
		if want := "./tests/runtests.py --verbosity 2 utils_tests.test_text 'a b'"; r.Run.Command != want {
			t.Errorf("%s: command %q, want %q", r.ID, r.Run.Command, want)
		}
	}
	if _, err := NewPlan(Job{ID: "j", Candidates: []scoring.Candidate{{ID: "c", Patch: fixPatch}}, Task: Task{
		ID: "t", Env: executor.Environment{Repo: "/r"}, TestCommand: "pytest", Format: executor.Pytest, TestArgs: &TestArgs{},
	}}); err == nil || !strings.Contains(err.Error(), "run every test") {
		t.Errorf("empty test args: %v", err)
	}
}

func TestPlanRelatedArgs(t *testing.T) {
	cands := []scoring.Candidate{
		{ID: "a", Patch: modPatch("django/utils/text.py")},
		// A change to a test file is undone before the tests: not a module.
		{ID: "b", Patch: modPatch("django/core/validators.py") + modPatch("tests/validators/tests.py")},
		{ID: "c", Patch: modPatch("django/contrib/nothing.py")},
	}
	p := argsPlan(t, &TestArgs{Related: "django", ListPatterns: []string{"tests/*.py"}}, cands...)
	need := p.Needed()
	if len(need) != 1 || need[0].ID != ListRunID {
		t.Fatalf("first needed %v, want only the listing", ids(need))
	}
	lr := need[0].Run
	if lr.Command != "git ls-files -- 'tests/*.py'" || lr.Format != executor.Listing || lr.Patch != "" || lr.Env.Image != "img" {
		t.Errorf("listing run %+v", lr)
	}
	if p.Done() || p.halted() != "" {
		t.Fatal("a job waiting for its listing is neither done nor halted")
	}
	record(t, p, ListRunID, listing("tests/utils_tests/test_text.py", "tests/validators/tests.py", "tests/other/tests.py"))
	need = p.Needed()
	if len(need) == 0 {
		t.Fatal("nothing needed after the listing")
	}
	for _, r := range need {
		if want := "./tests/runtests.py --verbosity 2 utils_tests.test_text validators"; r.Run.Command != want {
			t.Errorf("%s: command %q, want %q", r.ID, r.Run.Command, want)
		}
	}
	note := p.testArgsNote()
	for _, want := range []string{"django/core/validators.py -> validators", "django/utils/text.py -> utils_tests.test_text", "no related test for django/contrib/nothing.py"} {
		if !strings.Contains(note, want) {
			t.Errorf("note %q lacks %q", note, want)
		}
	}
	// The plan replays: the same results give the same runs.
	q := p.WithResults(map[string]executor.Result{ListRunID: listing("tests/validators/tests.py", "tests/utils_tests/test_text.py")})
	a, _ := json.Marshal(need)
	b, _ := json.Marshal(q.Needed())
	if string(a) != string(b) {
		t.Errorf("replayed plan differs:\n%s\n%s", a, b)
	}
	// Another listing gives other arguments (nothing is remembered across).
	r := p.WithResults(map[string]executor.Result{ListRunID: listing("tests/utils_tests/test_text.py")})
	for _, run := range r.Needed() {
		if want := "./tests/runtests.py --verbosity 2 utils_tests.test_text"; run.Run.Command != want {
			t.Errorf("other listing: %s: command %q, want %q", run.ID, run.Run.Command, want)
		}
	}
	if !slices.Contains(ids(q.universe()), ListRunID) {
		t.Error("the listing run is not among the plan's runs")
	}
}

// TestPlanRelatedNoneAbstains: a job none of whose candidates changes a
// module with a related test, and with no generated test, runs nothing
// (never the whole suite) and abstains, saying what to use instead; so does
// a job whose listing failed.
func TestPlanRelatedNoneAbstains(t *testing.T) {
	abstained := func(t *testing.T, p *Plan) scoring.Verdict {
		t.Helper()
		if need := p.Needed(); len(need) != 0 || !p.Done() {
			t.Fatalf("needed %v: the job must not run anything", ids(need))
		}
		rep, err := Score(p)
		if err != nil {
			t.Fatalf("score: %v (want an abstained verdict, not an error)", err)
		}
		if v := rep.Verdict; v.Chosen != "" || v.Abstained == "" || v.Basis.Execution != scoring.EvidenceNone {
			t.Fatalf("chosen %q, abstained %q, basis %+v: want nothing chosen, abstained", v.Chosen, v.Abstained, v.Basis)
		}
		return rep.Verdict
	}
	p := argsPlan(t, &TestArgs{Related: "django"}, scoring.Candidate{ID: "a", Patch: modPatch("django/contrib/nothing.py")},
		scoring.Candidate{ID: "b", Patch: modPatch("django/contrib/other.py")})
	record(t, p, ListRunID, listing("tests/utils_tests/test_text.py"))
	v := abstained(t, p)
	for _, want := range []string{"no related test", "django/contrib/nothing.py", "nothing was run", "--regression-tests p2p or all", "--generate-tests"} {
		if !strings.Contains(v.Abstained, want) {
			t.Errorf("abstained %q lacks %q", v.Abstained, want)
		}
	}
	if n := len(p.Matrix().Base.Cases); n != 0 {
		t.Errorf("the base row holds %d artifacts' cases: nothing ran", n)
	}
	// In p2p, which looked for related tests because PASS_TO_PASS names no
	// file (sympy's bare names), p2p is no way out.
	job := p.Job()
	job.Task.PassToPass = &PassToPass{Tests: []string{"test_x"}, LogParser: logparser.Sympy}
	q, err := NewPlan(job)
	if err != nil {
		t.Fatal(err)
	}
	record(t, q, ListRunID, listing("tests/utils_tests/test_text.py"))
	if v := abstained(t, q); !strings.Contains(v.Abstained, "--regression-tests all") || strings.Contains(v.Abstained, "p2p or all") {
		t.Errorf("p2p without related tests: %q", v.Abstained)
	}
	// A listing that failed says so.
	p = argsPlan(t, &TestArgs{Related: "django"}, scoring.Candidate{ID: "a", Patch: modPatch("django/utils/text.py")})
	record(t, p, ListRunID, executor.Result{Status: executor.Infra, Reason: "image not found"})
	if v := abstained(t, p); !strings.Contains(v.Abstained, "listing the repository's test files") || !strings.Contains(v.Abstained, "image not found") {
		t.Errorf("failed listing: %q", v.Abstained)
	}
}

// TestPlanRelatedNoneRunsGeneratedTests: with no related test, a job with a
// generated test runs it alone; a run that would apply no generated test
// file (the original suite alone, isolated) is never executed, since its
// command would run the whole suite: it is recorded as completed with no
// case.
func TestPlanRelatedNoneRunsGeneratedTests(t *testing.T) {
	gen := "diff --git a/tests/utils_tests/test_gen.py b/tests/utils_tests/test_gen.py\nnew file mode 100644\n--- /dev/null\n+++ b/tests/utils_tests/test_gen.py\n@@ -0,0 +1,3 @@\n" +
		"+class T:\n+    def test_gen(self):\n+        pass\n"
	for _, isolate := range []bool{false, true} {
		job := Job{ID: "j", Candidates: []scoring.Candidate{{ID: "a", Patch: modPatch("django/contrib/nothing.py")}}, Task: Task{
			ID: "django__django-1", Env: executor.Environment{Image: "img"}, TestCommand: "./tests/runtests.py --verbosity 2", Format: executor.Django,
			TestArgs: &TestArgs{Related: "django"}, GeneratedTests: []GeneratedTest{{ID: "g", Patch: gen}},
		}}
		p, err := NewPlan(job)
		if err != nil {
			t.Fatal(err)
		}
		record(t, p, ListRunID, listing("tests/utils_tests/test_text.py"))
		if why := p.halted(); why != "" {
			t.Fatalf("a job with a generated test halts without related tests: %s", why)
		}
		const genCase = "test_gen (utils_tests.test_gen.T)"
		executed := map[string]bool{}
		for !p.Done() {
			for _, r := range p.Needed() {
				if want := "./tests/runtests.py --verbosity 2 utils_tests.test_gen"; r.Run.Command != want {
					t.Fatalf("%s: command %q, want %q (the generated test alone)", r.ID, r.Run.Command, want)
				}
				res := executor.Result{Status: executor.Completed, Cases: []executor.Case{{ID: genCase, Outcome: outcome.Fail}}}
				if len(r.Candidates) > 0 {
					res.Cases[0].Outcome = outcome.Pass
				}
				if isolate && r.ID == "base/1" {
					res.Broken = []string{"utils_tests.other"} // isolation runs follow
				}
				executed[r.ID] = true
				record(t, p, r.ID, res)
			}
		}
		if isolate {
			if executed["base/iso/"+OriginalArtifact] || !executed["base/iso/gen:g"] {
				t.Errorf("isolation runs executed: %v; want base/iso/gen:g and never the original suite alone", executed)
			}
			if r, ok := p.Result("base/iso/" + OriginalArtifact); !ok || r.Status != executor.Completed || len(r.Cases) != 0 {
				t.Errorf("the original suite alone: %+v %v, want recorded as completed with no case", r, ok)
			}
		}
		rep, err := Score(p)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Verdict.Chosen != "a" {
			t.Errorf("chosen %q, want a (it passes the generated test)", rep.Verdict.Chosen)
		}
		if notes := strings.Join(rep.Verdict.Notes, "\n"); !strings.Contains(notes, "no related test") || !strings.Contains(notes, "ran the generated tests alone") {
			t.Errorf("notes do not say the generated tests ran alone:\n%s", notes)
		}
	}
}

func TestPlanRelatedRefusals(t *testing.T) {
	base := Task{ID: "t", Env: executor.Environment{Repo: "/r"}, TestCommand: "pytest", Format: executor.Pytest}
	cands := []scoring.Candidate{{ID: "a", Patch: modPatch("x.py")}}
	unknown := base
	unknown.TestArgs = &TestArgs{Related: "cobol"}
	if _, err := NewPlan(Job{ID: "j", Task: unknown, Candidates: cands}); err == nil || !strings.Contains(err.Error(), "cobol") {
		t.Errorf("unknown convention: %v", err)
	}
	junit := base
	junit.Format, junit.Report = executor.JUnit, "report.xml"
	junit.TestArgs = &TestArgs{Related: "python"}
	if _, err := NewPlan(Job{ID: "j", Task: junit, Candidates: cands}); err == nil || !strings.Contains(err.Error(), "does not say how its runner names one") {
		t.Errorf("related tests with a format that cannot name a file: %v", err)
	}
}

// TestPlanGeneratedTestArgs: a run that applies a generated test also
// names its file to the runner; a run without it does not.
func TestPlanGeneratedTestArgs(t *testing.T) {
	gen := "diff --git a/pkg/tests/test_gen.py b/pkg/tests/test_gen.py\nnew file mode 100644\n--- /dev/null\n+++ b/pkg/tests/test_gen.py\n@@ -0,0 +1,2 @@\n+def test_gen():\n+    assert True\n" +
		"diff --git a/pkg/tests/data.txt b/pkg/tests/data.txt\nnew file mode 100644\n--- /dev/null\n+++ b/pkg/tests/data.txt\n@@ -0,0 +1 @@\n+x\n"
	job := Job{ID: "j", Candidates: []scoring.Candidate{{ID: "a", Patch: modPatch("pkg/mod.py")}}, Task: Task{
		ID: "t", Env: executor.Environment{Repo: "/r"}, TestCommand: "pytest -rA", Format: executor.Pytest,
		TestArgs:       &TestArgs{Original: []string{"pkg/tests/test_mod.py"}},
		GeneratedTests: []GeneratedTest{{ID: "g", Patch: gen}},
	}}
	p, err := NewPlan(job)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, r := range p.universe() {
		want := "pytest -rA pkg/tests/test_mod.py"
		if len(r.Run.Tests) > 0 {
			want += " pkg/tests/test_gen.py"
		}
		if r.Run.Command != want {
			t.Errorf("%s: command %q, want %q", r.ID, r.Run.Command, want)
		}
		seen++
	}
	if seen < 4 {
		t.Fatalf("only %d runs planned", seen)
	}
}

// TestGeneratedRunArgs: the runs outside the plan that apply generated
// tests (the test writer's base runs, adversarial rounds) name the
// generated files alone, in the format's form, when the task's command takes
// its tests as arguments; a task without test arguments runs its command as
// it is.
func TestGeneratedRunArgs(t *testing.T) {
	addFile := func(path, body string) string {
		return "diff --git a/" + path + " b/" + path + "\nnew file mode 100644\n--- /dev/null\n+++ b/" + path + "\n@@ -0,0 +1,2 @@\n" + body
	}
	djangoTest := executor.TestPatch{ID: "gen-1", Patch: addFile("tests/utils_tests/test_gen.py", "+class T:\n+    def test_gen(self): pass\n")}
	sympyTest := executor.TestPatch{ID: "gen-1", Patch: addFile("sympy/ntheory/tests/test_gen.py", "+def test_gen():\n+    assert True\n")}
	data := executor.TestPatch{ID: "gen-2", Patch: addFile("tests/utils_tests/data.txt", "+x\n+y\n")}
	related := &TestArgs{Related: "django"}
	for _, c := range []struct {
		name  string
		task  Task
		tests []executor.TestPatch
		want  string
	}{
		{"django label", Task{TestCommand: "./tests/runtests.py", Format: executor.Django, TestArgs: related}, []executor.TestPatch{djangoTest, data}, "./tests/runtests.py utils_tests.test_gen"},
		{"sympy file", Task{TestCommand: "bin/test -C --verbose", Format: executor.Sympy, TestArgs: &TestArgs{Related: "python"}}, []executor.TestPatch{sympyTest}, "bin/test -C --verbose sympy/ntheory/tests/test_gen.py"},
		{"fixed original arguments are not the run's business", Task{TestCommand: "pytest -rA", Format: executor.Pytest, TestArgs: &TestArgs{Original: []string{"tests/test_x.py"}}}, []executor.TestPatch{{ID: "g", Patch: addFile("tests/test_gen.py", "+def test_gen():\n+    pass\n")}}, "pytest -rA tests/test_gen.py"},
		{"no test arguments", Task{TestCommand: "go test -json ./...", Format: executor.GoJSON}, []executor.TestPatch{{ID: "g", Patch: addFile("a_test.go", "+package a\n+func TestGen(t *testing.T) {}\n")}}, "go test -json ./..."},
	} {
		if got := c.task.generatedRun("", c.tests).Command; got != c.want {
			t.Errorf("%s: command %q, want %q", c.name, got, c.want)
		}
	}
}
