package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/internal/testsubject"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/service"
)

// TestRelatedTestsThroughTheDaemon runs a job whose regression tests are
// related to the candidates' changes on a daemon: the listing run goes
// through the work queue like any run, and the plan replayed from the stored
// results hands out base and candidate runs with the related test files.
func TestRelatedTestsThroughTheDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("runs pytest")
	}
	py, err := testsubject.PythonWithPytest()
	if err != nil {
		t.Skip(err)
	}
	repo := t.TempDir()
	if err := testsubject.Repo(repo, map[string]string{
		"pkg/__init__.py":         "",
		"pkg/mod.py":              "def f():\n    return 1\n",
		"pkg/tests/__init__.py":   "",
		"pkg/tests/test_mod.py":   "from pkg.mod import f\n\n\ndef test_f():\n    assert f() == 2\n\n\ndef test_ok():\n    assert True\n",
		"pkg/tests/test_other.py": "def test_other_broken():\n    assert False\n",
	}); err != nil {
		t.Fatal(err)
	}
	task := selector.Task{
		ID: "pkg__pkg-1", Env: executor.Environment{Repo: repo},
		TestCommand: py + " -m pytest -rA -p no:cacheprovider", Format: executor.Pytest,
		TestFiles: []string{"*/tests/*"}, Timeout: selector.Duration(2 * time.Minute),
		TestArgs: &selector.TestArgs{Related: "python", ListPatterns: []string{"*/tests/*.py"}},
	}
	fix := "diff --git a/pkg/mod.py b/pkg/mod.py\n--- a/pkg/mod.py\n+++ b/pkg/mod.py\n@@ -1,2 +1,2 @@\n def f():\n-    return 1\n+    return 2\n"
	ns := startNATS(t)
	startDaemon(t, ns.ClientURL(), service.Config{Name: "d1"})
	c := newClient(t, ns.ClientURL())
	ctx := ctxFor(t, 3*time.Minute)

	rep, err := c.SubmitAndWait(ctx, selector.Job{ID: "related-1", Task: task, Candidates: []scoring.Candidate{{ID: "fix", Patch: fix}}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict.Chosen != "fix" {
		t.Fatalf("chose %q", rep.Verdict.Chosen)
	}
	base := rep.Matrix.Base.Cases[selector.OriginalArtifact]
	if len(base) != 2 || base["pkg/tests/test_mod.py::test_f"] != scoring.Fail {
		t.Errorf("base cases %v, want test_mod.py's only", base)
	}
	if !strings.Contains(strings.Join(rep.Verdict.Notes, "\n"), "pkg/mod.py -> pkg/tests/test_mod.py") {
		t.Errorf("notes %q", rep.Verdict.Notes)
	}

	// No related test: the job fails and says why, instead of running all.
	helpers := "diff --git a/pkg/helpers.py b/pkg/helpers.py\nnew file mode 100644\n--- /dev/null\n+++ b/pkg/helpers.py\n@@ -0,0 +1 @@\n+x = 1\n"
	_, err = c.SubmitAndWait(ctx, selector.Job{ID: "related-2", Task: task, Candidates: []scoring.Candidate{{ID: "a", Patch: helpers}}})
	if err == nil || !strings.Contains(err.Error(), "no related test") {
		t.Fatalf("a job without related tests: %v", err)
	}
}
