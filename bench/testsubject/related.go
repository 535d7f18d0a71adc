package testsubject

import (
	"fmt"
	"path/filepath"

	"github.com/bestpatch/bestpatch/scoring"
)

// RelatedListPatterns are the patterns of the Related subject's test files,
// for test_args.list_patterns; RelatedTestFiles its test_files.
var (
	RelatedListPatterns = []string{"*/tests/*.py"}
	RelatedTestFiles    = []string{"*/tests/*"}
)

// Related builds a small Python package whose regression tests are the
// ones related to the candidates' changes (test_args.related "python"):
// pkg/mod.py is tested by pkg/tests/test_mod.py (test_f fails at the base,
// test_ok passes); pkg/tests/test_other.py holds a failing test no related
// run may pick up. Candidates: "fix" makes test_f pass; "helpers" adds
// pkg/helpers.py, a module without a related test. The command runs pytest
// with python, which must have it (PythonWithPytest).
func Related(dir, python string) (*Subject, error) {
	repo := filepath.Join(dir, "related")
	err := Repo(repo, map[string]string{
		"pkg/__init__.py":         "",
		"pkg/mod.py":              "def f():\n    return 1\n",
		"pkg/tests/__init__.py":   "",
		"pkg/tests/test_mod.py":   "from pkg.mod import f\n\n\ndef test_f():\n    assert f() == 2\n\n\ndef test_ok():\n    assert True\n",
		"pkg/tests/test_other.py": "def test_other_broken():\n    assert False\n",
	})
	if err != nil {
		return nil, fmt.Errorf("build the related subject: %w", err)
	}
	return &Subject{
		Repo:    repo,
		Command: python + " -m pytest -rA -p no:cacheprovider",
		Candidates: []scoring.Candidate{
			{ID: "fix", Patch: "diff --git a/pkg/mod.py b/pkg/mod.py\n--- a/pkg/mod.py\n+++ b/pkg/mod.py\n@@ -1,2 +1,2 @@\n def f():\n-    return 1\n+    return 2\n"},
			{ID: "helpers", Patch: "diff --git a/pkg/helpers.py b/pkg/helpers.py\nnew file mode 100644\n--- /dev/null\n+++ b/pkg/helpers.py\n@@ -0,0 +1 @@\n+x = 1\n"},
		},
		Correct: map[string]bool{"fix": true},
	}, nil
}
