package swebench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/testfile"
	"github.com/bestpatch/bestpatch/selector/swebench/logparser"
)

// harnessTestCmd is the harness's test_cmd of a repository version, written
// out again from swebench/harness/constants/python.py, independently of the
// spec table, so that a slip in either shows.
func harnessTestCmd(repo, version string) string {
	switch repo {
	case "django/django":
		if version == "1.9" {
			return "./tests/runtests.py --verbosity 2"
		}
		return "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1"
	case "sympy/sympy":
		return "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose"
	case "sphinx-doc/sphinx":
		return "tox --current-env -epy39 -v --"
	case "mwaskom/seaborn":
		return "pytest --no-header -rA"
	case "astropy/astropy":
		if strings.HasPrefix(version, "0.") || strings.HasPrefix(version, "1.") {
			return "pytest -rA -vv -o console_output_style=classic --tb=no"
		}
	}
	return "pytest -rA"
}

// harnessInstall is the harness's install of a repository version (re-run
// by its eval script), and the eval_commands before it.
func harnessInstall(repo, version string) (pre []string, install string) {
	switch repo {
	case "django/django":
		switch version {
		case "1.4", "1.5", "1.6":
			return nil, "python setup.py install"
		case "1.7", "1.8", "1.9", "1.10", "1.11", "2.0", "2.1", "2.2":
			return []string{"export LANG=en_US.UTF-8", "export LC_ALL=en_US.UTF-8", "export PYTHONIOENCODING=utf8", "export LANGUAGE=en_US:en"}, "python setup.py install"
		case "3.0", "3.1", "3.2":
			return []string{"sed -i '/en_US.UTF-8/s/^# //g' /etc/locale.gen && locale-gen", "export LANG=en_US.UTF-8", "export LANGUAGE=en_US:en", "export LC_ALL=en_US.UTF-8"}, "python -m pip install -e ."
		}
		return nil, "python -m pip install -e ."
	case "astropy/astropy":
		return nil, "python -m pip install -e .[test] --verbose"
	case "scikit-learn/scikit-learn":
		return nil, "python -m pip install -v --no-use-pep517 --no-build-isolation -e ."
	case "psf/requests":
		return nil, "python -m pip install ."
	case "sphinx-doc/sphinx":
		return nil, "python -m pip install -e .[test]"
	case "mwaskom/seaborn":
		if version == "0.11" {
			return nil, "python -m pip install -e ."
		}
		return nil, "python -m pip install -e .[dev]"
	case "matplotlib/matplotlib":
		switch {
		case version == "3.8" || version == "3.9":
			return nil, `python -m pip install --no-build-isolation -e ".[dev]"`
		case strings.HasPrefix(version, "1.") || strings.HasPrefix(version, "2."):
			return nil, "python setup.py build; python setup.py install"
		}
	}
	return nil, "python -m pip install -e ."
}

// harnessParserFormat is the bestpatch format that reads the output the
// harness's parser of a repository reads.
var harnessParserFormat = map[string]executor.Format{
	"django/django": "django", "sympy/sympy": "sympy",
	"astropy/astropy": "pytest", "matplotlib/matplotlib": "pytest", "mwaskom/seaborn": "pytest",
	"pallets/flask": "pytest", "psf/requests": "pytest", "pydata/xarray": "pytest",
	"pylint-dev/pylint": "pytest", "pytest-dev/pytest": "pytest",
	"scikit-learn/scikit-learn": "pytest", "sphinx-doc/sphinx": "pytest",
}

// harnessLogParser is the harness's MAP_REPO_TO_PARSER_PY, written out
// again: how each repository's PASS_TO_PASS names its tests.
var harnessLogParser = map[string]logparser.Parser{
	"django/django": "parse_log_django", "sympy/sympy": "parse_log_sympy",
	"astropy/astropy": "parse_log_pytest_v2", "scikit-learn/scikit-learn": "parse_log_pytest_v2", "sphinx-doc/sphinx": "parse_log_pytest_v2",
	"psf/requests": "parse_log_pytest_options", "pylint-dev/pylint": "parse_log_pytest_options",
	"matplotlib/matplotlib": "parse_log_matplotlib", "mwaskom/seaborn": "parse_log_seaborn",
	"pallets/flask": "parse_log_pytest", "pydata/xarray": "parse_log_pytest", "pytest-dev/pytest": "parse_log_pytest",
}

// p2pEntry is a PASS_TO_PASS entry shaped as the repository's lists are,
// and the directive it names ("" for none: sympy's bare names).
func p2pEntry(repo string) (entry, directive string) {
	switch repo {
	case "django/django":
		return "test_x (app_tests.test_y.T)", "app_tests.test_y"
	case "sympy/sympy":
		return "test_x", ""
	}
	return "tests/test_y.py::test_x[/tmp/p]", "tests/test_y.py"
}

// publicRow writes a row in the public schema, as the published files have
// it: FAIL_TO_PASS and PASS_TO_PASS are JSON-encoded strings.
func publicRow(t *testing.T, id, repo, version string, p2p []string) string {
	t.Helper()
	p2pJSON, _ := json.Marshal(p2p)
	row := map[string]any{
		"repo": repo, "instance_id": id, "base_commit": "0123456789abcdef0123456789abcdef01234567",
		"patch":             "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n",
		"test_patch":        "diff --git a/tests/test_x.py b/tests/test_x.py\n--- a/tests/test_x.py\n+++ b/tests/test_x.py\n@@ -1 +1 @@\n-a\n+b\n",
		"problem_statement": "Something is broken in " + repo,
		"hints_text":        "", "created_at": "2023-01-01T00:00:00Z", "version": version,
		"FAIL_TO_PASS":             `["tests/test_x.py::test_new"]`,
		"PASS_TO_PASS":             string(p2pJSON),
		"environment_setup_commit": "fedcba9876543210fedcba9876543210fedcba98",
	}
	b, err := json.Marshal(row)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEveryRepositoryVersion derives the task of a row of every repository
// and version in the spec table, read from a JSONL file in the public
// schema, and checks image, command and format against the harness.
func TestEveryRepositoryVersion(t *testing.T) {
	var lines []string
	type want struct{ repo, version string }
	wants := map[string]want{}
	n := 0
	for _, r := range Repositories() {
		for v := range r.Versions {
			n++
			id := fmt.Sprintf("%s-%d", strings.ReplaceAll(r.Name, "/", "__"), 1000+n)
			entry, _ := p2pEntry(r.Name)
			lines = append(lines, publicRow(t, id, r.Name, v, []string{entry}))
			wants[id] = want{r.Name, v}
		}
	}
	path := filepath.Join(t.TempDir(), "dataset.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rows, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != n || n < 150 {
		t.Fatalf("read %d rows of %d (the table should hold every version: > 150)", len(rows), n)
	}
	for _, mode := range Modes() {
		opts := Options{Images: DefaultImages, Mode: mode}
		for _, row := range rows {
			w := wants[row.InstanceID]
			t.Run(string(mode)+"/"+w.repo+"/"+w.version, func(t *testing.T) {
				task, err := opts.Task(row)
				if err != nil {
					t.Fatal(err)
				}
				wantImage := "swebench/sweb.eval.x86_64." + strings.ReplaceAll(strings.ToLower(row.InstanceID), "__", "_1776_") + ":latest"
				if task.Env.Image != wantImage {
					t.Errorf("image %q, want %q", task.Env.Image, wantImage)
				}
				if task.Env.Workdir != "/testbed" || task.Env.Activate != "source /opt/miniconda3/bin/activate && conda activate testbed" {
					t.Errorf("workdir %q, activate %q", task.Env.Workdir, task.Env.Activate)
				}
				pre, install := harnessInstall(w.repo, w.version)
				wantCmd := strings.Join(append(pre, install, harnessTestCmd(w.repo, w.version)), "; ")
				if task.TestCommand != wantCmd {
					t.Errorf("command\n %q\nwant\n %q", task.TestCommand, wantCmd)
				}
				if task.Format != harnessParserFormat[w.repo] {
					t.Errorf("format %q, want %q", task.Format, harnessParserFormat[w.repo])
				}
				if task.ID != row.InstanceID || task.Problem != "Something is broken in "+w.repo {
					t.Errorf("id %q problem %q", task.ID, task.Problem)
				}
				entry, directive := p2pEntry(w.repo)
				switch {
				case mode == All && (task.TestArgs != nil || task.PassToPass != nil):
					t.Errorf("all runs the whole suite, got test args %+v, pass_to_pass %+v", task.TestArgs, task.PassToPass)
				case mode == Related && (task.TestArgs == nil || task.TestArgs.Related == "" || task.PassToPass != nil):
					t.Errorf("related: want related test args and no pass_to_pass, got %+v, %+v", task.TestArgs, task.PassToPass)
				case mode == P2P && (task.PassToPass == nil || task.PassToPass.LogParser != harnessLogParser[w.repo] || !slices.Equal(task.PassToPass.Tests, []string{entry})):
					t.Errorf("p2p: pass_to_pass %+v, want [%q] named by %s", task.PassToPass, entry, harnessLogParser[w.repo])
				case mode == P2P && directive != "" && (task.TestArgs == nil || !slices.Equal(task.TestArgs.Original, []string{directive})):
					t.Errorf("p2p: test args %+v, want original [%q]", task.TestArgs, directive)
				case mode == P2P && directive == "" && (task.TestArgs == nil || task.TestArgs.Related == ""):
					t.Errorf("p2p with bare names: want the related test args, got %+v", task.TestArgs)
				}
			})
		}
	}
}

// TestTestFilesAreTheRepositorysOwn checks that each repository's test-file
// patterns take its test directories and leave its library code alone
// (django/test/utils.py and sphinx/testing/util.py are not tests).
func TestTestFilesAreTheRepositorysOwn(t *testing.T) {
	cases := []struct {
		repo  string
		tests []string
		code  []string
	}{
		{"django/django", []string{"tests/admin_views/tests.py", "tests/utils_tests/test_text.py", "tests/templates/base.html"},
			[]string{"django/test/utils.py", "django/test/testcases.py", "django/db/models/query.py"}},
		{"sympy/sympy", []string{"sympy/core/tests/test_basic.py", "sympy/testing/tests/test_pytest.py"},
			[]string{"sympy/testing/pytest.py", "sympy/testing/runtests.py", "sympy/core/basic.py", "bin/test"}},
		{"sphinx-doc/sphinx", []string{"tests/test_build_html.py", "tests/roots/test-root/conf.py"},
			[]string{"sphinx/testing/util.py", "sphinx/testing/fixtures.py", "sphinx/ext/autodoc/__init__.py"}},
		{"pytest-dev/pytest", []string{"testing/test_skipping.py", "testing/python/approx.py"},
			[]string{"src/_pytest/skipping.py", "src/_pytest/pytester.py"}},
		{"astropy/astropy", []string{"astropy/io/fits/tests/test_card.py", "astropy/tests/tests/test_run_tests.py", "astropy/conftest.py"},
			[]string{"astropy/io/fits/card.py", "astropy/tests/helper.py", "astropy/tests/runner.py"}},
		{"scikit-learn/scikit-learn", []string{"sklearn/tests/test_base.py", "sklearn/linear_model/tests/test_logistic.py"},
			[]string{"sklearn/utils/_testing.py", "sklearn/utils/estimator_checks.py"}},
		{"matplotlib/matplotlib", []string{"lib/matplotlib/tests/test_axes.py"},
			[]string{"lib/matplotlib/testing/decorators.py", "lib/matplotlib/axes/_axes.py"}},
		{"pydata/xarray", []string{"xarray/tests/test_dataset.py"}, []string{"xarray/testing.py", "xarray/core/dataset.py"}},
		{"psf/requests", []string{"test_requests.py", "tests/test_utils.py"}, []string{"requests/models.py"}},
		{"pylint-dev/pylint", []string{"tests/checkers/unittest_base.py"}, []string{"pylint/testutils/checker_test_case.py"}},
		{"pallets/flask", []string{"tests/test_basic.py"}, []string{"src/flask/testing.py"}},
		{"mwaskom/seaborn", []string{"tests/_core/test_plot.py"}, []string{"seaborn/_testing.py"}},
	}
	for _, c := range cases {
		r, _, err := LookupSpec(c.repo, firstVersion(c.repo))
		if err != nil {
			t.Fatal(err)
		}
		m := testfile.NewMatcher(r.TestFiles...)
		for _, f := range c.tests {
			if !m.Match(f) {
				t.Errorf("%s: %s is a test file, patterns %q miss it", c.repo, f, r.TestFiles)
			}
		}
		for _, f := range c.code {
			if m.Match(f) {
				t.Errorf("%s: %s is library code, patterns %q take it", c.repo, f, r.TestFiles)
			}
		}
	}
}

func firstVersion(repo string) string {
	for _, r := range repositories {
		if r.Name == repo {
			for v := range r.Versions {
				return v
			}
		}
	}
	return ""
}

func TestLookupSpecSaysWhatIsKnown(t *testing.T) {
	if _, _, err := LookupSpec("octo/cat", "1.0"); err == nil || !strings.Contains(err.Error(), "django/django") {
		t.Errorf("unknown repository: %v", err)
	}
	if _, _, err := LookupSpec("django/django", "9.9"); err == nil || !strings.Contains(err.Error(), "3.0") {
		t.Errorf("unknown version: %v", err)
	}
}
