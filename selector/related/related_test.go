package related

import (
	"reflect"
	"testing"
)

// Test-file listings shaped as the real repositories are (git ls-files of
// their test files), cut down.
var listings = map[string][]string{
	"sympy": {
		"sympy/core/tests/test_basic.py", "sympy/core/tests/test_numbers.py", "sympy/core/tests/test_sympify.py",
		"sympy/printing/tests/test_latex.py", "sympy/printing/pretty/tests/test_pretty.py",
		"sympy/physics/units/tests/test_util.py", "sympy/utilities/tests/test_util.py",
		"sympy/sets/tests/test_sets.py", "sympy/testing/tests/test_pytest.py",
	},
	"astropy": {
		"astropy/io/fits/tests/test_card.py", "astropy/io/fits/tests/test_header.py",
		"astropy/modeling/tests/test_separable.py", "astropy/units/tests/test_quantity.py",
		"astropy/coordinates/tests/test_sky_coord.py", "astropy/tests/tests/test_runner.py",
	},
	"sklearn": {
		"sklearn/tests/test_base.py", "sklearn/linear_model/tests/test_base.py",
		"sklearn/linear_model/tests/test_logistic.py", "sklearn/utils/tests/test_validation.py",
		"sklearn/tree/tests/test_tree.py",
	},
	"matplotlib": {
		"lib/matplotlib/tests/test_axes.py", "lib/matplotlib/tests/test_colors.py",
		"lib/mpl_toolkits/axes_grid1/tests/test_axes_grid1.py",
	},
	"xarray":   {"xarray/tests/test_dataset.py", "xarray/tests/test_variable.py", "xarray/tests/conftest.py"},
	"seaborn":  {"tests/_core/test_plot.py", "tests/test_distributions.py", "tests/test_plot.py"},
	"requests": {"tests/test_requests.py", "tests/test_utils.py", "tests/conftest.py"},
	"pytest": {
		"testing/test_skipping.py", "testing/test_mark.py", "testing/test_assertrewrite.py", "testing/test_assertion.py",
		"testing/python/approx.py", "testing/python/raises.py", "testing/python/collect.py",
	},
	"pylint": {"tests/checkers/unittest_base.py", "tests/checkers/unittest_format.py", "tests/test_self.py"},
	"flask":  {"tests/test_basic.py", "tests/test_config.py", "tests/test_blueprints.py", "tests/test_json.py"},
	"sphinx": {
		"tests/test_ext_autodoc.py", "tests/test_ext_napoleon_docstring.py", "tests/test_domain_py.py",
		"tests/test_util_inspect.py", "tests/test_build_latex.py", "tests/test_build_html.py", "tests/test_roles.py",
		"tests/test_extensions/test_ext_autodoc_configs.py",
	},
	"django": {
		"tests/auth_tests/test_validators.py", "tests/auth_tests/test_forms.py",
		"tests/utils_tests/test_text.py", "tests/utils_tests/test_dateformat.py",
		"tests/migrations/test_autodetector.py", "tests/migrations/test_commands.py",
		"tests/validators/tests.py", "tests/admin_widgets/tests.py", "tests/admin_views/tests.py",
		"tests/model_fields/test_jsonfield.py", "tests/queries/tests.py", "tests/queries/test_q.py",
		"tests/forms_tests/tests/test_widgets.py", "tests/forms_tests/widget_tests/test_select.py",
		"tests/backends/sqlite/test_operations.py", "tests/backends/base/test_operations.py",
		"tests/sitemaps_tests/test_http.py", "tests/transactions/tests.py",
	},
}

func TestFind(t *testing.T) {
	cases := []struct {
		convention, listing string
		changed             []string
		files               []string
		unmatched           []string
	}{
		{"python", "sympy", []string{"sympy/core/basic.py"}, []string{"sympy/core/tests/test_basic.py"}, nil},
		{"python", "sympy", []string{"sympy/printing/pretty/pretty.py", "sympy/printing/latex.py"},
			[]string{"sympy/printing/pretty/tests/test_pretty.py", "sympy/printing/tests/test_latex.py"}, nil},
		// The nearest test_util.py, not another package's.
		{"python", "sympy", []string{"sympy/physics/units/util.py"}, []string{"sympy/physics/units/tests/test_util.py"}, nil},
		{"python", "sympy", []string{"sympy/sets/__init__.py"}, []string{"sympy/sets/tests/test_sets.py"}, nil},
		// Library code without a test of its name, and non-source files.
		{"python", "sympy", []string{"sympy/testing/runtests.py", "doc/src/index.rst"}, nil, []string{"sympy/testing/runtests.py"}},
		{"python", "astropy", []string{"astropy/io/fits/card.py"}, []string{"astropy/io/fits/tests/test_card.py"}, nil},
		{"python", "astropy", []string{"astropy/coordinates/sky_coordinate.py"}, []string{"astropy/coordinates/tests/test_sky_coord.py"}, nil},
		{"python", "sklearn", []string{"sklearn/base.py"}, []string{"sklearn/tests/test_base.py"}, nil},
		{"python", "sklearn", []string{"sklearn/linear_model/_logistic.py", "sklearn/tree/_tree.pyx"},
			[]string{"sklearn/linear_model/tests/test_logistic.py", "sklearn/tree/tests/test_tree.py"}, nil},
		{"python", "matplotlib", []string{"lib/matplotlib/axes/_axes.py"}, []string{"lib/matplotlib/tests/test_axes.py"}, nil},
		{"python", "matplotlib", []string{"lib/mpl_toolkits/axes_grid1/axes_divider.py"}, []string{"lib/mpl_toolkits/axes_grid1/tests/test_axes_grid1.py"}, nil},
		{"python", "xarray", []string{"xarray/core/dataset.py"}, []string{"xarray/tests/test_dataset.py"}, nil},
		// seaborn's top-level tests/ mirrors the package: the mirror wins.
		{"python", "seaborn", []string{"seaborn/_core/plot.py"}, []string{"tests/_core/test_plot.py"}, nil},
		{"python", "seaborn", []string{"seaborn/distributions.py"}, []string{"tests/test_distributions.py"}, nil},
		{"python", "requests", []string{"requests/models.py", "requests/utils.py"}, []string{"tests/test_requests.py", "tests/test_utils.py"}, nil},
		{"python", "pytest", []string{"src/_pytest/skipping.py"}, []string{"testing/test_skipping.py"}, nil},
		{"python", "pytest", []string{"src/_pytest/mark/structures.py"}, []string{"testing/test_mark.py"}, nil},
		{"python", "pytest", []string{"src/_pytest/python_api.py"}, []string{"testing/python/approx.py", "testing/python/raises.py"}, nil},
		{"python", "pytest", []string{"src/_pytest/assertion/rewrite.py"}, []string{"testing/test_assertrewrite.py"}, nil},
		{"python", "pylint", []string{"pylint/checkers/base.py"}, []string{"tests/checkers/unittest_base.py"}, nil},
		{"python", "flask", []string{"src/flask/app.py", "src/flask/config.py", "src/flask/json/__init__.py"},
			[]string{"tests/test_basic.py", "tests/test_config.py", "tests/test_json.py"}, nil},
		{"sphinx", "sphinx", []string{"sphinx/ext/autodoc/__init__.py"}, []string{"tests/test_ext_autodoc.py"}, nil},
		{"sphinx", "sphinx", []string{"sphinx/ext/napoleon/docstring.py"}, []string{"tests/test_ext_napoleon_docstring.py"}, nil},
		{"sphinx", "sphinx", []string{"sphinx/domains/python.py", "sphinx/writers/latex.py"}, []string{"tests/test_build_latex.py", "tests/test_domain_py.py"}, nil},
		{"sphinx", "sphinx", []string{"sphinx/roles.py", "sphinx/util/inspect.py"}, []string{"tests/test_roles.py", "tests/test_util_inspect.py"}, nil},
		{"sphinx", "sphinx", []string{"sphinx/ext/autodoc/typehints.py"}, []string{"tests/test_ext_autodoc.py"}, nil},
		{"django", "django", []string{"django/contrib/auth/validators.py"}, []string{"tests/auth_tests/test_validators.py"}, nil},
		{"django", "django", []string{"django/utils/text.py", "django/utils/dateformat.py"}, []string{"tests/utils_tests/test_dateformat.py", "tests/utils_tests/test_text.py"}, nil},
		{"django", "django", []string{"django/db/migrations/autodetector.py"}, []string{"tests/migrations/test_autodetector.py"}, nil},
		{"django", "django", []string{"django/core/validators.py"}, []string{"tests/validators/__init__.py"}, nil},
		{"django", "django", []string{"django/contrib/admin/widgets.py"}, []string{"tests/admin_widgets/__init__.py"}, nil},
		{"django", "django", []string{"django/contrib/admin/options.py"}, []string{"tests/admin_views/__init__.py"}, nil},
		{"django", "django", []string{"django/db/models/fields/__init__.py", "django/db/models/query.py"}, []string{"tests/model_fields/__init__.py", "tests/queries/__init__.py"}, nil},
		{"django", "django", []string{"django/forms/widgets.py"}, []string{"tests/forms_tests/tests/test_widgets.py"}, nil},
		{"django", "django", []string{"django/db/backends/sqlite3/operations.py"}, []string{"tests/backends/base/test_operations.py", "tests/backends/sqlite/test_operations.py"}, nil},
		{"django", "django", []string{"django/core/management/commands/makemigrations.py"}, []string{"tests/migrations/test_commands.py"}, nil},
		{"django", "django", []string{"django/contrib/sitemaps/__init__.py", "django/db/transaction.py"}, []string{"tests/sitemaps_tests/__init__.py", "tests/transactions/__init__.py"}, nil},
		// Library code of the test framework is no test, and has none here.
		{"django", "django", []string{"django/test/utils.py", "docs/releases/4.0.txt"}, nil, []string{"django/test/utils.py"}},
	}
	for _, c := range cases {
		conv, err := Lookup(c.convention)
		if err != nil {
			t.Fatal(err)
		}
		sel := conv.Find(listings[c.listing], c.changed)
		if !reflect.DeepEqual(sel.Files, c.files) || !reflect.DeepEqual(sel.Unmatched, c.unmatched) {
			t.Errorf("%s %v: files %q unmatched %q, want %q and %q", c.convention, c.changed, sel.Files, sel.Unmatched, c.files, c.unmatched)
		}
	}
}

func TestLookupUnknown(t *testing.T) {
	if _, err := Lookup("nope"); err == nil {
		t.Error("want an error")
	}
}
