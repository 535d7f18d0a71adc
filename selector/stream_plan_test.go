package selector

import (
	"slices"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/outcome"
	"github.com/bestpatch/bestpatch/scoring"
)

// An open job's plan grows by appends: the runs it had keep their IDs and
// results, a candidate that runs like one it has joins that run, and a new
// change costs one run.
func TestPlanExtendKeepsRuns(t *testing.T) {
	job := Job{ID: "j", Task: Task{ID: "t", Env: executor.Environment{Repo: "/r"}, TestCommand: "go test -json ./...", Format: executor.GoJSON},
		Options: Options{Stream: &scoring.StopRule{}}}
	p, err := NewPlan(job)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(p.Needed()); !slices.Equal(got, []string{"base/1", "base/2"}) {
		t.Fatalf("an open job with no candidate needs %v, want the base runs", got)
	}
	record(t, p, "base/1", completed(nil, "p::TestA=FAIL", "p::TestB=PASS"))
	record(t, p, "base/2", completed(nil, "p::TestA=FAIL", "p::TestB=PASS"))
	if !p.Done() || p.Closed() {
		t.Fatalf("done %v, closed %v: want done and open", p.Done(), p.Closed())
	}
	q, err := p.Extend([]scoring.Candidate{{ID: "fix", Patch: fixPatch}})
	if err != nil {
		t.Fatal(err)
	}
	need := q.Needed()
	if len(need) != 1 || !strings.HasPrefix(need[0].ID, "cand/") {
		t.Fatalf("after one append: needed %v, want the candidate's run alone", ids(need))
	}
	if len(p.job.Candidates) != 0 || len(p.groups) != 0 {
		t.Fatal("Extend changed the plan it extends")
	}
	record(t, q, need[0].ID, completed(nil, "p::TestA=PASS", "p::TestB=PASS"))
	twin := strings.ReplaceAll(fixPatch, "+y\n", "+y  \n")
	r, err := q.Extend([]scoring.Candidate{{ID: "twin", Patch: twin}, {ID: "empty", Patch: ""}})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Done() {
		t.Fatalf("the twin joins the fix's run and the empty patch runs nothing; needed %v", ids(r.Needed()))
	}
	m := r.Matrix()
	if m.Candidates["twin"].Cases[OriginalArtifact]["p::TestA"] != outcome.Pass || m.Candidates["empty"].Status != scoring.RunEmpty {
		t.Errorf("rows: twin %+v, empty %+v", m.Candidates["twin"], m.Candidates["empty"])
	}
	if _, err := r.Extend([]scoring.Candidate{{ID: "fix", Patch: fixPatch}}); err == nil || !strings.Contains(err.Error(), "used twice") {
		t.Errorf("a candidate ID appended twice: %v", err)
	}
	closed := r.Close()
	if !closed.Closed() || r.Closed() {
		t.Error("Close must close the copy only")
	}
	if _, err := closed.Extend([]scoring.Candidate{{ID: "late", Patch: fixPatch}}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("an append after close: %v", err)
	}
	// The same candidates in one job plan the same runs.
	whole, err := NewPlan(Job{ID: "j", Task: job.Task, Candidates: r.job.Candidates})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := ids(whole.universe()), ids(r.universe()); !slices.Equal(a, b) {
		t.Errorf("runs of the job submitted whole %v, of the open job %v", a, b)
	}
}

// An open job whose tests are related to the candidates' changes runs no
// base before a candidate's change has related tests; the first appends
// that do choose them, and later appends keep them (no run is redone).
func TestPlanExtendRelatedArgs(t *testing.T) {
	job := Job{ID: "j", Options: Options{Stream: &scoring.StopRule{}}, Task: Task{
		ID: "django__django-1", Env: executor.Environment{Image: "img", Workdir: "/testbed", Activate: "source a"},
		TestCommand: "./tests/runtests.py --verbosity 2", Format: executor.Django,
		TestFiles: []string{"tests/*"}, TestArgs: &TestArgs{Related: "django", ListPatterns: []string{"tests/*.py"}},
	}}
	p, err := NewPlan(job)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(p.Needed()); !slices.Equal(got, []string{ListRunID}) {
		t.Fatalf("needed %v, want the listing alone", got)
	}
	record(t, p, ListRunID, listing("tests/utils_tests/test_text.py", "tests/validators/tests.py"))
	if len(p.Needed()) != 0 {
		t.Fatalf("with no candidate, needed %v: want nothing until one changes a module with related tests", ids(p.Needed()))
	}
	q, err := p.Extend([]scoring.Candidate{{ID: "junk", Patch: modPatch("django/contrib/nothing.py")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Needed()) != 0 {
		t.Fatalf("a change without related tests: needed %v, want nothing yet", ids(q.Needed()))
	}
	if m := q.Matrix(); m.Base.Status != scoring.RunUnknown || !strings.Contains(m.Base.Reason, "waits for a candidate") {
		t.Errorf("base row while waiting: %+v", m.Base)
	}
	r, err := q.Extend([]scoring.Candidate{{ID: "a", Patch: modPatch("django/utils/text.py")}})
	if err != nil {
		t.Fatal(err)
	}
	const want = "./tests/runtests.py --verbosity 2 utils_tests.test_text"
	var before []string
	for _, run := range r.Needed() {
		if run.Run.Command != want {
			t.Errorf("%s: command %q, want %q", run.ID, run.Run.Command, want)
		}
		before = append(before, run.ID)
	}
	s, err := r.Extend([]scoring.Candidate{{ID: "b", Patch: modPatch("django/core/validators.py")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range s.Needed() {
		if run.Run.Command != want {
			t.Errorf("after a later append: %s: command %q, want %q (the related tests stay as chosen)", run.ID, run.Run.Command, want)
		}
		if slices.Contains(before, run.ID) {
			continue
		}
		if !slices.Contains(run.Candidates, "b") {
			t.Errorf("new run %s is not the new candidate's", run.ID)
		}
	}
	if note := s.testArgsNote(); !strings.Contains(note, "django/core/validators.py, changed only by candidates appended later, were not run") {
		t.Errorf("note %q does not say which related tests were left out", note)
	}
	// Closed with no related test at all, the job runs as any job does.
	c := q.Close()
	if c.awaitingRelated() {
		t.Error("a closed job still waits for related tests")
	}
}
