package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/bench/testsubject"
	"github.com/bestpatch/bestpatch/selector"
)

// sympyDigitsStub holds the lines of the stand-in's digits.py that the
// sympy job edits, with the stand-in's bug.
const sympyDigitsStub = `def digits(n, b=10, digits=None):
        y = [b]
        ndig = len(y)
        if digits is not None:
            y[1:1] = [0]*(digits - ndig)
            if ndig > digits:
                raise ValueError("too few")
        return y


def is_palindromic(n, b=10):
    return _palindromic(digits(n, b), 1)
`

// The sympy job has 16 candidates making 8 distinct changes, 6 generated
// tests (as many as the Go job's task), and the naive way runs the base and
// every candidate once per test artifact, each generated test by its own
// file.
func TestSympyJob(t *testing.T) {
	repo := t.TempDir()
	if err := testsubject.Repo(repo, map[string]string{sympyDigits: sympyDigitsStub, sympyDigitsTests: "def test_digits():\n    pass\n"}); err != nil {
		t.Fatal(err)
	}
	job, err := SympyJob(repo, "img")
	if err != nil {
		t.Fatal(err)
	}
	if err := job.Validate(); err != nil {
		t.Fatal(err)
	}
	plan, err := selector.NewPlan(job)
	if err != nil {
		t.Fatal(err)
	}
	if len(job.Candidates) != 16 || plan.Distinct() != 8 || len(job.Task.GeneratedTests) != 6 {
		t.Errorf("%d candidates, %d distinct, %d generated tests; want 16, 8, 6", len(job.Candidates), plan.Distinct(), len(job.Task.GeneratedTests))
	}
	for _, c := range job.Candidates {
		if !strings.Contains(c.Patch, "+++ b/"+sympyDigits) {
			t.Errorf("candidate %s (%s) does not change %s:\n%s", c.ID, c.Model, sympyDigits, c.Patch)
		}
	}
	runs, err := NaiveRuns(job.Task, job.Candidates)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 17*7 {
		t.Fatalf("%d naive runs, want %d", len(runs), 17*7)
	}
	want := map[string]int{job.Task.TestCommand + " '" + sympyDigitsTests + "'": 17}
	for _, gt := range sympyTests {
		want[job.Task.TestCommand+" '"+gt.file+"'"] = 17
	}
	got := map[string]int{}
	for _, r := range runs {
		got[r.Command]++
		if err := r.Validate(); err != nil {
			t.Error(err)
		}
	}
	for cmd, n := range want {
		if got[cmd] != n {
			t.Errorf("%d naive runs of %q, want %d (all: %v)", got[cmd], cmd, n, got)
		}
	}

	// Another file: the job says which text it did not find.
	if err := os.WriteFile(filepath.Join(repo, sympyDigits), []byte("def digits(): pass\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := SympyJob(repo, "img"); err == nil || !strings.Contains(err.Error(), "occurs 0 times") {
		t.Errorf("SympyJob on another digits.py: %v, want an error naming the missing text", err)
	}
}
