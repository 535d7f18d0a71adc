package selector_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/bench/testsubject"
	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/outcome"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

// pythonWithPytest returns a python that has pytest, or skips the test.
func pythonWithPytest(t *testing.T) string {
	t.Helper()
	py, err := testsubject.PythonWithPytest()
	if err != nil {
		t.Skip(err)
	}
	return py
}

// gitRepo commits files into a new repository.
func gitRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := testsubject.Repo(dir, files); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestSelectRelatedTests runs a job whose regression tests are related to
// the candidates' changes, with real git and real pytest: the listing run
// lists the test files, only the related file runs (the unrelated one, with
// a failing test, never does), and the fix is chosen over a change that
// breaks a related test.
func TestSelectRelatedTests(t *testing.T) {
	if testing.Short() {
		t.Skip("runs pytest")
	}
	py := pythonWithPytest(t)
	repo := gitRepo(t, map[string]string{
		"pkg/__init__.py":           "",
		"pkg/mod.py":                "def f():\n    return 1\n\n\ndef g():\n    return 3\n",
		"pkg/other.py":              "def h():\n    return 0\n",
		"pkg/tests/__init__.py":     "",
		"pkg/tests/test_mod.py":     "from pkg.mod import f, g\n\n\ndef test_f():\n    assert f() == 2\n\n\ndef test_g():\n    assert g() == 3\n",
		"pkg/tests/test_other.py":   "from pkg.other import h\n\n\ndef test_h_broken():\n    assert h() == 1\n\n\ndef test_h():\n    assert h() == 0\n",
		"docs/index.rst":            "docs\n",
		"pkg/tests/data/sample.txt": "data\n",
	})
	fix := "diff --git a/pkg/mod.py b/pkg/mod.py\n--- a/pkg/mod.py\n+++ b/pkg/mod.py\n@@ -1,2 +1,2 @@\n def f():\n-    return 1\n+    return 2\n"
	wrong := "diff --git a/pkg/mod.py b/pkg/mod.py\n--- a/pkg/mod.py\n+++ b/pkg/mod.py\n@@ -4,3 +4,3 @@\n \n def g():\n-    return 3\n+    return 4\n"
	job := selector.Job{ID: "related-1", Candidates: []scoring.Candidate{{ID: "fix", Patch: fix}, {ID: "wrong", Patch: wrong}}, Task: selector.Task{
		ID: "pkg__pkg-1", Env: executor.Environment{Repo: repo},
		TestCommand: py + " -m pytest -rA -p no:cacheprovider", Format: executor.Pytest,
		TestFiles: []string{"*/tests/*"}, Timeout: selector.Duration(2 * time.Minute),
		TestArgs: &selector.TestArgs{Related: "python", ListPatterns: []string{"*/tests/*.py"}},
	}}
	sel := &selector.Selector{Exec: newLocal(t), Pool: selector.NewPool(2)}
	rep, err := sel.Select(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict.Chosen != "fix" {
		t.Fatalf("chose %q, want fix\n%+v", rep.Verdict.Chosen, rep.Verdict)
	}
	base := rep.Matrix.Base.Cases[selector.OriginalArtifact]
	if len(base) != 2 || base["pkg/tests/test_mod.py::test_f"] != outcome.Fail || base["pkg/tests/test_mod.py::test_g"] != outcome.Pass {
		t.Errorf("base cases %v, want test_mod.py's two cases only", base)
	}
	listed := false
	for _, r := range rep.Runs {
		listed = listed || r.ID == selector.ListRunID && r.Status == executor.Completed
	}
	if !listed {
		t.Errorf("no completed listing run among %+v", rep.Runs)
	}
	if !strings.Contains(strings.Join(rep.Verdict.Notes, "\n"), "pkg/mod.py -> pkg/tests/test_mod.py") {
		t.Errorf("notes %q do not say which tests ran", rep.Verdict.Notes)
	}
}
