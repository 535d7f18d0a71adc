package swebench

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/selector/swebench/logparser"
)

// The spec table below is written from the public SWE-bench harness:
// swebench/harness/constants/python.py (MAP_REPO_VERSION_TO_SPECS: test_cmd,
// install, eval_commands, execute_test_as_nonroot, nano_cpus per repository
// version), swebench/harness/test_spec/python.py (the eval script and
// get_test_directives) and swebench/harness/log_parsers/python.py (the log
// parser of each repository). Where copies of the harness disagree (an
// unmerged "-p no:nose" for old astropy, "pytest -v" for old scikit-learn),
// the table follows the released harness: see docs/FORMATS.md.

// Test commands of the harness, without directives.
const (
	testPytest        = "pytest -rA"
	testAstropyPytest = "pytest -rA -vv -o console_output_style=classic --tb=no"
	testDjango        = "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1"
	testDjangoNoPar   = "./tests/runtests.py --verbosity 2"
	testSeaborn       = "pytest --no-header -rA"
	testSphinx        = "tox --current-env -epy39 -v --"
	testSympy         = "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose"
)

// Activate is the conda activation of every SWE-bench instance image, as the
// harness's eval script does it before the tests.
const Activate = "source /opt/miniconda3/bin/activate && conda activate testbed"

// Workdir is where the instance images hold the repository.
const Workdir = "/testbed"

// Spec is what the harness's eval script does for one repository version,
// apart from the hidden test patch.
type Spec struct {
	// TestCmd is the harness's test_cmd; the test directives follow it.
	TestCmd string
	// Install is re-run by the eval script before the tests, so that a
	// candidate's change to compiled or installed code takes effect (an old
	// Django is installed into site-packages with setup.py install, requests
	// with a plain pip install, scikit-learn builds its extensions).
	Install string
	// Pre are the eval_commands run first (locales for old Django).
	Pre []string
	// User runs the tests when not root (execute_test_as_nonroot).
	User string
	// CPUs caps the container's CPUs (nano_cpus), 0 for no cap.
	CPUs float64
}

// Repository is one SWE-bench repository: its specs by version, and how
// bestpatch reads its tests.
type Repository struct {
	// Name is the dataset's repo field, "owner/name".
	Name string
	// Format is the bestpatch test-output format of its test command.
	Format executor.Format
	// LogParser is the harness's log parser of the repository: how the
	// names in its PASS_TO_PASS lists relate to bestpatch's case IDs.
	LogParser logparser.Parser
	// TestFiles are the repository's own test files (testfile.Matcher
	// patterns): SWE-bench's test directories, and not library code such
	// as django/test/utils.py or sphinx/testing/util.py.
	TestFiles []string
	// Convention names how the repository lays out the tests of a module
	// (package related), for the related mode.
	Convention string
	// Versions maps the dataset's version field to its spec.
	Versions map[string]Spec
}

// versions gives each of the names the same spec.
func versions(s Spec, names ...string) map[string]Spec {
	m := make(map[string]Spec, len(names))
	for _, n := range names {
		m[n] = s
	}
	return m
}

// merge joins version maps; a later map wins for a version in both.
func merge(ms ...map[string]Spec) map[string]Spec {
	out := map[string]Spec{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}

// with returns s changed by f, for a version that differs in one field.
func with(s Spec, f func(*Spec)) Spec {
	f(&s)
	return s
}

const (
	pipEditable = "python -m pip install -e ."
	setupPy     = "python setup.py install"
)

// Locale setup of old Django versions (the harness's eval_commands).
var (
	djangoLocale17 = []string{"export LANG=en_US.UTF-8", "export LC_ALL=en_US.UTF-8", "export PYTHONIOENCODING=utf8", "export LANGUAGE=en_US:en"}
	djangoLocale30 = []string{"sed -i '/en_US.UTF-8/s/^# //g' /etc/locale.gen && locale-gen", "export LANG=en_US.UTF-8", "export LANGUAGE=en_US:en", "export LC_ALL=en_US.UTF-8"}
)

// Test-file patterns shared by several repositories.
var (
	pythonPackageTests = []string{"*/tests/*", "conftest.py", "*/conftest.py"}
	topLevelTests      = []string{"tests/*"}
)

// repositories is the spec table: every repository of SWE-bench, Lite and
// Verified, with every version the harness knows.
var repositories = []Repository{
	{
		Name: "astropy/astropy", Format: executor.Pytest, LogParser: logparser.PytestV2,
		// astropy/tests/ itself is library code (astropy.tests.helper).
		TestFiles: []string{"astropy/*/tests/*", "conftest.py", "*/conftest.py"}, Convention: "python",
		Versions: merge(
			versions(Spec{TestCmd: testPytest, Install: "python -m pip install -e .[test] --verbose"},
				"3.0", "3.1", "3.2", "4.1", "4.2", "4.3", "5.0", "5.1", "5.2", "v5.3"),
			versions(Spec{TestCmd: testAstropyPytest, Install: "python -m pip install -e .[test] --verbose"},
				"0.1", "0.2", "0.3", "0.4", "1.1", "1.2", "1.3"),
		),
	},
	{
		Name: "django/django", Format: executor.Django, LogParser: logparser.Django,
		TestFiles: topLevelTests, Convention: "django",
		Versions: merge(
			versions(Spec{TestCmd: testDjango, Install: setupPy, Pre: djangoLocale17},
				"1.7", "1.8", "1.10", "1.11", "2.0", "2.1", "2.2"),
			versions(Spec{TestCmd: testDjangoNoPar, Install: setupPy, Pre: djangoLocale17}, "1.9"),
			versions(Spec{TestCmd: testDjango, Install: setupPy}, "1.4", "1.5", "1.6"),
			versions(Spec{TestCmd: testDjango, Install: pipEditable, Pre: djangoLocale30}, "3.0", "3.1", "3.2"),
			versions(Spec{TestCmd: testDjango, Install: pipEditable}, "4.0", "4.1", "4.2", "5.0", "5.1", "5.2"),
		),
	},
	{
		Name: "matplotlib/matplotlib", Format: executor.Pytest, LogParser: logparser.Matplotlib,
		TestFiles: pythonPackageTests, Convention: "python",
		Versions: merge(
			versions(Spec{TestCmd: testPytest, Install: pipEditable},
				"3.0", "3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.7"),
			versions(Spec{TestCmd: testPytest, Install: `python -m pip install --no-build-isolation -e ".[dev]"`}, "3.8", "3.9"),
			versions(Spec{TestCmd: testPytest, Install: "python setup.py build; python setup.py install", User: "nonroot"},
				"1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "2.0", "2.1", "2.2"),
		),
	},
	{
		Name: "mwaskom/seaborn", Format: executor.Pytest, LogParser: logparser.Seaborn,
		TestFiles: topLevelTests, Convention: "python",
		Versions: merge(
			versions(Spec{TestCmd: testSeaborn, Install: pipEditable}, "0.11"),
			versions(Spec{TestCmd: testSeaborn, Install: "python -m pip install -e .[dev]"}, "0.12", "0.13", "0.14"),
		),
	},
	{
		Name: "pallets/flask", Format: executor.Pytest, LogParser: logparser.Pytest,
		TestFiles: topLevelTests, Convention: "python",
		Versions: versions(Spec{TestCmd: testPytest, Install: pipEditable}, "2.0", "2.1", "2.2", "2.3", "3.0", "3.1"),
	},
	{
		Name: "psf/requests", Format: executor.Pytest, LogParser: logparser.PytestOptions,
		TestFiles: []string{"test_requests.py", "tests/*"}, Convention: "python",
		Versions: versions(Spec{TestCmd: testPytest, Install: "python -m pip install ."},
			"0.7", "0.8", "0.9", "0.11", "0.13", "0.14", "1.1", "1.2", "2.0", "2.2",
			"2.3", "2.4", "2.5", "2.7", "2.8", "2.9", "2.10", "2.11", "2.12", "2.17",
			"2.18", "2.19", "2.22", "2.26", "2.25", "2.27", "2.31", "3.0"),
	},
	{
		Name: "pydata/xarray", Format: executor.Pytest, LogParser: logparser.Pytest,
		TestFiles: pythonPackageTests, Convention: "python",
		Versions: versions(Spec{TestCmd: testPytest, Install: pipEditable},
			"0.12", "0.18", "0.19", "0.20", "2022.03", "2022.06", "2022.09", "2023.07", "2024.05"),
	},
	{
		Name: "pylint-dev/pylint", Format: executor.Pytest, LogParser: logparser.PytestOptions,
		TestFiles: topLevelTests, Convention: "python",
		Versions: merge(
			versions(Spec{TestCmd: testPytest, Install: pipEditable}, "2.8", "2.9", "2.10", "2.11", "2.13", "2.16"),
			versions(Spec{TestCmd: testPytest, Install: pipEditable, CPUs: 2}, "2.14", "2.15", "2.17", "3.0", "3.1", "3.2", "3.3", "4.0"),
		),
	},
	{
		Name: "pytest-dev/pytest", Format: executor.Pytest, LogParser: logparser.Pytest,
		TestFiles: []string{"testing/*"}, Convention: "python",
		Versions: versions(Spec{TestCmd: testPytest, Install: pipEditable},
			"4.4", "4.5", "4.6", "5.0", "5.1", "5.2", "5.3", "5.4", "6.0", "6.2",
			"6.3", "7.0", "7.1", "7.2", "7.4", "8.0", "8.1", "8.2", "8.3", "8.4"),
	},
	{
		Name: "scikit-learn/scikit-learn", Format: executor.Pytest, LogParser: logparser.PytestV2,
		TestFiles: pythonPackageTests, Convention: "python",
		Versions: versions(Spec{TestCmd: testPytest, Install: "python -m pip install -v --no-use-pep517 --no-build-isolation -e ."},
			"0.20", "0.21", "0.22", "1.3", "1.4", "1.5", "1.6"),
	},
	{
		Name: "sphinx-doc/sphinx", Format: executor.Pytest, LogParser: logparser.PytestV2,
		TestFiles: topLevelTests, Convention: "sphinx",
		Versions: versions(Spec{TestCmd: testSphinx, Install: "python -m pip install -e .[test]"},
			"1.5", "1.6", "1.7", "1.8", "2.0", "2.1", "2.2", "2.3", "2.4", "3.0",
			"3.1", "3.2", "3.3", "3.4", "3.5", "4.0", "4.1", "4.2", "4.3", "4.4",
			"4.5", "5.0", "5.1", "5.2", "5.3", "6.0", "6.2", "7.0", "7.1", "7.2",
			"7.3", "7.4", "8.0", "8.1"),
	},
	{
		Name: "sympy/sympy", Format: executor.Sympy, LogParser: logparser.Sympy,
		TestFiles: []string{"*/tests/*"}, Convention: "python",
		Versions: versions(Spec{TestCmd: testSympy, Install: pipEditable},
			"0.7", "1.0", "1.1", "1.2", "1.4", "1.5", "1.6", "1.7", "1.8", "1.9",
			"1.10", "1.11", "1.12", "1.13", "1.14"),
	},
}

// Repositories returns the spec table, sorted by name.
func Repositories() []Repository {
	out := slices.Clone(repositories)
	slices.SortFunc(out, func(a, b Repository) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// LookupSpec finds the repository and the spec of a row's version, or says
// which repositories or versions the table knows.
func LookupSpec(repo, version string) (Repository, Spec, error) {
	i := slices.IndexFunc(repositories, func(r Repository) bool { return r.Name == repo })
	if i < 0 {
		names := make([]string, len(repositories))
		for j, r := range repositories {
			names[j] = r.Name
		}
		slices.Sort(names)
		return Repository{}, Spec{}, fmt.Errorf("repository %q is not in the SWE-bench spec table (known: %s): write a task file for it (see docs/FORMATS.md)", repo, strings.Join(names, ", "))
	}
	r := repositories[i]
	s, ok := r.Versions[version]
	if !ok {
		known := slices.Sorted(maps.Keys(r.Versions))
		return Repository{}, Spec{}, fmt.Errorf("%s version %q is not in the SWE-bench spec table (known: %s): write a task file for it (see docs/FORMATS.md)", repo, version, strings.Join(known, ", "))
	}
	return r, s, nil
}
