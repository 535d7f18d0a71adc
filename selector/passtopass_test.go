package selector

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/outcome"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector/swebench/logparser"
)

// fixtureResult parses a runner output captured in executor/testdata with
// the format's parser, as a run's collector does.
func fixtureResult(t *testing.T, f executor.Format, file string) executor.Result {
	t.Helper()
	out, err := os.ReadFile(filepath.Join("..", "executor", "testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	c, err := executor.NewCollector(f, executor.Stage{})
	if err != nil {
		t.Fatal(err)
	}
	c.Stdout().Write(out)
	c.Stderr().Write([]byte("bestpatch:exit=0\n"))
	res := c.Result()
	if res.Status != executor.Completed {
		t.Fatalf("%s: %s: %s", file, res.Status, res.Reason)
	}
	return res
}

// failing is a result with the given cases failed.
func failing(r executor.Result, ids ...string) executor.Result {
	r.Cases = slices.Clone(r.Cases)
	for i, c := range r.Cases {
		if slices.Contains(ids, c.ID) {
			r.Cases[i].Outcome = outcome.Fail
		}
	}
	return r
}

// TestPassToPass: in p2p mode only the original cases PASS_TO_PASS names
// count, matched through the names the harness's log parser gives the
// case IDs, per repository family, on the real case IDs of the formats'
// captured outputs; entries that match no case are named in the verdict.
func TestPassToPass(t *testing.T) {
	families := []struct {
		name    string
		format  executor.Format
		fixture string
		parser  logparser.Parser
		p2p     []string // as a dataset row writes them
		counted []string // the case IDs they name
		missing []string // entries naming no case
		// broken: a counted case the candidate breaks (a regression) and
		// a case outside the list it breaks too (none).
		broken, outside string
	}{
		{"django", executor.Django, "django-v2.txt", logparser.Django,
			[]string{"test_pass (shapes.tests.AreaTests.test_pass)", "Area of a unit square is one.", "test_gone (shapes.tests.AreaTests)"},
			[]string{"Area of a unit square is one.", "test_pass (shapes.tests.AreaTests.test_pass)"},
			[]string{"test_gone (shapes.tests.AreaTests)"},
			"test_pass (shapes.tests.AreaTests.test_pass)", "test_square (shapes.tests.PerimeterTests.test_square)"},
		{"sympy: bare names", executor.Sympy, "sympy-verbose.txt", logparser.Sympy,
			[]string{"test_pass", "test_truediv", "test_nowhere"},
			[]string{"sympy/core/tests/test_bestpatch_fixture.py::test_pass", "sympy/core/tests/test_truediv.py::test_truediv"},
			[]string{"test_nowhere"},
			"sympy/core/tests/test_truediv.py::test_truediv", "sympy/core/tests/test_truediv.py::test_basic"},
		{"requests, pylint: shortened path parameters", executor.Pytest, "pytest-rA.txt", logparser.PytestOptions,
			[]string{"tests/test_names.py::test_path[/a.txt]", "tests/test_names.py::test_path[/tmp/*.py]", "tests/test_a.py::test_param[a",
				// The full path is what pytest printed, never what this parser writes.
				"tests/test_names.py::test_path[/tmp/data/a.txt]"},
			[]string{"tests/test_a.py::test_param[a b]", "tests/test_names.py::test_path[/tmp/*.py]", "tests/test_names.py::test_path[/tmp/data/a.txt]"},
			[]string{"tests/test_names.py::test_path[/tmp/data/a.txt]"},
			"tests/test_names.py::test_path[/tmp/data/a.txt]", "tests/test_names.py::test_path[rel/c.txt]"},
		{"matplotlib: mouse buttons", executor.Pytest, "pytest-rA.txt", logparser.Matplotlib,
			[]string{"tests/test_names.py::test_button[1]", "tests/test_names.py::test_button[3]"},
			[]string{"tests/test_names.py::test_button[MouseButton.LEFT]", "tests/test_names.py::test_button[MouseButton.RIGHT]"},
			nil,
			"tests/test_names.py::test_button[MouseButton.RIGHT]", "tests/test_a.py::test_pass"},
		{"flask, xarray, pytest, astropy, scikit-learn, sphinx, seaborn", executor.Pytest, "pytest-rA.txt", logparser.Pytest,
			[]string{"tests/test_a.py::TestK::test_m", "tests/test_a.py::test_param[e[f]]", "tests/test_a.py::test_param[a"},
			[]string{"tests/test_a.py::TestK::test_m", "tests/test_a.py::test_param[a b]", "tests/test_a.py::test_param[e[f]]"},
			nil,
			"tests/test_a.py::TestK::test_m", "tests/test_a.py::test_pass"},
	}
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			base := fixtureResult(t, fam.format, fam.fixture)
			job := Job{ID: "j", Candidates: []scoring.Candidate{{ID: "a", Patch: fixPatch}}, Task: Task{
				ID: "t", Env: executor.Environment{Repo: "/r"}, TestCommand: "run", Format: fam.format,
				PassToPass: &PassToPass{Tests: fam.p2p, LogParser: fam.parser},
			}}
			p, err := NewPlan(job)
			if err != nil {
				t.Fatal(err)
			}
			for !p.Done() {
				for _, r := range p.Needed() {
					res := base
					if len(r.Candidates) > 0 {
						res = failing(base, fam.broken, fam.outside)
					}
					record(t, p, r.ID, res)
				}
			}
			m := p.Matrix()
			got := slices.Sorted(maps.Keys(m.Base.Cases[OriginalArtifact]))
			if !slices.Equal(got, fam.counted) {
				t.Errorf("counted %q, want %q", got, fam.counted)
			}
			rep, err := Score(p)
			if err != nil {
				t.Fatal(err)
			}
			if r := rep.Verdict.Ranking[0].Signals.Regressions; r == nil || *r != 1 {
				t.Errorf("regressions %v, want 1: %s is named, %s is not", r, fam.broken, fam.outside)
			}
			notes := strings.Join(rep.Verdict.Notes, "\n")
			if !strings.Contains(notes, "PASS_TO_PASS names") || !strings.Contains(notes, string(fam.parser)) {
				t.Errorf("notes do not say what PASS_TO_PASS counted:\n%s", notes)
			}
			for _, e := range fam.missing {
				if !strings.Contains(notes, "match no case of the base run and are not counted: ") || !strings.Contains(notes, e) {
					t.Errorf("notes do not name the unmatched entry %q:\n%s", e, notes)
				}
			}
			if len(fam.missing) == 0 && strings.Contains(notes, "match no case") {
				t.Errorf("notes report unmatched entries where every one matched:\n%s", notes)
			}
		})
	}
}

func TestPassToPassRefusals(t *testing.T) {
	for _, tc := range []struct {
		p2p  PassToPass
		want string
	}{
		{PassToPass{LogParser: logparser.Django}, "lists no test"},
		{PassToPass{Tests: []string{"x"}, LogParser: "parse_log_cobol"}, "parse_log_cobol"},
	} {
		job := Job{ID: "j", Candidates: []scoring.Candidate{{ID: "a", Patch: fixPatch}}, Task: Task{
			ID: "t", Env: executor.Environment{Repo: "/r"}, TestCommand: "run", Format: executor.Django, PassToPass: &tc.p2p,
		}}
		if _, err := NewPlan(job); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error saying %q", tc.p2p, err, tc.want)
		}
	}
}
