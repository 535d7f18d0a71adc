package bench

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/bluekeyes/go-gitdiff/gitdiff"
	"golang.org/x/sync/errgroup"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

// NaiveRuns are the runs the naive way makes for a job, as the SWE-bench
// harness evaluates predictions: every candidate (no dedupe, no cache) and
// the base, each in a fresh container per test artifact: the original suite
// alone, and each generated test alone, running only that test's functions.
func NaiveRuns(task selector.Task, cands []scoring.Candidate) ([]executor.Run, error) {
	type artifact struct {
		command string
		tests   []executor.TestPatch
	}
	suite, only := task.TestCommand, onlyTestCommand
	if a := task.TestArgs; a != nil {
		// A runner told its test files (sympy's bin/test): the suite is the
		// original files, a generated test its own files.
		if a.Related != "" {
			return nil, fmt.Errorf("task %s: the naive way needs fixed test arguments (test_args.original), not related ones", task.ID)
		}
		spec, err := task.Format.Spec()
		if err != nil {
			return nil, err
		}
		suite = withArgs(task.TestCommand, a.Original)
		only = func(command, patch string) (string, error) { return onlyTestFiles(spec, command, patch) }
	}
	arts := []artifact{{command: suite}}
	for _, gt := range task.GeneratedTests {
		cmd, err := only(task.TestCommand, gt.Patch)
		if err != nil {
			return nil, fmt.Errorf("generated test %s of %s: %w", gt.ID, task.ID, err)
		}
		arts = append(arts, artifact{command: cmd, tests: []executor.TestPatch{{ID: gt.ID, Patch: gt.Patch}}})
	}
	patches := []string{""} // the base
	for _, c := range cands {
		patches = append(patches, c.Patch)
	}
	var runs []executor.Run
	for _, p := range patches {
		for _, a := range arts {
			runs = append(runs, executor.Run{
				Env: task.Env, Patch: p, Tests: a.tests, TestFiles: task.TestFileMatcher().Patterns(),
				Command: a.command, Format: task.Format, Timeout: time.Duration(task.Timeout),
			})
		}
	}
	return runs, nil
}

// onlyTestCommand narrows a `go test ... PACKAGES` command to the test
// functions a test patch adds, in their package.
func onlyTestCommand(command, patch string) (string, error) {
	files, _, err := gitdiff.Parse(strings.NewReader(patch))
	if err != nil {
		return "", err
	}
	var names []string
	dir := ""
	for _, f := range files {
		var src strings.Builder
		for _, frag := range f.TextFragments {
			for _, l := range frag.Lines {
				if l.Op == gitdiff.OpAdd {
					src.WriteString(l.Line)
				}
			}
		}
		// A test that does not parse still names its functions to go test.
		ns, err := testFuncNames([]byte(src.String()))
		if err != nil {
			continue
		}
		names = append(names, ns...)
		dir = path.Dir(f.NewName)
	}
	if len(names) == 0 {
		return "", fmt.Errorf("the patch adds no test function")
	}
	fields := strings.Fields(command)
	var kept []string
	for _, f := range fields {
		if strings.HasPrefix(f, "./") || f == "." {
			continue // the packages: replaced by the test's own
		}
		kept = append(kept, f)
	}
	return fmt.Sprintf("%s -run '^(%s)$' ./%s", strings.Join(kept, " "), strings.Join(names, "|"), dir), nil
}

// onlyTestFiles is a command that runs only the test files a patch adds,
// named as the format's runner takes them.
func onlyTestFiles(spec *executor.FormatSpec, command, patch string) (string, error) {
	files, _, err := gitdiff.Parse(strings.NewReader(patch))
	if err != nil {
		return "", err
	}
	var args []string
	for _, f := range files {
		if f.IsDelete || !spec.TestFileMatcher().Match(f.NewName) {
			continue
		}
		a, err := spec.Directive(f.NewName)
		if err != nil {
			return "", err
		}
		args = append(args, a)
	}
	if len(args) == 0 {
		return "", fmt.Errorf("the patch adds no test file")
	}
	return withArgs(command, args), nil
}

// withArgs appends shell-quoted arguments to a command.
func withArgs(command string, args []string) string {
	for _, a := range args {
		command += " '" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return command
}

// runNaive runs the naive way's runs with the given parallelism and returns
// the wall time and the indexes of the runs killed for memory. Such a run
// is a finished one that failed, as the SWE-bench harness records an
// instance whose tests ran out of memory and goes on: a candidate's code
// may allocate without bound. Any other infrastructure failure stops it.
func runNaive(ctx context.Context, exec selector.Executor, workers int, runs []executor.Run) (time.Duration, []int, error) {
	start := time.Now()
	oom := make([]bool, len(runs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i, r := range runs {
		g.Go(func() error {
			res, err := exec.Run(gctx, r)
			if err != nil {
				return err
			}
			if res.OutOfMemory() {
				oom[i] = true
				return nil
			}
			if res.Status == executor.Infra {
				return fmt.Errorf("a naive run failed for infrastructure reasons: %s", res.Reason)
			}
			return nil
		})
	}
	err := g.Wait()
	var killed []int
	for i, k := range oom {
		if k {
			killed = append(killed, i)
		}
	}
	return time.Since(start), killed, err
}
