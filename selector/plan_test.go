package selector

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/outcome"
	"github.com/bestpatch/bestpatch/scoring"
)

// The plan is a pure state machine: these tests feed it results by hand and
// check which runs it asks for next and what matrix it assembles.

const fixPatch = `diff --git a/a.go b/a.go
--- a/a.go
+++ b/a.go
@@ -1 +1 @@
-x
+y
`

func testPatch(file, fn string) string {
	return "diff --git a/" + file + " b/" + file + "\nnew file mode 100644\n--- /dev/null\n+++ b/" + file +
		"\n@@ -0,0 +1,3 @@\n+package p\n+\n+func " + fn + "(t *testing.T) {}\n"
}

func pyTestPatch(file, fn string) string {
	return "diff --git a/" + file + " b/" + file + "\nnew file mode 100644\n--- /dev/null\n+++ b/" + file +
		"\n@@ -0,0 +1,2 @@\n+def " + fn + "():\n+    assert True\n"
}

func newTestPlan(t *testing.T, gen []string, cands ...scoring.Candidate) *Plan {
	t.Helper()
	job := Job{ID: "j", Task: Task{ID: "t", Env: executor.Environment{Repo: "/r"}, TestCommand: "go test -json ./...", Format: executor.GoJSON}}
	for _, g := range gen {
		job.Task.GeneratedTests = append(job.Task.GeneratedTests, GeneratedTest{ID: g, Patch: testPatch("gen_"+g+"_test.go", "TestGen"+strings.ToUpper(g[:1])+g[1:])})
	}
	job.Candidates = cands
	p, err := NewPlan(job)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ids(runs []PlannedRun) []string {
	var out []string
	for _, r := range runs {
		out = append(out, r.ID)
	}
	return out
}

func completed(broken []string, cases ...string) executor.Result {
	r := executor.Result{Status: executor.Completed, Broken: broken}
	for _, c := range cases {
		id, o, _ := strings.Cut(c, "=")
		out, err := outcome.Parse(o)
		if err != nil {
			panic(err)
		}
		r.Cases = append(r.Cases, executor.Case{ID: id, Outcome: out})
	}
	return r
}

func withFiles(r executor.Result, files ...string) executor.Result {
	r.BrokenFiles = files
	return r
}

func record(t *testing.T, p *Plan, id string, r executor.Result) {
	t.Helper()
	if err := p.Record(id, r); err != nil {
		t.Fatal(err)
	}
}

func TestPlanDedupesWhitespaceTwinsAndSkipsEmpty(t *testing.T) {
	p := newTestPlan(t, nil,
		scoring.Candidate{ID: "a", Patch: fixPatch},
		scoring.Candidate{ID: "b", Patch: strings.ReplaceAll(fixPatch, "+y\n", "+y   \n")},
		scoring.Candidate{ID: "c", Patch: "  \n"},
	)
	if p.Distinct() != 1 {
		t.Fatalf("distinct = %d, want 1 (a and b differ only in trailing blanks)", p.Distinct())
	}
	got := ids(p.Needed())
	if len(got) != 3 || got[0] != "base/1" || got[1] != "base/2" || !strings.HasPrefix(got[2], "cand/") {
		t.Fatalf("needed = %v, want two base runs and one candidate run", got)
	}
	if cands := p.Needed()[2].Candidates; !slices.Equal(cands, []string{"a", "b"}) {
		t.Fatalf("shared run candidates = %v", cands)
	}
}

// A fix and its test-tampering twin share one run: the executor strips test
// files before it applies a candidate, so what runs is the same, and the
// run's key holds the stripped patch. The matrix row carries the run's tree.
func TestPlanTamperingTwinSharesTheRun(t *testing.T) {
	tamper := fixPatch + "diff --git a/a_test.go b/a_test.go\n--- a/a_test.go\n+++ b/a_test.go\n@@ -1 +1 @@\n-t\n+t.Skip()\n"
	p := newTestPlan(t, nil,
		scoring.Candidate{ID: "tamper", Patch: tamper},
		scoring.Candidate{ID: "fix", Patch: fixPatch},
	)
	if p.Distinct() != 1 {
		t.Fatalf("distinct = %d, want 1: the twin's test file is stripped before it runs", p.Distinct())
	}
	run := p.Needed()[2]
	if !slices.Equal(run.Candidates, []string{"tamper", "fix"}) || strings.Contains(run.Run.Patch, "a_test.go") {
		t.Fatalf("the shared run is for %v and applies\n%s", run.Candidates, run.Run.Patch)
	}
	record(t, p, "base/1", completed(nil, "p::TestA=FAIL"))
	record(t, p, "base/2", completed(nil, "p::TestA=FAIL"))
	res := completed(nil, "p::TestA=PASS")
	res.Tree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
	record(t, p, run.ID, res)
	for _, id := range []string{"tamper", "fix"} {
		if row := p.Matrix().Candidates[id]; row.Tree != res.Tree || row.Cases[OriginalArtifact]["p::TestA"] != outcome.Pass {
			t.Errorf("%s: row %+v, want the shared run's tree and cases", id, row)
		}
	}
}

func TestPlanRecordIsFirstWriterWins(t *testing.T) {
	p := newTestPlan(t, nil, scoring.Candidate{ID: "a", Patch: fixPatch})
	record(t, p, "base/1", completed(nil, "p::TestA=PASS"))
	record(t, p, "base/1", completed(nil, "p::TestA=FAIL"))
	if r, _ := p.Result("base/1"); r.Cases[0].Outcome != outcome.Pass {
		t.Fatal("a second result for the same run overwrote the first")
	}
	if err := p.Record("cand/nope/all", executor.Result{}); err == nil {
		t.Fatal("recording an unknown run succeeded")
	}
}

func TestPlanIsolation(t *testing.T) {
	cand := scoring.Candidate{ID: "a", Patch: fixPatch}
	key := func(p *Plan) string { return p.groups[0].key }
	tests := []struct {
		name string
		// steps: run ID suffix (after "cand/<key>/" for candidate runs) -> result
		steps []struct {
			run string
			res executor.Result
		}
		wantBase   []string // base runs needed, before the candidate's
		wantNeeded []string
		wantDrop   []string
	}{
		{
			name: "common case: one run per candidate",
			steps: []struct {
				run string
				res executor.Result
			}{
				{"base/1", completed(nil, "p::TestA=PASS", "p::TestGenR=FAIL")},
				{"base/2", completed(nil, "p::TestA=PASS", "p::TestGenR=FAIL")},
				{"all", completed(nil, "p::TestA=PASS", "p::TestGenR=PASS")},
			},
			wantNeeded: nil,
		},
		{
			name: "a generated test that does not compile on base is isolated and dropped",
			steps: []struct {
				run string
				res executor.Result
			}{
				{"base/1", completed([]string{"p"})},
				{"base/2", completed([]string{"p"})},
				{"base/iso/original", completed(nil, "p::TestA=PASS")},
				{"base/iso/gen:r", completed(nil, "p::TestA=PASS", "p::TestGenR=FAIL")},
				{"base/iso/gen:b", completed([]string{"p"})},
			},
			wantNeeded: []string{"kept-10"},
			wantDrop:   []string{"b"},
		},
		{
			name: "a poisoned optimistic candidate run is redone with the kept tests",
			steps: []struct {
				run string
				res executor.Result
			}{
				{"all", completed([]string{"p"})},
				{"base/1", completed([]string{"p"})},
				{"base/2", completed([]string{"p"})},
				{"base/iso/original", completed(nil, "p::TestA=PASS")},
				{"base/iso/gen:r", completed(nil, "p::TestA=PASS", "p::TestGenR=FAIL")},
				{"base/iso/gen:b", completed([]string{"p"})},
			},
			wantNeeded: []string{"kept-10"},
			wantDrop:   []string{"b"},
		},
		{
			name: "a test the build errors name is dropped without a run of its own",
			steps: []struct {
				run string
				res executor.Result
			}{
				{"base/1", withFiles(completed([]string{"p"}), "gen_b_test.go")},
			},
			wantBase:   []string{"base/2"},
			wantNeeded: []string{"kept-10"},
		},
		{
			name: "the package lost to the dropped test needs a third base run for flakiness",
			steps: []struct {
				run string
				res executor.Result
			}{
				{"base/1", withFiles(completed([]string{"p"}), "gen_b_test.go")},
				{"base/2", completed(nil, "p::TestA=PASS", "p::TestGenR=FAIL")},
				{"kept-10", completed(nil, "p::TestA=PASS", "p::TestGenR=PASS")},
			},
			wantBase: []string{"base/3"},
		},
		{
			name: "a dropped test's own file is no loss: no third base run",
			steps: []struct {
				run string
				res executor.Result
			}{
				{"base/1", withFiles(completed([]string{"gen_b_test.go"}, "p::TestA=PASS", "p::TestGenR=FAIL"), "gen_b_test.go")},
				{"base/2", completed(nil, "p::TestA=PASS", "p::TestGenR=FAIL")},
				{"kept-10", completed(nil, "p::TestA=PASS", "p::TestGenR=PASS")},
			},
			wantDrop: []string{"b"},
		},
		{
			name: "a screening the second base run contradicts falls back to isolation",
			steps: []struct {
				run string
				res executor.Result
			}{
				{"base/1", withFiles(completed([]string{"p"}), "gen_b_test.go")},
				{"base/2", withFiles(completed([]string{"p"}), "gen_r_test.go")},
			},
			wantBase: []string{"base/iso/original", "base/iso/gen:r", "base/iso/gen:b"},
		},
		{
			name: "a candidate that breaks the build is not split further",
			steps: []struct {
				run string
				res executor.Result
			}{
				{"base/1", completed(nil, "p::TestA=PASS", "p::TestGenR=FAIL", "p::TestGenB=PASS")},
				{"base/2", completed(nil, "p::TestA=PASS", "p::TestGenR=FAIL", "p::TestGenB=PASS")},
				{"all", completed([]string{"p"})},
				{"iso/original", completed([]string{"p"})},
			},
			wantNeeded: nil,
		},
		{
			name: "a candidate that breaks one generated test is split per test",
			steps: []struct {
				run string
				res executor.Result
			}{
				{"base/1", completed(nil, "p::TestA=PASS", "p::TestGenR=FAIL", "p::TestGenB=PASS")},
				{"base/2", completed(nil, "p::TestA=PASS", "p::TestGenR=FAIL", "p::TestGenB=PASS")},
				{"all", completed([]string{"p"})},
				{"iso/original", completed(nil, "p::TestA=PASS")},
			},
			wantNeeded: []string{"iso/gen:r", "iso/gen:b"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newTestPlan(t, []string{"r", "b"}, cand)
			for _, s := range tc.steps {
				id := s.run
				if !strings.HasPrefix(id, "base/") {
					id = "cand/" + key(p) + "/" + id
				}
				record(t, p, id, s.res)
			}
			want := tc.wantBase
			for _, w := range tc.wantNeeded {
				want = append(want, "cand/"+key(p)+"/"+w)
			}
			if got := ids(p.Needed()); !slices.Equal(got, want) {
				t.Fatalf("needed = %v, want %v", got, want)
			}
			if got := sortedKeys(p.Dropped()); !slices.Equal(got, tc.wantDrop) {
				t.Fatalf("dropped = %v, want %v", got, tc.wantDrop)
			}
		})
	}
}

func TestPlanMatrix(t *testing.T) {
	p := newTestPlan(t, []string{"r"},
		scoring.Candidate{ID: "a", Patch: fixPatch},
		scoring.Candidate{ID: "e", Patch: ""},
	)
	p.job.Task.OriginalTests = []string{"p::TestA*"}
	k := p.groups[0].key
	record(t, p, "base/1", completed(nil, "p::TestA=PASS", "p::TestAB=PASS", "p::TestOther=PASS", "p::TestFlip=PASS", "p::TestGenR=FAIL"))
	record(t, p, "base/2", completed(nil, "p::TestA=PASS", "p::TestAB=FAIL", "p::TestOther=PASS", "p::TestGenR=FAIL"))
	record(t, p, "cand/"+k+"/all", completed(nil, "p::TestA=PASS", "p::TestGenR=PASS"))
	if !p.Done() {
		t.Fatalf("not done: %v", ids(p.Needed()))
	}
	m := p.Matrix()
	if len(m.Artifacts) != 2 || m.Artifacts[1] != (scoring.Artifact{ID: "r", Generated: true}) {
		t.Fatalf("artifacts = %+v", m.Artifacts)
	}
	if _, ok := m.Base.Cases[OriginalArtifact]["p::TestOther"]; ok {
		t.Fatal("p::TestOther does not match original_tests but was kept")
	}
	if got := m.Flaky[OriginalArtifact]; !slices.Equal(got, []string{"p::TestAB"}) {
		t.Fatalf("flaky = %v, want [p::TestAB]", got)
	}
	row := m.Candidates["a"]
	if row.Status != scoring.RunOK || row.Cases["r"]["p::TestGenR"] != outcome.Pass {
		t.Fatalf("candidate row = %+v", row)
	}
	if row.Cases[OriginalArtifact]["p::TestAB"] != outcome.Error {
		t.Fatalf("a base case missing from the candidate's run must be ERROR, got %v", row.Cases[OriginalArtifact]["p::TestAB"])
	}
	if m.Candidates["e"].Status != scoring.RunEmpty {
		t.Fatalf("empty candidate row = %+v", m.Candidates["e"])
	}
}

func TestPlanMatrixStatuses(t *testing.T) {
	for _, tc := range []struct {
		status executor.Status
		want   scoring.RunStatus
	}{
		{executor.ApplyFailed, scoring.RunApplyFailed},
		{executor.EmptyPatch, scoring.RunEmpty},
		{executor.TimedOut, scoring.RunUnknown},
		{executor.Infra, scoring.RunUnknown},
	} {
		p := newTestPlan(t, nil, scoring.Candidate{ID: "a", Patch: fixPatch})
		record(t, p, "base/1", completed(nil, "p::TestA=PASS"))
		record(t, p, "base/2", completed(nil, "p::TestA=PASS"))
		record(t, p, "cand/"+p.groups[0].key+"/all", executor.Result{Status: tc.status})
		if got := p.Matrix().Candidates["a"].Status; got != tc.want {
			t.Errorf("%s: row status %s, want %s", tc.status, got, tc.want)
		}
	}
}

func TestDeclareAttributesCases(t *testing.T) {
	for _, tc := range []struct {
		format executor.Format
		patch  string
		id     string
		want   bool
	}{
		{executor.GoJSON, testPatch("pkg/gen_x_test.go", "TestGenX"), "example.com/m/pkg::TestGenX", true},
		{executor.GoJSON, testPatch("pkg/gen_x_test.go", "TestGenX"), "example.com/m/pkg::TestGenX/sub", true},
		{executor.GoJSON, testPatch("pkg/gen_x_test.go", "TestGenX"), "example.com/m/other::TestGenX", false},
		{executor.GoJSON, testPatch("pkg/gen_x_test.go", "TestGenX"), "example.com/m/pkg::TestOther", false},
		{executor.Pytest, pyTestPatch("tests/test_gen.py", "test_gen"), "tests/test_gen.py::test_gen", true},
		{executor.Pytest, pyTestPatch("tests/test_gen.py", "test_gen"), "tests/test_gen.py::TestC::test_other[1]", true},
		{executor.Pytest, pyTestPatch("tests/test_gen.py", "test_gen"), "tests/test_old.py::test_gen", false},
		{executor.JUnit, pyTestPatch("tests/test_gen.py", "test_gen"), "tests.test_gen::test_gen", true},
		{executor.JUnit, pyTestPatch("tests/test_gen.py", "test_gen"), "tests.test_gen.TestC::test_gen", true},
		{executor.JUnit, pyTestPatch("tests/test_gen.py", "test_gen"), "tests.test_old::test_gen", false},
	} {
		spec, err := tc.format.Spec()
		if err != nil {
			t.Fatal(err)
		}
		if got := declare(spec, tc.patch).owns(tc.id); got != tc.want {
			t.Errorf("%s: owns(%q) = %v, want %v", tc.format, tc.id, got, tc.want)
		}
	}
}

// A run's key holds the version of the executor's semantics: results cached
// when runs meant something else (before the tamper-proof application,
// say) are not found under the keys of today's runs.
func TestRunKeySemantics(t *testing.T) {
	r := executor.Run{Env: executor.Environment{Image: "img"}, Patch: "p", Command: "go test -json ./...", Format: executor.GoJSON, Timeout: time.Minute}
	if RunKey(r) != runKey(r, executor.Semantics) {
		t.Fatal("RunKey does not use executor.Semantics")
	}
	if runKey(r, executor.Semantics) == runKey(r, executor.Semantics+1) {
		t.Error("the key does not change with the semantics version")
	}
	other := r
	other.Timeout = time.Hour
	if RunKey(other) != RunKey(r) {
		t.Error("the timeout changes the key")
	}
	other.Patch = "q"
	if RunKey(other) == RunKey(r) {
		t.Error("the patch does not change the key")
	}
}

// TestPolicyParsedOnce: the plan carries the policy the job's validation
// parsed, and scoring uses it: a policy changed after planning is not read
// again (before, Select validated the job twice and parsed its policy
// three times: Validate, NewPlan's Validate, scoreMatrix).
func TestPolicyParsedOnce(t *testing.T) {
	job := Job{ID: "j", Task: Task{ID: "t", Env: executor.Environment{Repo: "/nowhere"}, TestCommand: "true", Format: executor.GoJSON},
		Candidates: []scoring.Candidate{{ID: "a", Patch: "diff --git a/x.go b/x.go\n--- a/x.go\n+++ b/x.go\n@@ -1 +1 @@\n-a\n+b\n"}},
		Options:    Options{Policy: scoring.PolicyConsensus, Execution: ExecutionNone}}
	plan, err := NewPlan(job)
	if err != nil {
		t.Fatal(err)
	}
	if plan.policy.Name != scoring.PolicyConsensus {
		t.Fatalf("the plan's policy is %q, want the job's", plan.policy.Name)
	}
	plan.job.Options.Policy = "no such policy" // a second parse would fail
	rep, err := Score(plan)
	if err != nil {
		t.Fatalf("scoring parsed the policy again: %v", err)
	}
	if rep.Verdict.Policy != scoring.PolicyConsensus || rep.Verdict.Chosen != "a" {
		t.Errorf("verdict %+v, want a chosen by policy consensus", rep.Verdict)
	}
}

// TestTestPrefix: the model's tests never take the ID of a test the task
// has: the job is not validated again once they are added.
func TestTestPrefix(t *testing.T) {
	for _, tc := range []struct {
		ids  []string
		want string
	}{
		{nil, "gen"},
		{[]string{"repro", "generic", "gen"}, "gen"},
		{[]string{"gen-1"}, "gen2"},
		{[]string{"gen-7", "gen2-1"}, "gen3"},
	} {
		var tests []GeneratedTest
		for _, id := range tc.ids {
			tests = append(tests, GeneratedTest{ID: id, Patch: "p"})
		}
		if got := testPrefix(tests); got != tc.want {
			t.Errorf("testPrefix(%v) = %q, want %q", tc.ids, got, tc.want)
		}
	}
}
