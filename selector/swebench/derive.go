package swebench

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/selector"
)

// Mode chooses the original tests that find regressions. None reads the
// hidden test patch or FAIL_TO_PASS.
type Mode string

const (
	// Related runs the repository's existing test files of the modules the
	// candidates change, found by the repository's layout (the default).
	// Reads: repo, version (and the repository's files, listed in the
	// environment at run time).
	Related Mode = "related"
	// P2P runs the test files of the row's PASS_TO_PASS and counts only
	// the cases it names for regressions (Task.PassToPass, matched through
	// the repository's harness log parser). That list is derived from the
	// files of the hidden test patch, so it tells which files the answer's
	// tests live in. A list none of whose entries names a file (sympy's
	// bare function names) runs the related tests.
	P2P Mode = "p2p"
	// All runs the whole test suite (hours for Django or sympy).
	All Mode = "all"
)

// Modes lists the modes, the default first.
func Modes() []Mode { return []Mode{Related, P2P, All} }

// ParseMode reads a --regression-tests value; "" is the default.
func ParseMode(s string) (Mode, error) {
	if s == "" {
		return Related, nil
	}
	if m := Mode(s); slices.Contains(Modes(), m) {
		return m, nil
	}
	return "", fmt.Errorf("regression tests %q: use related (the default), p2p or all", s)
}

// Options configure the derivation of tasks from rows.
type Options struct {
	Images Images
	Mode   Mode
}

// Task derives the task of a row: the instance image, /testbed, the conda
// activation, and the harness's eval commands for the row's repository and
// version (environment setup, the re-install, the test command), with the
// test directives of the mode. It reads instance_id, repo, version,
// problem_statement and, in p2p mode only, PASS_TO_PASS.
func (o Options) Task(row Row) (selector.Task, error) {
	if err := row.Validate(); err != nil {
		return selector.Task{}, err
	}
	if err := o.Images.Validate(); err != nil {
		return selector.Task{}, err
	}
	repo, spec, err := LookupSpec(row.Repo, row.Version)
	if err != nil {
		return selector.Task{}, fmt.Errorf("instance %s: %w", row.InstanceID, err)
	}
	mode := o.Mode
	if mode == "" {
		mode = Related
	}
	steps := append(slices.Clone(spec.Pre), spec.Install, spec.TestCmd)
	task := selector.Task{
		ID: row.InstanceID,
		Env: executor.Environment{
			Image:    o.Images.ImageName(row.InstanceID),
			Workdir:  Workdir,
			Activate: Activate,
			User:     spec.User,
			Limits:   executor.Limits{CPUs: spec.CPUs},
		},
		// The eval script's steps, joined as its lines are: a failed step
		// does not stop the next (it runs without `set -e`).
		TestCommand: strings.Join(steps, "; "),
		Format:      repo.Format,
		TestFiles:   slices.Clone(repo.TestFiles),
		Problem:     row.ProblemStatement,
	}
	related := &selector.TestArgs{Related: repo.Convention, ListPatterns: listPatterns(repo.TestFiles)}
	switch mode {
	case All:
	case P2P:
		if len(row.PassToPass) == 0 {
			return selector.Task{}, fmt.Errorf("instance %s: PASS_TO_PASS is empty, so p2p has no test to run: use --regression-tests related or all", row.InstanceID)
		}
		spec, err := repo.Format.Spec()
		if err != nil {
			return selector.Task{}, fmt.Errorf("instance %s: %w", row.InstanceID, err)
		}
		task.PassToPass = &selector.PassToPass{Tests: slices.Clone(row.PassToPass), LogParser: repo.LogParser}
		task.TestArgs = related
		if args := p2pArgs(spec, row.PassToPass); len(args) > 0 {
			task.TestArgs = &selector.TestArgs{Original: args}
		}
	default:
		task.TestArgs = related
	}
	return task, nil
}

// listPatterns are the Python files among a repository's test files: what
// the related mode needs to list.
func listPatterns(testFiles []string) []string {
	out := make([]string, 0, len(testFiles))
	for _, p := range testFiles {
		if strings.HasSuffix(p, "*") {
			p += ".py"
		}
		out = append(out, p)
	}
	return out
}

// p2pArgs are the test directives of a PASS_TO_PASS list, in the form the
// format's runner takes them (FormatSpec.CaseDirective): the files of pytest
// node IDs, the test modules of Django's "name (module.Class)" descriptions.
// Entries that name no file or module (a Django docstring title, sympy's
// bare names) give none; the result is nil when no entry names one.
func p2pArgs(spec *executor.FormatSpec, tests []string) []string {
	var args []string
	for _, t := range tests {
		if arg, ok := spec.CaseDirective(strings.TrimSpace(t)); ok && !slices.Contains(args, arg) {
			args = append(args, arg)
		}
	}
	slices.Sort(args)
	return args
}
