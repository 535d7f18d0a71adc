package selector

import (
	"context"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/testfile"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector/swebench/logparser"
)

// Task describes one issue to select a patch for: where to run, how to test.
type Task struct {
	// ID is the SWE-bench instance_id; predictions are matched to it.
	ID string `json:"instance_id"`
	// Env is the environment: a Docker image or a local checkout.
	Env executor.Environment `json:"environment"`
	// TestCommand runs the tests from the repository root.
	TestCommand string `json:"test_command"`
	// Format is the test-output format of TestCommand.
	Format executor.Format `json:"test_format"`
	// Report is the JUnit report path, for Format junit.
	Report string `json:"junit_report,omitempty"`
	// Timeout bounds one run's test command (Go duration, e.g. "10m").
	Timeout Duration `json:"timeout,omitzero"`
	// OriginalTests selects which original test cases count for regressions:
	// case IDs, where `*` matches any run of characters. Empty: all of them.
	OriginalTests []string `json:"original_tests,omitempty"`
	// PassToPass, when set, counts for regressions only the original cases
	// a SWE-bench PASS_TO_PASS list names (the p2p regression tests of a
	// dataset row); with OriginalTests too, a case must match both.
	PassToPass *PassToPass `json:"pass_to_pass,omitempty"`
	// TestFiles are patterns of test files (restored if a candidate touches
	// them). Empty: the defaults for the test format.
	TestFiles []string `json:"test_files,omitempty"`
	// GeneratedTests are test artifacts, each a patch that adds test files.
	GeneratedTests []GeneratedTest `json:"generated_tests,omitempty"`
	// Problem is the issue text (for the generator and reports).
	Problem string `json:"problem_statement,omitempty"`
	// TestArgs, when set, says that TestCommand takes the tests to run as
	// arguments, and which ones (a SWE-bench task's test directives).
	TestArgs *TestArgs `json:"test_args,omitempty"`
}

// TestArgs are the arguments appended (shell-quoted) to a task's test
// command to choose the original tests, as the SWE-bench harness appends
// its test directives. A run that applies generated tests also names their
// test files, in the format's form (FormatSpec.Directive).
type TestArgs struct {
	// Original are fixed arguments: test files or modules, in the form the
	// test runner takes them.
	Original []string `json:"original,omitempty"`
	// Related, when set, names the repository convention (package related)
	// that finds the existing test files of the modules the candidates
	// change: the plan first lists the repository's test files at the base
	// (ListPatterns), then appends the arguments of the related files to
	// every run's command. A job none of whose changed modules has a
	// related test runs its generated tests alone; without any it cannot
	// give evidence, and says what to use instead.
	Related string `json:"related,omitempty"`
	// ListPatterns are the patterns (`*` crosses `/`) of the test files the
	// listing run lists; empty means the task's test_files.
	ListPatterns []string `json:"list_patterns,omitempty"`
}

// PassToPass is a SWE-bench PASS_TO_PASS list: test names as the harness's
// log parser wrote them, which are not always bestpatch's case IDs (sympy's
// are bare names; some parsers rewrite pytest parameters). A case counts
// when the parser's name of its ID is in the list.
type PassToPass struct {
	// Tests are the names, as the dataset row holds them.
	Tests []string `json:"tests"`
	// LogParser is the harness's log parser that named them
	// (parse_log_django, parse_log_pytest_options, ...).
	LogParser logparser.Parser `json:"log_parser"`
}

// TestFileMatcher says which files are the task's test files: its
// test_files, or its format's defaults. The executor strips a candidate's
// changes to them and scoring flags those changes, with this one matcher.
// A task whose format is not known has no default test files (Validate
// refuses it).
func (t Task) TestFileMatcher() testfile.Matcher {
	if len(t.TestFiles) > 0 {
		return testfile.NewMatcher(t.TestFiles...)
	}
	spec, err := t.Format.Spec()
	if err != nil {
		return testfile.Matcher{}
	}
	return spec.TestFileMatcher()
}

// GeneratedTest is one generated test artifact.
type GeneratedTest struct {
	ID string `json:"id"`
	// Patch adds the test files. In a task file, patch_file may name a file
	// (relative to the task file) holding the patch instead.
	Patch string `json:"patch"`
}

// Job is one selection: a task, its candidates, and how to choose.
type Job struct {
	ID         string              `json:"id,omitempty"`
	Task       Task                `json:"task"`
	Candidates []scoring.Candidate `json:"candidates"`
	Options    Options             `json:"options,omitzero"`
}

// Options tune a job's selection.
type Options struct {
	// Policy names the selection policy; empty means "auto".
	Policy string `json:"policy,omitempty"`
	// BaseRuns is how many times the base run is repeated to find flaky
	// cases; 0 means the default (2).
	BaseRuns int `json:"base_runs,omitempty"`
	// GenerateTests asks the model endpoint for this many tests that
	// reproduce the issue (kept only if they compile and fail on base).
	GenerateTests int `json:"generate_tests,omitempty"`
	// Judge asks the model endpoint for P(YES) of every candidate that
	// carries no verifier score.
	Judge bool `json:"judge,omitempty"`
	// AdversarialRounds bounds the rounds in which the model writes a test
	// to tell tied top candidates apart.
	AdversarialRounds int `json:"adversarial_rounds,omitempty"`
	// ConfidenceModels replace the built-in confidence models of their
	// scopes (scoring.DefaultConfidence): models fitted on the user's own
	// labelled runs (bestpatch batch --fit-confidence).
	ConfidenceModels scoring.ConfidenceModels `json:"confidence_models,omitempty"`
	// MinConfidence, when above 0, turns a verdict whose confidence is below
	// it (or that has no calibrated confidence) into an abstention that asks
	// for more samples (Verdict.SampleMore).
	MinConfidence float64 `json:"min_confidence,omitempty"`
	// Execution says what runs: empty or ExecutionAdaptive (the default)
	// runs the candidates in the order the policy ranks them without
	// execution and stops running those whose runs cannot change the
	// choice or the ties (docs/SCORING.md, "Adaptive execution");
	// ExecutionAll runs every candidate; ExecutionNone runs nothing and
	// chooses by the execution-free signals (consensus, verifier scores):
	// the verdict then says it rests on no execution. Only an explicit
	// request gets an execution-free choice: a job whose runs produced no
	// evidence abstains instead.
	Execution string `json:"execution,omitempty"`
	// Stream, when set, makes the job an open one: it may start with no
	// candidate, takes candidates as they are sampled (Selector.Open,
	// Stream.Append) until it is closed, and after each append says, by
	// this rule, whether another sample is worth drawing.
	Stream *scoring.StopRule `json:"stream,omitempty"`
}

// ModelWork names, by their JSON names, the options that ask the model
// endpoint for evidence; empty when none does.
func (o Options) ModelWork() []string {
	var out []string
	if o.GenerateTests > 0 {
		out = append(out, "generate_tests")
	}
	if o.Judge {
		out = append(out, "judge")
	}
	if o.AdversarialRounds > 0 {
		out = append(out, "adversarial_rounds")
	}
	return out
}

// The values of Options.Execution.
const (
	// ExecutionNone asks for an execution-free choice.
	ExecutionNone = "none"
	// ExecutionAll runs every distinct candidate.
	ExecutionAll = "all"
	// ExecutionAdaptive (the default) runs only what can change the choice.
	ExecutionAdaptive = "adaptive"
)

// ExecutionModes are the values Options.Execution takes (empty is
// ExecutionAdaptive).
var ExecutionModes = []string{ExecutionAdaptive, ExecutionAll, ExecutionNone}

// adaptive reports whether the job stops running candidates whose runs
// cannot change the choice. A job that asks for judge scores runs every
// candidate: the judge is asked after the runs, about the candidates
// whose patch applied, and its scores weigh in the choice.
func (o Options) adaptive() bool {
	return (o.Execution == "" || o.Execution == ExecutionAdaptive) && !o.Judge
}

// executionFree reports whether the job asked to run nothing.
func (o Options) executionFree() bool {
	return o.Execution == ExecutionNone
}

// wantsModel reports whether the job asks for any model-generated evidence.
func (o Options) wantsModel() bool { return len(o.ModelWork()) > 0 }

func (o Options) policy() string {
	if o.Policy == "" {
		return "auto"
	}
	return o.Policy
}

// Executor runs one run in an environment. The Local and Docker backends of
// package executor implement it.
type Executor interface {
	Run(ctx context.Context, run executor.Run) (executor.Result, error)
}

// settle gives a verdict its confidence (the built-in models, or the job's
// own) and, when the job asks for a minimum, abstains below it.
func (o Options) settle(v *scoring.Verdict) {
	scoring.DefaultConfidence().With(o.ConfidenceModels).Calibrate(v)
	v.RequireConfidence(o.MinConfidence)
}
