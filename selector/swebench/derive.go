package swebench

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

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
	// P2P runs the test files of the row's PASS_TO_PASS. That list is
	// derived from the files of the hidden test patch, so it tells which
	// files the answer's tests live in. sympy's PASS_TO_PASS holds bare
	// function names without a file: there p2p falls back to related.
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
	switch {
	case mode == All:
	case mode == P2P && repo.Format != "sympy":
		args, err := p2pArgs(repo, row.PassToPass)
		if err != nil {
			return selector.Task{}, fmt.Errorf("instance %s: %w", row.InstanceID, err)
		}
		task.TestArgs = &selector.TestArgs{Original: args}
	default:
		task.TestArgs = &selector.TestArgs{Related: repo.Convention, ListPatterns: listPatterns(repo.TestFiles)}
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

// p2pArgs are the test directives of a PASS_TO_PASS list: the files of
// pytest node IDs, the test modules of Django's "name (module.Class)"
// descriptions. Entries that name no file (a Django docstring title) are
// left out; a list that names none is an error rather than a run of the
// whole suite.
func p2pArgs(repo Repository, tests []string) ([]string, error) {
	seen := map[string]bool{}
	var args []string
	for _, t := range tests {
		var arg string
		if repo.Format == "django" {
			arg = djangoModule(t)
		} else {
			arg = pytestFile(t)
		}
		if arg != "" && !seen[arg] {
			seen[arg] = true
			args = append(args, arg)
		}
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("PASS_TO_PASS names no test file (%d entries), so p2p has nothing to run: use --regression-tests related or all", len(tests))
	}
	slices.Sort(args)
	return args, nil
}

// pytestFile is the file of a pytest node ID ("tests/test_x.py::T::f[a]").
func pytestFile(id string) string {
	file, _, _ := strings.Cut(id, "::")
	file = strings.TrimSpace(file)
	if !strings.HasSuffix(file, ".py") || strings.ContainsAny(file, " \t") {
		return ""
	}
	return file
}

// djangoModule is the test module of a Django test description as the
// runner prints it at verbosity 2: "test_x (app.tests.Class)" (or
// "(app.tests.Class.test_x)" on Python 3.11+) -> "app.tests": the dotted
// name up to its first capitalized part, the test class.
func djangoModule(desc string) string {
	open := strings.LastIndexByte(desc, '(')
	if open < 0 || !strings.HasSuffix(desc, ")") {
		return ""
	}
	var mod []string
	for _, part := range strings.Split(desc[open+1:len(desc)-1], ".") {
		if part == "" || strings.ContainsAny(part, " \t") {
			return ""
		}
		if unicode.IsUpper(rune(part[0])) {
			break
		}
		mod = append(mod, part)
	}
	return strings.Join(mod, ".")
}
