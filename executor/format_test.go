package executor

import (
	"strings"
	"testing"
)

// TestRegistry: every registered format is complete, and names are unique.
func TestRegistry(t *testing.T) {
	seen := map[Format]bool{}
	for _, s := range Formats() {
		if s.Name == "" || seen[s.Name] {
			t.Errorf("format %q: empty or registered twice", s.Name)
		}
		seen[s.Name] = true
		if s.Doc == "" || s.Runner == "" || s.CaseID == "" {
			t.Errorf("format %q: Doc, Runner and CaseID document it (docs/FORMATS.md)", s.Name)
		}
		got, err := s.Name.Spec()
		if err != nil || got != s {
			t.Errorf("format %q: Spec() = %v, %v", s.Name, got, err)
		}
		if s.Internal {
			continue
		}
		if len(s.TestFiles) == 0 || s.testFunc == nil || s.owns == nil {
			t.Errorf("format %q: test files, test functions and attribution are needed by every task format", s.Name)
		}
		if s.Language != "" && s.directive == nil {
			t.Errorf("format %q: a format with a language says how its runner names a test file", s.Name)
		}
	}
	for _, name := range []Format{GoJSON, Pytest, JUnit, Django, Sympy} {
		if !seen[name] {
			t.Errorf("format %q is not registered", name)
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	for _, tc := range []struct {
		f    Format
		want string
	}{
		{"tap", `test_format "tap" is not known: use one of "go-json", "pytest", "junit", "django", "sympy"`},
		{"", `no test_format given: set it to one of "go-json", "pytest", "junit", "django", "sympy"`},
	} {
		if _, err := tc.f.Spec(); err == nil || err.Error() != tc.want {
			t.Errorf("Spec(%q) error %v, want %q", tc.f, err, tc.want)
		}
	}
	if strings.Contains(FormatNames(), string(Listing)) {
		t.Errorf("FormatNames() = %s offers the internal listing format", FormatNames())
	}
}

func TestDeclaredFunc(t *testing.T) {
	for _, tc := range []struct {
		format Format
		line   string
		want   string
	}{
		{GoJSON, "func TestX(t *testing.T) {", "TestX"},
		{GoJSON, "func FuzzY(f *testing.F) {", "FuzzY"},
		{GoJSON, "func helper() {", ""},
		{Pytest, "def test_x():", "test_x"},
		{Pytest, "    async def test_y(self):", "test_y"},
		{Django, "    def test_z(self):", "test_z"},
		{Sympy, "def test_w():", "test_w"},
		{Sympy, "def helper():", ""},
		{JUnit, "func TestJ(t *testing.T) {", "TestJ"},
		{JUnit, "def test_j():", "test_j"},
	} {
		spec, err := tc.format.Spec()
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := spec.DeclaredFunc(tc.line); got != tc.want {
			t.Errorf("%s: DeclaredFunc(%q) = %q, want %q", tc.format, tc.line, got, tc.want)
		}
	}
}

func TestDirectives(t *testing.T) {
	for _, tc := range []struct {
		format Format
		file   string
		want   string // "" wants an error
	}{
		{Pytest, "tests/test_x.py", "tests/test_x.py"},
		{Pytest, "./tests/../tests/test_x.py", "tests/test_x.py"},
		{Pytest, "../outside.py", ""},
		{Sympy, "sympy/core/tests/test_basic.py", "sympy/core/tests/test_basic.py"},
		{Django, "tests/utils_tests/test_text.py", "utils_tests.test_text"},
		{GoJSON, "pkg/sub/x_test.go", "./pkg/sub"},
		{GoJSON, "x_test.go", "."},
		{JUnit, "tests/test_x.py", ""},
	} {
		spec, err := tc.format.Spec()
		if err != nil {
			t.Fatal(err)
		}
		got, err := spec.Directive(tc.file)
		if (tc.want == "") != (err != nil) || got != tc.want {
			t.Errorf("%s: Directive(%q) = %q, %v; want %q", tc.format, tc.file, got, err, tc.want)
		}
		// Only JUnit's runner is not named: any runner may write a report.
		if spec.NamesTestFiles() != (tc.format != JUnit) {
			t.Errorf("%s: NamesTestFiles() = %v", tc.format, spec.NamesTestFiles())
		}
	}
}

func TestCaseDirective(t *testing.T) {
	for _, tc := range []struct {
		format Format
		id     string
		want   string // "" wants none
	}{
		{Pytest, "tests/test_x.py::TestC::test_f[a b]", "tests/test_x.py"},
		{Pytest, "tests/test_x.py", ""},
		{Pytest, "test_bare", ""},
		{Sympy, "sympy/core/tests/test_basic.py::test_equality", "sympy/core/tests/test_basic.py"},
		{Sympy, "test_equality", ""}, // SWE-bench's bare name
		{Django, "test_x (admin_views.tests.AdminViewTests)", "admin_views.tests"},
		{Django, "test_x (admin_views.tests.AdminViewTests.test_x)", "admin_views.tests"},
		{Django, "test_x (utils_tests.test_text.TestUtilsText)", "utils_tests.test_text"},
		{Django, "Regression for #12345.", ""},
		{Django, "app.tests (unittest.loader._FailedTest)", ""},
		{GoJSON, "example.com/m/pkg::TestX", ""},
	} {
		spec, err := tc.format.Spec()
		if err != nil {
			t.Fatal(err)
		}
		got, ok := spec.CaseDirective(tc.id)
		if ok != (tc.want != "") || got != tc.want {
			t.Errorf("%s: CaseDirective(%q) = %q, %v; want %q", tc.format, tc.id, got, ok, tc.want)
		}
	}
}
