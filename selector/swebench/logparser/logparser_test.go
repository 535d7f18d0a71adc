package logparser

import "testing"

// TestNames maps case IDs of the formats' captured outputs
// (executor/testdata; selector's TestPassToPass parses them) to the names
// each family of the harness's log parsers gives them.
func TestNames(t *testing.T) {
	families := []struct {
		parsers []Parser
		names   map[string]string // case ID -> harness name
	}{
		{[]Parser{Django}, map[string]string{
			"test_pass (shapes.tests.AreaTests.test_pass)":          "test_pass (shapes.tests.AreaTests.test_pass)",
			"test_square (shapes.tests.PerimeterTests.test_square)": "test_square (shapes.tests.PerimeterTests.test_square)",
			// A docstring's first line is the name, as SWE-bench writes it.
			"Area of a unit square is one.": "Area of a unit square is one.",
		}},
		{[]Parser{Sympy}, map[string]string{
			"sympy/core/tests/test_bestpatch_fixture.py::test_pass": "test_pass",
			"sympy/core/tests/test_truediv.py::test_truediv":        "test_truediv",
		}},
		{[]Parser{Pytest, PytestV2, Seaborn}, map[string]string{
			"tests/test_a.py::test_pass":                         "tests/test_a.py::test_pass",
			"tests/test_a.py::TestK::test_m":                     "tests/test_a.py::TestK::test_m",
			"tests/test_a.py::test_param[e[f]]":                  "tests/test_a.py::test_param[e[f]]",
			"tests/test_a.py::test_param[a b]":                   "tests/test_a.py::test_param[a", // cut at the space
			"tests/test_names.py::test_path[/tmp/data/a.txt]":    "tests/test_names.py::test_path[/tmp/data/a.txt]",
			"tests/test_names.py::test_button[MouseButton.LEFT]": "tests/test_names.py::test_button[MouseButton.LEFT]",
		}},
		{[]Parser{PytestOptions}, map[string]string{
			"tests/test_names.py::test_path[/tmp/data/a.txt]":      "tests/test_names.py::test_path[/a.txt]",
			"tests/test_names.py::test_path[//server/share/b.txt]": "tests/test_names.py::test_path[//server/share/b.txt]",
			"tests/test_names.py::test_path[/tmp/*.py]":            "tests/test_names.py::test_path[/tmp/*.py]",
			"tests/test_names.py::test_path[rel/c.txt]":            "tests/test_names.py::test_path[rel/c.txt]",
			"tests/test_a.py::test_param[e[f]]":                    "tests/test_a.py::test_param[e[f]]",
			"tests/test_a.py::test_param[a b]":                     "tests/test_a.py::test_param[a",
			"tests/test_a.py::test_pass":                           "tests/test_a.py::test_pass",
		}},
		{[]Parser{Matplotlib}, map[string]string{
			"tests/test_names.py::test_button[MouseButton.LEFT]":  "tests/test_names.py::test_button[1]",
			"tests/test_names.py::test_button[MouseButton.RIGHT]": "tests/test_names.py::test_button[3]",
			"tests/test_names.py::test_path[/tmp/data/a.txt]":     "tests/test_names.py::test_path[/tmp/data/a.txt]",
			"tests/test_a.py::test_param[a b]":                    "tests/test_a.py::test_param[a",
		}},
	}
	covered := map[Parser]bool{}
	for _, fam := range families {
		for id, want := range fam.names {
			for _, p := range fam.parsers {
				covered[p] = true
				if got := p.Name(id); got != want {
					t.Errorf("%s.Name(%q) = %q, want %q", p, id, got, want)
				}
			}
		}
	}
	for _, p := range Parsers() {
		if !covered[p] {
			t.Errorf("parser %s has no test", p)
		}
	}
}

// TestNameRewrites: the harness's rewrites on ids the fixtures do not hold.
func TestNameRewrites(t *testing.T) {
	for _, tc := range []struct {
		p        Parser
		id, want string
	}{
		// Text after the last "]" is dropped by the options pattern.
		{PytestOptions, "t.py::f[/a/b.txt]x", "t.py::f[/b.txt]"},
		{PytestOptions, "t.py::f[/a/b.txt]-[/c/d]", "t.py::f[/d]"},
		{PytestOptions, "t.py::f[/a/dir/]", "t.py::f[/]"},
		{PytestOptions, "t.py::f[no-close", "t.py::f[no-close"},
		{PytestV2, "t.py::f[\x1b[1mx]", "t.py::f[x]"},
		{Sympy, "test_bare", "test_bare"},
		{Parser("parse_log_nope"), "t.py::f[a b]", "t.py::f[a b]"},
	} {
		if got := tc.p.Name(tc.id); got != tc.want {
			t.Errorf("%s.Name(%q) = %q, want %q", tc.p, tc.id, got, tc.want)
		}
	}
	if err := Parser("parse_log_nope").Validate(); err == nil {
		t.Error("an unknown parser validates")
	}
	for _, p := range Parsers() {
		if err := p.Validate(); err != nil {
			t.Error(err)
		}
	}
}
