package swebench

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/outcome"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

func TestP2PArgs(t *testing.T) {
	cases := []struct {
		repo, version string
		p2p           []string
		want          []string
	}{
		{"pytest-dev/pytest", "5.4", []string{
			"testing/test_skipping.py::TestEvaluation::test_no_marker",
			"testing/test_skipping.py::test_skip_not_report_default",
			"testing/python/approx.py::TestApprox::test_repr_string[a b]",
		}, []string{"testing/python/approx.py", "testing/test_skipping.py"}},
		{"django/django", "3.0", []string{
			"test_ascii_validator (auth_tests.test_validators.UsernameValidatorsTests)",
			"test_help_text (auth_tests.test_validators.UserAttributeSimilarityValidatorTest.test_help_text)",
			"test_x (admin_views.tests.AdminViewBasicTest)",
			"A docstring title, which names no module",
		}, []string{"admin_views.tests", "auth_tests.test_validators"}},
		{"sphinx-doc/sphinx", "3.5", []string{"tests/test_ext_autodoc.py::test_autodoc"}, []string{"tests/test_ext_autodoc.py"}},
	}
	for _, c := range cases {
		row := Row{InstanceID: "x__y-1", Repo: c.repo, Version: c.version, PassToPass: c.p2p}
		task, err := Options{Images: DefaultImages, Mode: P2P}.Task(row)
		if err != nil {
			t.Fatalf("%s: %v", c.repo, err)
		}
		if task.TestArgs == nil || !reflect.DeepEqual(task.TestArgs.Original, c.want) || task.TestArgs.Related != "" {
			t.Errorf("%s: test args %+v, want original %q", c.repo, task.TestArgs, c.want)
		}
	}
	// Lists none of whose entries names a file or module (Django docstring
	// titles, sympy's bare names) run the related tests.
	for _, row := range []Row{
		{InstanceID: "django__django-1", Repo: "django/django", Version: "3.0", PassToPass: []string{"A docstring title"}},
		{InstanceID: "sympy__sympy-20590", Repo: "sympy/sympy", Version: "1.7", PassToPass: []string{"test_immutable"}},
	} {
		p2p, err1 := Options{Images: DefaultImages, Mode: P2P}.Task(row)
		rel, err2 := Options{Images: DefaultImages, Mode: Related}.Task(row)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(p2p.TestArgs, rel.TestArgs) {
			t.Errorf("%s: p2p test args %+v (%v), want the related ones %+v (%v)", row.InstanceID, p2p.TestArgs, err1, rel.TestArgs, err2)
		}
	}
	// An empty list has nothing to run: refused rather than run as the whole suite.
	_, err := Options{Images: DefaultImages, Mode: P2P}.Task(Row{InstanceID: "django__django-1", Repo: "django/django", Version: "3.0"})
	if err == nil || !strings.Contains(err.Error(), "PASS_TO_PASS is empty") {
		t.Errorf("p2p with an empty PASS_TO_PASS: %v", err)
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": Related, "related": Related, "p2p": P2P, "all": All} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	if _, err := ParseMode("some"); err == nil {
		t.Error("unknown mode accepted")
	}
}

// TestTaskIgnoresTheAnswer changes every column of a row that holds or
// reveals the answer (test_patch, patch, FAIL_TO_PASS, hints) and checks that
// the derived task does not change, in every mode.
func TestTaskIgnoresTheAnswer(t *testing.T) {
	base := map[string]any{
		"instance_id": "django__django-11099", "repo": "django/django", "version": "3.0",
		"base_commit": "abc", "problem_statement": "UsernameValidator allows trailing newline",
		"PASS_TO_PASS": `["test_ascii (auth_tests.test_validators.UsernameValidatorsTests)"]`,
		"test_patch":   "diff --git a/tests/auth_tests/test_validators.py b/tests/auth_tests/test_validators.py\n",
		"patch":        "diff --git a/django/contrib/auth/validators.py b/django/contrib/auth/validators.py\n",
		"FAIL_TO_PASS": `["test_unicode_validator (auth_tests.test_validators.UsernameValidatorsTests)"]`,
		"hints_text":   "look at validators.py",
	}
	changed := map[string]any{}
	for k, v := range base {
		changed[k] = v
	}
	changed["test_patch"] = "diff --git a/tests/other_app/test_other.py b/tests/other_app/test_other.py\n"
	changed["patch"] = "diff --git a/django/db/models/query.py b/django/db/models/query.py\n"
	changed["FAIL_TO_PASS"] = `["test_other (other_app.test_other.T)", "test_more (more.tests.T)"]`
	changed["hints_text"] = "something else"
	decode := func(m map[string]any) Row {
		b, _ := json.Marshal(m)
		var r Row
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, mode := range Modes() {
		opts := Options{Images: DefaultImages, Mode: mode}
		a, err1 := opts.Task(decode(base))
		b, err2 := opts.Task(decode(changed))
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Errorf("%s: the task depends on the answer:\n%s\n%s", mode, ja, jb)
		}
		if strings.Contains(string(ja), "test_unicode_validator") || strings.Contains(string(ja), "validators.py") {
			t.Errorf("%s: the task holds the answer: %s", mode, ja)
		}
	}
}

// TestSelectionInputsIgnoreTheAnswer checks that the runs a job plans (the
// selection's inputs: commands, environments, keys) do not change when the
// answer columns of its row do, in every mode.
func TestSelectionInputsIgnoreTheAnswer(t *testing.T) {
	row := func(testPatch, f2p string) Row {
		b, _ := json.Marshal(map[string]any{
			"instance_id": "astropy__astropy-12907", "repo": "astropy/astropy", "version": "4.3",
			"base_commit": "abc", "problem_statement": "separability_matrix is wrong for nested models",
			"PASS_TO_PASS": `["astropy/modeling/tests/test_separable.py::test_coord_matrix"]`,
			"test_patch":   testPatch, "FAIL_TO_PASS": f2p,
		})
		var r Row
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	a := row("diff --git a/astropy/modeling/tests/test_separable.py b/astropy/modeling/tests/test_separable.py\n", `["astropy/modeling/tests/test_separable.py::test_separable[compound_model6-result6]"]`)
	b := row("diff --git a/astropy/units/tests/test_units.py b/astropy/units/tests/test_units.py\n", `["astropy/units/tests/test_units.py::test_x"]`)
	cand := []scoring.Candidate{{ID: "0/m", Patch: "diff --git a/astropy/modeling/separable.py b/astropy/modeling/separable.py\n--- a/astropy/modeling/separable.py\n+++ b/astropy/modeling/separable.py\n@@ -1 +1 @@\n-x\n+y\n"}}
	listed := executor.Result{Status: executor.Completed, Cases: []executor.Case{{ID: "astropy/modeling/tests/test_separable.py", Outcome: outcome.Pass}}}
	for _, mode := range Modes() {
		var plans [2]string
		for i, r := range []Row{a, b} {
			task, err := Options{Images: DefaultImages, Mode: mode}.Task(r)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := selector.NewPlan(selector.Job{ID: "j", Task: task, Candidates: cand})
			if err != nil {
				t.Fatal(err)
			}
			first, _ := json.Marshal(plan.Needed())
			if err := plan.Record(selector.ListRunID, listed); err != nil && mode == Related {
				t.Fatal(err)
			}
			then, _ := json.Marshal(plan.Needed())
			plans[i] = string(first) + string(then)
		}
		if plans[0] != plans[1] {
			t.Errorf("%s: the planned runs depend on the answer:\n%s\n%s", mode, plans[0], plans[1])
		}
		if mode == Related && !strings.Contains(plans[0], "astropy/modeling/tests/test_separable.py") {
			t.Errorf("related: the runs do not test the changed module: %s", plans[0])
		}
	}
}
