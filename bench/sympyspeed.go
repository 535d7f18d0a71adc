package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/bestpatch/bestpatch/bench/testsubject"
	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/docker"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

// SympyImage is the SWE-bench stand-in image of sympy (testdata/images/build.sh
// swebench): Debian's sympy 1.11 at /testbed, with bin/test and a bug in
// sympy/ntheory/digits.py committed as HEAD.
const SympyImage = "swebench/sweb.eval.x86_64.sympy_1776_sympy-bestpatch1:latest"

// sympyDigits is the file the stand-in's bug is in; sympyDigitsTests the
// test file that catches it, the one SWE-bench's related tests would run.
const (
	sympyDigits      = "sympy/ntheory/digits.py"
	sympyDigitsTests = "sympy/ntheory/tests/test_digits.py"
	sympyBug         = "        ndig = len(y)\n"
)

// sympyEdit is one candidate of the sympy job: replacements in digits.py,
// applied in order, each of a text that occurs once.
type sympyEdit struct {
	name string
	subs [][2]string
}

// sympyEdits are the job's candidates: eight distinct changes (the fix,
// another correct fix, partial fixes, wrong fixes, the fix with a
// regression), each one run, and a no-op.
var sympyEdits = []sympyEdit{
	{KindExact, [][2]string{{sympyBug, "        ndig = len(y) - 1\n"}}},
	{"other-fix", [][2]string{{sympyBug, "        ndig = len(y[1:])  # the base is not a digit\n"}}},
	{KindPartial + "-1", [][2]string{{"            if ndig > digits:\n", "            if ndig - 1 > digits:\n"}}},
	{KindWrong + "-1", [][2]string{{sympyBug, "        ndig = len(y) + 1\n"}}},
	{KindWrong + "-2", [][2]string{{sympyBug, "        ndig = len(y) - 2\n"}}},
	{KindWrong + "-3", [][2]string{{"            if ndig > digits:\n", "            if False:\n"}}},
	{KindRegression + "-1", [][2]string{{sympyBug, "        ndig = len(y) - 1\n"}, {"_palindromic(digits(n, b), 1)", "_palindromic(digits(n, b), 0)"}}},
	{KindPartial + "-2", [][2]string{{"y[1:1] = [0]*(digits - ndig)", "y[1:1] = [0]*(digits - ndig + 1)"}}},
	// A comment only: the same run as the base, so no run of its own.
	{KindNoop, [][2]string{{sympyBug, "        # ndig counts the digits of n\n" + sympyBug}}},
}

// sympyRepeats are the samples that agree with an earlier one, up to 16
// candidates: a model's repeated answers.
var sympyRepeats = []string{KindExact, KindExact, KindExact, KindPartial + "-1", KindPartial + "-1", KindWrong + "-1", KindWrong + "-2"}

// sympyTests are the job's generated tests, two of each kind that a
// generated set has: reproducing (they fail on the base), weak (a partial
// fix passes them) and passing on the base (they catch a regression). Six,
// as the Go job's task has: with fewer, the naive way (a container per
// candidate per test file) would be measured on a job smaller than the one
// bestpatch is compared on elsewhere, and its ratio would say less.
var sympyTests = []struct{ id, file, body string }{
	{"repro", "sympy/ntheory/tests/test_bp_repro.py", "def test_bp_repro():\n    assert digits(35, 10, 3) == [10, 0, 3, 5]\n    assert digits(35, 10, 2) == [10, 3, 5]\n"},
	{"repro-negative", "sympy/ntheory/tests/test_bp_repro_negative.py", "def test_bp_repro_negative():\n    assert digits(-35, 10, 4) == [-10, 0, 0, 3, 5]\n    raises(ValueError, lambda: digits(2, 2, 1))\n"},
	{"weak", "sympy/ntheory/tests/test_bp_weak.py", "def test_bp_weak():\n    assert digits(35, 10, 2) == [10, 3, 5]\n"},
	{"weak-padding", "sympy/ntheory/tests/test_bp_weak_padding.py", "def test_bp_weak_padding():\n    assert digits(35, 10, 4) == [10, 0, 0, 3, 5]\n"},
	{"passing", "sympy/ntheory/tests/test_bp_passing.py", "def test_bp_passing():\n    assert digits(27, b=2) == [2, 1, 1, 0, 1, 1]\n"},
	{"passing-palindromic", "sympy/ntheory/tests/test_bp_passing_palindromic.py", "def test_bp_passing_palindromic():\n    assert is_palindromic(121)\n    assert is_palindromic(0o121, 8)\n    assert not is_palindromic(123)\n"},
}

// SympyJob builds the sympy speed job from repo, a git copy of the stand-in
// image's /testbed: 16 candidates (8 distinct changes to digits.py, a no-op
// and repeats) and 6 generated tests (sympyTests), run by bin/test on the test file of
// the changed module and the generated test files, as SWE-bench's harness
// runs sympy. python3 runs bin/test, so no conda activation is needed.
func SympyJob(repo, image string) (selector.Job, error) {
	src, err := os.ReadFile(filepath.Join(repo, filepath.FromSlash(sympyDigits)))
	if err != nil {
		return selector.Job{}, fmt.Errorf("sympy job: %w", err)
	}
	task := selector.Task{
		ID:          "sympy__sympy-bestpatch1",
		Env:         executor.Environment{Image: image, Workdir: docker.DefaultWorkdir},
		TestCommand: "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' python3 bin/test -C --verbose",
		Format:      executor.Sympy,
		TestArgs:    &selector.TestArgs{Original: []string{sympyDigitsTests}},
		Timeout:     selector.Duration(5 * time.Minute),
		Problem:     "digits() pads one zero too few, and refuses a digit count that fits",
	}
	for _, gt := range sympyTests {
		body := "from sympy.ntheory.digits import digits, is_palindromic\nfrom sympy.testing.pytest import raises\n\n\n" + gt.body
		p, err := testsubject.Diff(repo, testsubject.NewFile(filepath.FromSlash(gt.file), body))
		if err != nil {
			return selector.Job{}, fmt.Errorf("sympy job: generated test %s: %w", gt.id, err)
		}
		task.GeneratedTests = append(task.GeneratedTests, selector.GeneratedTest{ID: gt.id, Patch: p})
	}
	patches := map[string]string{}
	job := selector.Job{ID: "speed-" + task.ID, Task: task}
	add := func(name string) {
		job.Candidates = append(job.Candidates, scoring.Candidate{
			ID: fmt.Sprintf("c%02d", len(job.Candidates)+1), Patch: patches[name], Model: name, Sample: len(job.Candidates),
		})
	}
	for _, e := range sympyEdits {
		text := string(src)
		for _, s := range e.subs {
			if n := strings.Count(text, s[0]); n != 1 {
				return selector.Job{}, fmt.Errorf("sympy job: candidate %s: %q occurs %d times in %s, want once: is %s the stand-in image?", e.name, s[0], n, sympyDigits, image)
			}
			text = strings.Replace(text, s[0], s[1], 1)
		}
		p, err := diffFiles(repo, map[string][]byte{sympyDigits: []byte(text)})
		if err != nil {
			return selector.Job{}, fmt.Errorf("sympy job: candidate %s: %w", e.name, err)
		}
		patches[e.name] = p
		add(e.name)
	}
	for _, name := range sympyRepeats {
		add(name)
	}
	return job, nil
}

// exportRepo copies the work tree of an image (its /testbed, a git
// repository) to dir on the host, for the bare runs.
func exportRepo(ctx context.Context, image, workdir, dir string) error {
	out, err := exec.CommandContext(ctx, "docker", "create", "--network", "none", image, "true").Output()
	if err != nil {
		return fmt.Errorf("export %s from %s: docker create: %w", workdir, image, err)
	}
	id := strings.TrimSpace(string(out))
	defer func() { _ = exec.Command("docker", "rm", "-f", id).Run() }() // best effort: the copy is what matters
	if out, err := exec.CommandContext(ctx, "docker", "cp", id+":"+workdir+"/.", dir).CombinedOutput(); err != nil {
		return fmt.Errorf("export %s from %s: docker cp: %w\n%s", workdir, image, err, out)
	}
	return nil
}
