package wire

import (
	"encoding/json"
	"fmt"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/swebench"
	"github.com/bestpatch/bestpatch/selector/swebench/logparser"
)

// Job is what a client submits: a task (or a SWE-bench dataset row that
// the daemon turns into one), the candidate patches, and options. Unknown
// fields are refused.
type Job struct {
	// ID names the job: 1 to 128 letters, digits, '-' or '_'. Empty: the
	// daemon assigns one and replies it.
	ID string `json:"id,omitempty" jsonschema:"pattern=^[A-Za-z0-9_-]{1\\,128}$"`
	// Task is where and how to run the tests. Give either task or swebench.
	Task *Task `json:"task,omitempty"`
	// SWEBench is a SWE-bench dataset row in place of task: the daemon
	// derives the task as `bestpatch tasks --dataset` does.
	SWEBench *SWEBenchTask `json:"swebench,omitempty"`
	// Candidates are the patches to choose from.
	Candidates []Candidate `json:"candidates"`
	// Options tune the selection; every field is optional.
	Options *Options `json:"options,omitempty"`
}

// Task is one issue to choose a patch for: where the tests run and how.
// The fields are those of a task file (docs/FORMATS.md), except that paths
// are not resolved and generated tests carry their patch inline.
type Task struct {
	// InstanceID is the SWE-bench instance_id (or any name of the issue).
	InstanceID string `json:"instance_id"`
	// Environment is where the runs happen: a Docker image, or a checkout
	// on the daemons' hosts.
	Environment Environment `json:"environment"`
	// TestCommand runs the tests from the repository root (bash -c).
	TestCommand string `json:"test_command"`
	// TestFormat is the format of the test command's output: go-json,
	// pytest, junit, django or sympy (docs/FORMATS.md).
	TestFormat string `json:"test_format"`
	// JUnitReport is the path, relative to the repository, of the JUnit XML
	// report the test command writes (test_format junit).
	JUnitReport string `json:"junit_report,omitempty"`
	// Timeout bounds one run's test command: a Go duration string ("10m",
	// "90s") or a number of seconds. Default 30m, at most 6h.
	Timeout *Duration `json:"timeout,omitempty"`
	// OriginalTests chooses which of the repository's own test cases count
	// for regressions: case IDs, where `*` matches any run of characters.
	// Empty: all of them.
	OriginalTests []string `json:"original_tests,omitempty"`
	// PassToPass, when set, counts for regressions only the cases a
	// SWE-bench PASS_TO_PASS list names.
	PassToPass *PassToPass `json:"pass_to_pass,omitempty"`
	// TestFiles are patterns (`*` matches any run of characters, `/`
	// included) of the repository's test files; a candidate's changes to
	// them are undone before its run. Empty: the test format's defaults.
	TestFiles []string `json:"test_files,omitempty"`
	// GeneratedTests are tests written for the issue, each a patch that
	// adds test files; they decide the FP/PP score.
	GeneratedTests []GeneratedTest `json:"generated_tests,omitempty"`
	// ProblemStatement is the issue text, for the model endpoint and
	// reports.
	ProblemStatement string `json:"problem_statement,omitempty"`
	// TestArgs, when set, says that the test command takes the tests to
	// run as arguments, and which.
	TestArgs *TestArgs `json:"test_args,omitempty"`
}

// Environment is where a job's runs happen: a Docker image holding the
// repository, or a checkout on the daemons' hosts (only with
// --unsafe-local-executor).
type Environment struct {
	// Image is a Docker image holding the repository at workdir.
	Image string `json:"image,omitempty"`
	// Repo is an absolute path to a git checkout on the daemons' hosts.
	Repo string `json:"repo,omitempty"`
	// Commit is the base commit; empty: HEAD.
	Commit string `json:"commit,omitempty"`
	// Workdir is the repository's directory inside the image; empty:
	// /testbed.
	Workdir string `json:"workdir,omitempty"`
	// Activate is a shell prefix run before the test command, e.g.
	// "source /opt/miniconda3/bin/activate && conda activate testbed".
	Activate string `json:"activate,omitempty"`
	// Env holds environment variables for the test command.
	Env map[string]string `json:"env,omitempty"`
	// User runs the test command as this user inside the container.
	User string `json:"user,omitempty"`
	// Limits bound each run's container; absent or zero fields take the
	// daemon's defaults.
	Limits *Limits `json:"limits,omitempty"`
}

// Limits bound the resources of one run's container.
type Limits struct {
	// MemoryMB is the memory limit in MiB.
	MemoryMB int `json:"memory_mb,omitempty"`
	// CPUs is the number of CPUs (fractions allowed).
	CPUs float64 `json:"cpus,omitempty"`
	// PIDs is the maximum number of processes.
	PIDs int64 `json:"pids,omitempty"`
}

// PassToPass is a SWE-bench PASS_TO_PASS list.
type PassToPass struct {
	// Tests are the test names as the dataset row holds them.
	Tests []string `json:"tests"`
	// LogParser is the harness's log parser that named them
	// (parse_log_django, parse_log_pytest_options, ...).
	LogParser string `json:"log_parser"`
}

// GeneratedTest is one generated test: a patch that adds test files.
type GeneratedTest struct {
	// ID names the test within the job.
	ID string `json:"id"`
	// Patch is the unified diff that adds the test files.
	Patch string `json:"patch"`
}

// TestArgs are arguments appended (shell-quoted) to the test command to
// choose the tests to run, as the SWE-bench harness appends its test
// directives.
type TestArgs struct {
	// Original are fixed arguments: test files or modules as the runner
	// takes them.
	Original []string `json:"original,omitempty"`
	// Related names the repository convention that finds the test files
	// of the modules the candidates change (django, sympy, pytest), whose
	// arguments are appended too.
	Related string `json:"related,omitempty"`
	// ListPatterns are the patterns of the test files the listing run
	// lists; empty: the task's test_files.
	ListPatterns []string `json:"list_patterns,omitempty"`
}

// SWEBenchTask is a task given as a SWE-bench dataset row.
type SWEBenchTask struct {
	// Row is one dataset row in the public schema (instance_id, repo,
	// version, base_commit, problem_statement, PASS_TO_PASS, ...); other
	// columns are ignored, and test_patch, patch and FAIL_TO_PASS are never
	// read.
	Row json.RawMessage `json:"row"`
	// Namespace is the namespace of the instance images; empty: swebench. "none" names the
	// images the harness builds locally.
	Namespace string `json:"namespace,omitempty"`
	// Arch is the architecture of the instance images; empty: x86_64.
	Arch string `json:"arch,omitempty"`
	// Tag is the tag of the instance images; empty: latest.
	Tag string `json:"tag,omitempty"`
	// RegressionTests chooses the regression tests: related (default: the
	// test files of the modules the candidates change), p2p (the row's
	// PASS_TO_PASS) or all.
	RegressionTests string `json:"regression_tests,omitempty" jsonschema:"enum=,enum=related,enum=p2p,enum=all"`
}

// Candidate is one proposed patch.
type Candidate struct {
	// ID names the candidate within the job; the verdict names candidates
	// by it.
	ID string `json:"id"`
	// Patch is the unified diff as the agent produced it.
	Patch string `json:"patch"`
	// ModelNameOrPath is the system that produced it (SWE-bench's
	// model_name_or_path).
	ModelNameOrPath string `json:"model_name_or_path,omitempty"`
	// Sample is the index of the producing run (which predictions file).
	Sample int `json:"sample,omitempty"`
	// VerifierScore is a verifier's or judge's P(the patch is correct), in
	// [0, 1].
	VerifierScore *float64 `json:"verifier_score,omitempty" jsonschema:"minimum=0,maximum=1"`
	// Prior is a reliability prior in [0, 1]: how often the producing
	// model's candidates were correct on labelled runs.
	Prior *float64 `json:"prior,omitempty" jsonschema:"minimum=0,maximum=1"`
}

// Options tune a job's selection. Each is optional.
type Options struct {
	// Policy names the selection policy (docs/SCORING.md); empty: auto.
	Policy string `json:"policy,omitempty"`
	// BaseRuns is how many times the base run is repeated to find flaky
	// cases; 0: 2. At most 10.
	BaseRuns int `json:"base_runs,omitempty"`
	// GenerateTests asks the daemon's model endpoint for this many tests
	// that reproduce the issue (kept only if they fail on base). At most
	// 100. Needs a daemon started with --llm-url.
	GenerateTests int `json:"generate_tests,omitempty"`
	// Judge asks the model endpoint for P(YES) of every candidate without
	// a verifier_score. Needs --llm-url.
	Judge bool `json:"judge,omitempty"`
	// AdversarialRounds bounds the rounds in which the model writes a test
	// to tell tied top candidates apart. At most 10. Needs --llm-url.
	AdversarialRounds int `json:"adversarial_rounds,omitempty"`
	// Execution is empty to run the tests, or "none" to run nothing and
	// choose by the execution-free signals (the verdict's basis says so).
	Execution string `json:"execution,omitempty" jsonschema:"enum=,enum=none"`
	// MinConfidence is a probability in [0, 1]: a verdict whose confidence
	// is below it, or that has none, chooses nothing and asks for more
	// samples (the verdict's sample_more and withheld). 0: no minimum.
	MinConfidence float64 `json:"min_confidence,omitempty" jsonschema:"minimum=0,maximum=1"`
	// ConfidenceModels replace the built-in confidence models of their
	// scopes: models fitted on the user's labelled runs (bestpatch batch
	// --fit-confidence writes them).
	ConfidenceModels []ConfidenceModel `json:"confidence_models,omitempty"`
}

// ConfidenceModel turns a verdict's features into P(the chosen candidate
// is correct): a logistic regression over the features.
type ConfidenceModel struct {
	// Scope is the kind of verdict the model speaks for: tests or
	// execution_free.
	Scope string `json:"scope"`
	// Intercept is the logistic regression's intercept, in log-odds.
	Intercept float64 `json:"intercept"`
	// Weights are the logistic regression's weights, by feature name
	// (the verdict's features): log-odds per unit of the feature.
	Weights map[string]float64 `json:"weights"`
	// Source says what the model was fitted on.
	Source string `json:"source,omitempty"`
}

// FromJob is the wire form of a job.
func FromJob(j selector.Job) Job {
	t := j.Task
	task := &Task{
		InstanceID: t.ID,
		Environment: Environment{
			Image: t.Env.Image, Repo: t.Env.Repo, Commit: t.Env.Commit, Workdir: t.Env.Workdir,
			Activate: t.Env.Activate, Env: t.Env.Env, User: t.Env.User,
		},
		TestCommand: t.TestCommand, TestFormat: string(t.Format), JUnitReport: t.Report,
		OriginalTests: t.OriginalTests, TestFiles: t.TestFiles, ProblemStatement: t.Problem,
	}
	if l := t.Env.Limits; l != (executor.Limits{}) {
		task.Environment.Limits = &Limits{MemoryMB: l.MemoryMB, CPUs: l.CPUs, PIDs: l.PIDs}
	}
	if t.Timeout != 0 {
		d := Duration(t.Timeout)
		task.Timeout = &d
	}
	if p := t.PassToPass; p != nil {
		task.PassToPass = &PassToPass{Tests: p.Tests, LogParser: string(p.LogParser)}
	}
	for _, g := range t.GeneratedTests {
		task.GeneratedTests = append(task.GeneratedTests, GeneratedTest{ID: g.ID, Patch: g.Patch})
	}
	if a := t.TestArgs; a != nil {
		task.TestArgs = &TestArgs{Original: a.Original, Related: a.Related, ListPatterns: a.ListPatterns}
	}
	out := Job{ID: j.ID, Task: task, Candidates: make([]Candidate, 0, len(j.Candidates))}
	for _, c := range j.Candidates {
		out.Candidates = append(out.Candidates, Candidate{ID: c.ID, Patch: c.Patch, ModelNameOrPath: c.Model,
			Sample: c.Sample, VerifierScore: c.Verifier, Prior: c.Prior})
	}
	o := j.Options
	opts := &Options{Policy: o.Policy, BaseRuns: o.BaseRuns, GenerateTests: o.GenerateTests, Judge: o.Judge,
		AdversarialRounds: o.AdversarialRounds, Execution: o.Execution, MinConfidence: o.MinConfidence}
	for _, m := range o.ConfidenceModels {
		opts.ConfidenceModels = append(opts.ConfidenceModels, ConfidenceModel{Scope: m.Scope, Intercept: m.Intercept, Weights: m.Weights, Source: m.Source})
	}
	if opts.Policy != "" || opts.BaseRuns != 0 || opts.GenerateTests != 0 || opts.Judge || opts.AdversarialRounds != 0 ||
		opts.Execution != "" || opts.MinConfidence != 0 || len(opts.ConfidenceModels) > 0 {
		out.Options = opts
	}
	return out
}

// ToSelector is the job the selector runs, with its task derived from the
// SWE-bench row when one is given. Its errors wrap selector.ErrInvalidJob.
func (j Job) ToSelector() (selector.Job, error) {
	var task selector.Task
	switch {
	case j.Task != nil && j.SWEBench != nil:
		return selector.Job{}, fmt.Errorf("%w: the job gives both \"task\" and \"swebench\": give one", selector.ErrInvalidJob)
	case j.SWEBench != nil:
		var err error
		if task, err = j.SWEBench.task(); err != nil {
			return selector.Job{}, err
		}
	case j.Task != nil:
		task = j.Task.toSelector()
	default:
		return selector.Job{}, fmt.Errorf("%w: the job has no \"task\" (or \"swebench\" row): say where and how to run the tests (docs/DAEMON.md)", selector.ErrInvalidJob)
	}
	out := selector.Job{ID: j.ID, Task: task, Candidates: make([]scoring.Candidate, 0, len(j.Candidates))}
	for _, c := range j.Candidates {
		out.Candidates = append(out.Candidates, scoring.Candidate{ID: c.ID, Patch: c.Patch, Model: c.ModelNameOrPath,
			Sample: c.Sample, Verifier: c.VerifierScore, Prior: c.Prior})
	}
	if o := j.Options; o != nil {
		out.Options = selector.Options{Policy: o.Policy, BaseRuns: o.BaseRuns, GenerateTests: o.GenerateTests, Judge: o.Judge,
			AdversarialRounds: o.AdversarialRounds, Execution: o.Execution, MinConfidence: o.MinConfidence}
		for _, m := range o.ConfidenceModels {
			out.Options.ConfidenceModels = append(out.Options.ConfidenceModels, scoring.ConfidenceModel{Scope: m.Scope, Intercept: m.Intercept, Weights: m.Weights, Source: m.Source})
		}
	}
	return out, nil
}

// toSelector is the selector's form of the task.
func (t *Task) toSelector() selector.Task {
	e := t.Environment
	out := selector.Task{
		ID: t.InstanceID,
		Env: executor.Environment{Image: e.Image, Repo: e.Repo, Commit: e.Commit, Workdir: e.Workdir,
			Activate: e.Activate, Env: e.Env, User: e.User},
		TestCommand: t.TestCommand, Format: executor.Format(t.TestFormat), Report: t.JUnitReport,
		OriginalTests: t.OriginalTests, TestFiles: t.TestFiles, Problem: t.ProblemStatement,
	}
	if l := e.Limits; l != nil {
		out.Env.Limits = executor.Limits{MemoryMB: l.MemoryMB, CPUs: l.CPUs, PIDs: l.PIDs}
	}
	if t.Timeout != nil {
		out.Timeout = selector.Duration(*t.Timeout)
	}
	if p := t.PassToPass; p != nil {
		out.PassToPass = &selector.PassToPass{Tests: p.Tests, LogParser: logparser.Parser(p.LogParser)}
	}
	for _, g := range t.GeneratedTests {
		out.GeneratedTests = append(out.GeneratedTests, selector.GeneratedTest{ID: g.ID, Patch: g.Patch})
	}
	if a := t.TestArgs; a != nil {
		out.TestArgs = &selector.TestArgs{Original: a.Original, Related: a.Related, ListPatterns: a.ListPatterns}
	}
	return out
}

// task derives the task from the row, as `bestpatch tasks --dataset` does.
func (sw *SWEBenchTask) task() (selector.Task, error) {
	var row swebench.Row
	if err := json.Unmarshal(sw.Row, &row); err != nil {
		return selector.Task{}, fmt.Errorf("%w: swebench.row: not a SWE-bench dataset row: %w", selector.ErrInvalidJob, err)
	}
	mode, err := swebench.ParseMode(sw.RegressionTests)
	if err != nil {
		return selector.Task{}, fmt.Errorf("%w: swebench.%w", selector.ErrInvalidJob, err)
	}
	im := swebench.DefaultImages
	if sw.Namespace != "" {
		im.Namespace = sw.Namespace
	}
	if sw.Arch != "" {
		im.Arch = sw.Arch
	}
	if sw.Tag != "" {
		im.Tag = sw.Tag
	}
	task, err := swebench.Options{Images: im, Mode: mode}.Task(row)
	if err != nil {
		return selector.Task{}, fmt.Errorf("%w: swebench: %w", selector.ErrInvalidJob, err)
	}
	return task, nil
}
