package local

import (
	"context"
	"errors"
	"fmt"
	"github.com/bestpatch/bestpatch/executor/executortest"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bestpatch/bestpatch/executor"
)

// libCheck reports through a pytest summary whether lib.txt holds the fix,
// and whether the test files hold what the base commit has.
const libCheck = `if grep -q 'l10 fixed' lib.txt; then r=PASSED; else r=FAILED; fi
if grep -q original lib_test.go && [ ! -e new_test.go ]; then t=PASSED; else t=FAILED; fi
g=FAILED; [ -e gen_test.go ] && g=PASSED
` + `printf '%s\n' '==== short test summary info ====' "$r t::fix" "$t t::tests_untouched" "$g t::gen_present" '==== end ===='`

func TestLocalApply(t *testing.T) {
	l, _ := newTestLocal(t)
	base := map[string]string{"lib.txt": executortest.Numbered(20, nil), "lib_test.go": "original\n"}
	repo := executortest.GitRepo(t, base)
	fix := executortest.DiffAgainst(t, repo, map[string]string{"lib.txt": executortest.Numbered(20, map[int]string{10: "l10 fixed"})})

	// A patch written against a slightly different file: its context (line 8)
	// does not match, so only patch --fuzz applies it.
	other := executortest.GitRepo(t, map[string]string{"lib.txt": executortest.Numbered(20, map[int]string{8: "l8 elsewhere"}), "lib_test.go": "original\n"})
	fuzzy := executortest.DiffAgainst(t, other, map[string]string{"lib.txt": executortest.Numbered(20, map[int]string{8: "l8 elsewhere", 10: "l10 fixed"})})

	tamper := executortest.DiffAgainst(t, repo, map[string]string{
		"lib.txt":     executortest.Numbered(20, map[int]string{10: "l10 fixed"}),
		"lib_test.go": "tampered\n",
		"new_test.go": "added by the candidate\n",
	})
	onlyTests := executortest.DiffAgainst(t, repo, map[string]string{"lib_test.go": "tampered\n"})
	noop := "--- a/lib.txt\n+++ b/lib.txt\n@@ -1,2 +1,2 @@\n-l1\n+l1\n l2\n"
	genTest := executortest.DiffAgainst(t, repo, map[string]string{"gen_test.go": "generated\n"})
	badTest := executortest.DiffAgainst(t, repo, map[string]string{"missing_test.go": "x\n", "lib_test.go": "other\n"})
	badTest = strings.ReplaceAll(badTest, "-original", "-not what the file holds")

	cases := []struct {
		name         string
		patch        string
		testFiles    []string
		tests        []executor.TestPatch
		status       executor.Status
		applied      string
		restored     []string
		testsApplied map[string]bool
		outcomes     map[string]string
		reason       string
		// tree names the tree the candidate leaves: "fixed" (lib.txt fixed,
		// the tests as on base), "tampered" (the tests changed too), "" none.
		tree string
	}{
		{name: "base run", status: executor.Completed,
			outcomes: map[string]string{"t::fix": "FAIL", "t::tests_untouched": "PASS", "t::gen_present": "FAIL"}},
		{name: "git apply", patch: fix, status: executor.Completed, applied: "git apply", tree: "fixed",
			outcomes: map[string]string{"t::fix": "PASS", "t::tests_untouched": "PASS", "t::gen_present": "FAIL"}},
		{name: "needs fuzz", patch: fuzzy, status: executor.Completed, applied: "patch --fuzz", tree: "fixed",
			outcomes: map[string]string{"t::fix": "PASS", "t::tests_untouched": "PASS", "t::gen_present": "FAIL"}},
		{name: "malformed", patch: "this is not a diff\n@@ -1 +1 @@\n", status: executor.ApplyFailed, reason: "refused before it was applied: the patch cannot be parsed"},
		{name: "does not match", patch: strings.ReplaceAll(fix, "-l10", "-l10 gone"), status: executor.ApplyFailed, reason: "patch failed"},
		{name: "changes nothing", patch: noop, status: executor.EmptyPatch, applied: "git apply", reason: "changes nothing"},
		{name: "tampering restored", patch: tamper, testFiles: []string{"*_test.go"}, status: executor.Completed, applied: "git apply", tree: "fixed",
			restored: []string{"lib_test.go", "new_test.go"},
			outcomes: map[string]string{"t::fix": "PASS", "t::tests_untouched": "PASS", "t::gen_present": "FAIL"}},
		{name: "tampering without test-file patterns", patch: tamper, status: executor.Completed, applied: "git apply", tree: "tampered",
			outcomes: map[string]string{"t::fix": "PASS", "t::tests_untouched": "FAIL", "t::gen_present": "FAIL"}},
		{name: "only test files", patch: onlyTests, testFiles: []string{"*_test.go"}, status: executor.EmptyPatch,
			restored: []string{"lib_test.go"}, reason: "only test files, which were dropped"},
		{name: "test patches", patch: fix, tests: []executor.TestPatch{{ID: "gen", Patch: genTest}, {ID: "broken one", Patch: badTest}},
			status: executor.Completed, applied: "git apply", testsApplied: map[string]bool{"gen": true, "broken one": false}, tree: "fixed",
			outcomes: map[string]string{"t::fix": "PASS", "t::tests_untouched": "PASS", "t::gen_present": "PASS"}},
	}
	// The trees, as git names them once the change is committed.
	treeOf := func(files map[string]string) string {
		r := executortest.GitRepo(t, base)
		executortest.CommitFiles(t, r, files)
		return strings.TrimSpace(executortest.GitCmd(t, r, "rev-parse", "HEAD^{tree}"))
	}
	trees := map[string]string{
		"fixed": treeOf(map[string]string{"lib.txt": executortest.Numbered(20, map[int]string{10: "l10 fixed"})}),
		"tampered": treeOf(map[string]string{"lib.txt": executortest.Numbered(20, map[int]string{10: "l10 fixed"}),
			"lib_test.go": "tampered\n", "new_test.go": "added by the candidate\n"}),
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := l.Run(t.Context(), executor.Run{
				Env: executor.Environment{Repo: repo}, Patch: tc.patch, Tests: tc.tests, TestFiles: tc.testFiles,
				Command: libCheck, Format: executor.Pytest, Timeout: time.Minute,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.status || res.Applied != tc.applied {
				t.Fatalf("status %q applied %q, want %q %q; reason: %s\noutput: %s", res.Status, res.Applied, tc.status, tc.applied, res.Reason, res.Output)
			}
			if !strings.Contains(res.Reason, tc.reason) {
				t.Errorf("reason %q does not say %q", res.Reason, tc.reason)
			}
			if got := slices.Sorted(slices.Values(res.Restored)); !slices.Equal(got, tc.restored) {
				t.Errorf("restored %q, want %q", got, tc.restored)
			}
			if fmt.Sprint(res.TestsApplied) != fmt.Sprint(tc.testsApplied) {
				t.Errorf("tests applied %v, want %v", res.TestsApplied, tc.testsApplied)
			}
			if res.Tree != trees[tc.tree] {
				t.Errorf("tree %q, want %q (%s)", res.Tree, trees[tc.tree], tc.tree)
			}
			if tc.outcomes != nil && fmt.Sprint(outcomes(res.Cases)) != fmt.Sprint(tc.outcomes) {
				t.Errorf("cases %v, want %v", outcomes(res.Cases), tc.outcomes)
			}
		})
	}
}

// Test patches apply in their order, each on what the earlier ones left,
// whether they all apply (one step) or one does not (one at a time from the
// same tree: a patch that applies is applied once, whatever its place).
func TestLocalTestPatchesInOrder(t *testing.T) {
	l, _ := newTestLocal(t)
	repo := executortest.GitRepo(t, map[string]string{"lib.txt": "lib\n"})
	gen := executor.TestPatch{ID: "gen", Patch: executortest.DiffAgainst(t, repo, map[string]string{"gen_test.go": "generated\n"})}
	withGen := executortest.GitRepo(t, map[string]string{"lib.txt": "lib\n", "gen_test.go": "generated\n"})
	extend := executor.TestPatch{ID: "extend", Patch: executortest.DiffAgainst(t, withGen, map[string]string{"gen_test.go": "generated\nextended\n"})}
	broken := executor.TestPatch{ID: "broken", Patch: strings.ReplaceAll(executortest.DiffAgainst(t, repo, map[string]string{"lib.txt": "other\n"}), "-lib", "-not what the file holds")}
	check := `g=FAILED; [ "$(cat gen_test.go 2>/dev/null)" = generated ] && g=PASSED
e=FAILED; [ "$(cat gen_test.go 2>/dev/null)" = "$(printf 'generated\nextended')" ] && e=PASSED
l=FAILED; [ "$(cat lib.txt)" = lib ] && l=PASSED
` + `printf '%s\n' '==== short test summary info ====' "$g t::generated" "$e t::extended" "$l t::lib" '==== end ===='`
	cases := []struct {
		name     string
		tests    []executor.TestPatch
		applied  map[string]bool
		outcomes map[string]string
	}{
		{"all apply", []executor.TestPatch{gen, extend},
			map[string]bool{"gen": true, "extend": true}, map[string]string{"t::generated": "FAIL", "t::extended": "PASS", "t::lib": "PASS"}},
		{"the first does not apply", []executor.TestPatch{broken, gen, extend},
			map[string]bool{"broken": false, "gen": true, "extend": true}, map[string]string{"t::generated": "FAIL", "t::extended": "PASS", "t::lib": "PASS"}},
		{"the last does not apply", []executor.TestPatch{gen, extend, broken},
			map[string]bool{"broken": false, "gen": true, "extend": true}, map[string]string{"t::generated": "FAIL", "t::extended": "PASS", "t::lib": "PASS"}},
		{"out of order", []executor.TestPatch{extend, gen},
			map[string]bool{"gen": true, "extend": false}, map[string]string{"t::generated": "PASS", "t::extended": "FAIL", "t::lib": "PASS"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := l.Run(t.Context(), executor.Run{
				Env: executor.Environment{Repo: repo}, Tests: tc.tests, Command: check, Format: executor.Pytest, Timeout: time.Minute,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != executor.Completed {
				t.Fatalf("status %q, want completed; reason: %s", res.Status, res.Reason)
			}
			if fmt.Sprint(res.TestsApplied) != fmt.Sprint(tc.applied) {
				t.Errorf("tests applied %v, want %v", res.TestsApplied, tc.applied)
			}
			if fmt.Sprint(outcomes(res.Cases)) != fmt.Sprint(tc.outcomes) {
				t.Errorf("cases %v, want %v", outcomes(res.Cases), tc.outcomes)
			}
		})
	}
}

// The reason of a failed apply quotes git's own complaint.
func TestLocalApplyFailedQuotesGit(t *testing.T) {
	l, _ := newTestLocal(t)
	repo := executortest.GitRepo(t, map[string]string{"a.txt": "a\n"})
	res, err := l.Run(t.Context(), executor.Run{Env: executor.Environment{Repo: repo}, Patch: executortest.Modify("a.txt"), Command: "true", Format: executor.Pytest})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != executor.ApplyFailed || !strings.Contains(res.Reason, "error: patch failed: a.txt:1") {
		t.Fatalf("status %q reason %q: want apply_failed quoting git apply", res.Status, res.Reason)
	}
}

func TestLocalCommitAndEnvironment(t *testing.T) {
	l, _ := newTestLocal(t)
	repo := executortest.GitRepo(t, map[string]string{"v.txt": "one\n"})
	first := strings.TrimSpace(executortest.GitCmd(t, repo, "rev-parse", "HEAD"))
	executortest.CommitFiles(t, repo, map[string]string{"v.txt": "two\n"})
	// Uncommitted changes in the checkout are not part of any run.
	executortest.WriteFiles(t, repo, map[string]string{"v.txt": "dirty\n"})

	cmd := `printf '%s\n' '=== short test summary info ===' "PASSED t::$(cat v.txt)-$BP_TEST_VAR-$GOTOOLCHAIN-$ACTIVATED" '=== end ==='`
	for _, tc := range []struct{ commit, want string }{{"", "t::two-hello-local-yes"}, {first, "t::one-hello-local-yes"}} {
		res, err := l.Run(t.Context(), executor.Run{
			Env:     executor.Environment{Repo: repo, Commit: tc.commit, Env: map[string]string{"BP_TEST_VAR": "hello"}, Activate: "export ACTIVATED=yes"},
			Command: cmd, Format: executor.Pytest,
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != executor.Completed || len(res.Cases) != 1 || res.Cases[0].ID != tc.want {
			t.Errorf("commit %q: %s %v, want the single case %s; output: %s", tc.commit, res.Status, res.Cases, tc.want, res.Output)
		}
	}
}

// run.sh reads the command and test IDs with shell builtins, not cat: a
// command of several lines, with backslashes, quotes, tabs and blank lines,
// runs as written, and trailing newlines are dropped as $(cat) drops them.
func TestLocalCommandReadAsWritten(t *testing.T) {
	l, _ := newTestLocal(t)
	repo := executortest.GitRepo(t, map[string]string{"v.txt": "one\n"})
	cmd := "a='x\\y'\n\n\tb=\"  two  words\"\nprintf '%s\\n' '=== short test summary info ===' \"PASSED t::$a\" \"PASSED t::[$b]\" '=== end ==='\n\n\n"
	res, err := l.Run(t.Context(), executor.Run{Env: executor.Environment{Repo: repo}, Command: cmd, Format: executor.Pytest,
		Tests: []executor.TestPatch{{ID: "id with  spaces\\", Patch: executortest.NewFilePatch("t.txt", "t")}}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range res.Cases {
		ids = append(ids, c.ID)
	}
	if want := []string{`t::x\y`, "t::[  two  words]"}; res.Status != executor.Completed || !slices.Equal(ids, want) {
		t.Errorf("%s %q, want cases %q; output: %s", res.Status, ids, want, res.Output)
	}
	if ok, known := res.TestsApplied["id with  spaces\\"]; !ok || !known {
		t.Errorf("test patch applied: %v (known %v), want its ID read as written: %v", ok, known, res.TestsApplied)
	}
}

func TestLocalBadInputs(t *testing.T) {
	l, tmp := newTestLocal(t)
	repo := executortest.GitRepo(t, map[string]string{"a.txt": "a\n"})
	file := filepath.Join(repo, "a.txt")
	good := executor.Run{Env: executor.Environment{Repo: repo}, Command: "true", Format: executor.Pytest}
	cases := []struct {
		name string
		edit func(r *executor.Run)
		want string
	}{
		{"missing repo", func(r *executor.Run) { r.Env.Repo = filepath.Join(tmp, "nope") }, "does not exist"},
		{"no repo", func(r *executor.Run) { r.Env.Repo = "" }, "set env.repo"},
		{"an image", func(r *executor.Run) { r.Env.Repo, r.Env.Image = "", "img:1" }, "cannot run image img:1"},
		{"not a directory", func(r *executor.Run) { r.Env.Repo = file }, "is not a directory"},
		{"bad commit", func(r *executor.Run) { r.Env.Commit = "deadbeef" }, `commit "deadbeef" is not in repository`},
		{"empty command", func(r *executor.Run) { r.Command = " " }, "test command is empty"},
		{"unknown format", func(r *executor.Run) { r.Format = "tap" }, `"tap" is not known`},
		{"junit without report", func(r *executor.Run) { r.Format = executor.JUnit }, "needs the report path"},
		{"duplicate test IDs", func(r *executor.Run) { r.Tests = []executor.TestPatch{{ID: "a", Patch: "x"}, {ID: "a", Patch: "y"}} }, "used twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := good
			tc.edit(&r)
			res, err := l.Run(t.Context(), r)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v (result %s %s), want an error saying %q", err, res.Status, res.Reason, tc.want)
			}
			if tc.name == "missing repo" && !strings.Contains(err.Error(), r.Env.Repo) {
				t.Errorf("error %q does not name the path", err)
			}
		})
	}
}

func TestLocalSnapshotsPlainDirectoryOnce(t *testing.T) {
	l, tmp := newTestLocal(t)
	plain := t.TempDir()
	executortest.WriteFiles(t, plain, map[string]string{"v.txt": "plain\n", ".gitignore": "v.txt\n"})
	// A subdirectory of a checkout is not its top level: snapshotted too.
	sub := filepath.Join(executortest.GitRepo(t, map[string]string{"sub/v.txt": "sub\n"}), "sub")

	cmd := `printf '%s\n' '=== short test summary info ===' "PASSED t::$(cat v.txt)" '=== end ==='`
	var wg sync.WaitGroup
	results := make([]executor.Result, 6)
	errs := make([]error, 6)
	for i := range results {
		dir := plain
		if i%2 == 1 {
			dir = sub
		}
		wg.Go(func() {
			results[i], errs[i] = l.Run(t.Context(), executor.Run{Env: executor.Environment{Repo: dir}, Command: cmd, Format: executor.Pytest})
		})
	}
	wg.Wait()
	for i, res := range results {
		want := map[bool]string{true: "t::plain", false: "t::sub"}[i%2 == 0]
		if errs[i] != nil || res.Status != executor.Completed || len(res.Cases) != 1 || res.Cases[0].ID != want {
			t.Errorf("run %d: %v %s %s %v, want %s", i, errs[i], res.Status, res.Reason, res.Cases, want)
		}
	}
	snaps, _ := filepath.Glob(filepath.Join(tmp, scratchPrefix+"*", "snapshot-*"))
	if len(snaps) != 2 {
		t.Errorf("%d snapshots made, want one per directory (2): %v", len(snaps), snaps)
	}
	if _, err := l.Run(t.Context(), executor.Run{Env: executor.Environment{Repo: plain, Commit: "HEAD"}, Command: cmd, Format: executor.Pytest}); err == nil || !strings.Contains(err.Error(), "not the top level") {
		t.Errorf("a commit for a plain directory: got %v, want an error", err)
	}
}

func TestLocalTimeoutKillsEverything(t *testing.T) {
	l, _ := newTestLocal(t)
	repo := executortest.GitRepo(t, map[string]string{"a.txt": "a\n"})
	marker := fmt.Sprintf("bestpatch-hang-%d", time.Now().UnixNano())
	// A child in the background and one in the foreground, both hanging.
	cmd := fmt.Sprintf(`(exec -a %[1]s-bg sleep 1000) & exec -a %[1]s-fg sleep 1000`, marker)
	res, err := l.Run(t.Context(), executor.Run{Env: executor.Environment{Repo: repo}, Command: cmd, Format: executor.Pytest, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != executor.TimedOut || !strings.Contains(res.Reason, "2s") {
		t.Errorf("status %q reason %q, want timeout naming the limit", res.Status, res.Reason)
	}
	if left := executortest.MarkedProcesses(t, marker); len(left) > 0 {
		t.Errorf("processes left after the timeout: %v", left)
	}
}

func TestLocalKillsLeftoversOfACompletedRun(t *testing.T) {
	l, _ := newTestLocal(t)
	repo := executortest.GitRepo(t, map[string]string{"a.txt": "a\n"})
	marker := fmt.Sprintf("bestpatch-leftover-%d", time.Now().UnixNano())
	// The background job keeps the output pipe open; only killing it ends
	// the run (well before its 1000 s).
	cmd := fmt.Sprintf(`(exec -a %s sleep 1000) & %s`, marker, executortest.Summary("PASSED t::a"))
	res, err := l.Run(t.Context(), executor.Run{Env: executor.Environment{Repo: repo}, Command: cmd, Format: executor.Pytest})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != executor.Completed || len(res.Cases) != 1 {
		t.Errorf("status %q cases %v, want completed with t::a; reason %s", res.Status, res.Cases, res.Reason)
	}
	if left := executortest.MarkedProcesses(t, marker); len(left) > 0 {
		t.Errorf("processes left after the run: %v", left)
	}
}

func TestLocalCancel(t *testing.T) {
	l, _ := newTestLocal(t)
	repo := executortest.GitRepo(t, map[string]string{"a.txt": "a\n"})
	marker := fmt.Sprintf("bestpatch-cancel-%d", time.Now().UnixNano())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		// Wait for the sleep itself (argv[0] is the marker), not for the
		// shells whose command lines merely mention it.
		for ctx.Err() == nil && !slices.ContainsFunc(executortest.MarkedProcesses(t, marker), func(p string) bool {
			_, cmdline, _ := strings.Cut(p, ": ")
			return strings.HasPrefix(cmdline, marker)
		}) {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
	}()
	_, err := l.Run(ctx, executor.Run{Env: executor.Environment{Repo: repo}, Command: "exec -a " + marker + " sleep 1000", Format: executor.Pytest})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want an error wrapping context.Canceled", err)
	}
	if left := executortest.MarkedProcesses(t, marker); len(left) > 0 {
		t.Errorf("processes left after cancel: %v", left)
	}
}

func TestLocalOutputLimits(t *testing.T) {
	l, _ := newTestLocal(t)
	repo := executortest.GitRepo(t, map[string]string{"a.txt": "a\n"})
	maxOutput := 2*executor.ExcerptHalf + 200
	cases := []struct {
		name, cmd string
		status    executor.Status
		cases     map[string]string
		reason    string
	}{
		{"100 MB of lines", "yes | head -c 100000000", executor.Infra, map[string]string{}, "no test results"},
		{"a 100 MB line", "head -c 100000000 /dev/zero | tr '\\0' a; echo; " + executortest.Summary("PASSED t::after_the_long_line"),
			executor.Completed, map[string]string{"t::after_the_long_line": "PASS"}, ""},
		{"not UTF-8", `printf 'caf\xe9 \xff\xfe\n=== short test summary info ===\nPASSED t::caf\xe9\nFAILED t::b - \xff\n=== end ===\n'`,
			executor.Completed, map[string]string{"t::caf\uFFFD": "PASS", "t::b": "FAIL"}, ""},
		{"no output", "true", executor.Infra, map[string]string{}, "no test results in the output: check test_command and test_format"},
		{"output without results", "echo collected 0 items; exit 4", executor.Infra, map[string]string{}, "exited with status 4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := l.Run(t.Context(), executor.Run{Env: executor.Environment{Repo: repo}, Command: tc.cmd, Format: executor.Pytest})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.status || !strings.Contains(res.Reason, tc.reason) {
				t.Errorf("status %q reason %q, want %q saying %q", res.Status, res.Reason, tc.status, tc.reason)
			}
			if fmt.Sprint(outcomes(res.Cases)) != fmt.Sprint(tc.cases) {
				t.Errorf("cases %v, want %v", outcomes(res.Cases), tc.cases)
			}
			if len(res.Output) > maxOutput {
				t.Errorf("output excerpt is %d bytes, want at most %d", len(res.Output), maxOutput)
			}
			if !utf8.ValidString(res.Output) {
				t.Errorf("output excerpt is not valid UTF-8")
			}
		})
	}
}

func TestLocalJUnit(t *testing.T) {
	py := executortest.PytestPython(t)
	l, _ := newTestLocal(t)
	repo := executortest.GitRepo(t, map[string]string{"tests/test_j.py": "def test_ok():\n    pass\n\ndef test_bad():\n    assert False\n"})
	run := executor.Run{Env: executor.Environment{Repo: repo}, Command: py + " -m pytest -q -p no:cacheprovider --junitxml=out/report.xml tests", Format: executor.JUnit, Report: "out/report.xml"}
	res, err := l.Run(t.Context(), run)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"tests.test_j::test_ok": "PASS", "tests.test_j::test_bad": "FAIL"}
	if res.Status != executor.Completed || fmt.Sprint(outcomes(res.Cases)) != fmt.Sprint(want) || res.ExitCode != 1 {
		t.Errorf("%s %s exit %d %v, want completed, exit 1, %v", res.Status, res.Reason, res.ExitCode, outcomes(res.Cases), want)
	}

	run.Report = "elsewhere.xml"
	res, err = l.Run(t.Context(), run)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != executor.Infra || !strings.Contains(res.Reason, "no JUnit report at elsewhere.xml") {
		t.Errorf("missing report: %s %q, want infra naming the path", res.Status, res.Reason)
	}
}

func TestLocalRemovesReadOnlyLeftovers(t *testing.T) {
	l, _ := newTestLocal(t) // its cleanup fails the test if a directory is left
	repo := executortest.GitRepo(t, map[string]string{"a.txt": "a\n"})
	if os.Geteuid() == 0 {
		t.Log("running as root: read-only directories do not stop removal anyway")
	}
	cmd := "mkdir -p ro/deep && touch ro/deep/f && chmod -R a-w ro && " + executortest.Summary("PASSED t::a")
	if res, err := l.Run(t.Context(), executor.Run{Env: executor.Environment{Repo: repo}, Command: cmd, Format: executor.Pytest}); err != nil || res.Status != executor.Completed {
		t.Fatalf("%v %s %s", err, res.Status, res.Reason)
	}
}

// A report left in the repository (committed, or kept from an image's
// build) is removed before the command runs: it must not stand in for one
// the command did not write.
func TestLocalStaleReportIgnored(t *testing.T) {
	l, _ := newTestLocal(t)
	repo := executortest.GitRepo(t, map[string]string{"stale.xml": `<testsuite><testcase classname="c" name="old"/></testsuite>`})
	res, err := l.Run(t.Context(), executor.Run{Env: executor.Environment{Repo: repo}, Command: "true", Format: executor.JUnit, Report: "stale.xml"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != executor.Infra || len(res.Cases) != 0 {
		t.Errorf("%s %q cases %v, want infra and no cases from the stale report", res.Status, res.Reason, res.Cases)
	}
}

// BenchmarkLocalRun measures the fixed cost of one Local run: clone,
// checkout, stage, apply a patch, run a trivial command, clean up.
func BenchmarkLocalRun(b *testing.B) {
	tmp := b.TempDir()
	l := New(Config{Logger: slog.New(slog.DiscardHandler), TempDir: tmp})
	defer l.Close()
	files := map[string]string{}
	for i := range 200 {
		files[fmt.Sprintf("pkg%d/file%d.txt", i%20, i)] = executortest.Numbered(50, nil)
	}
	repo := executortest.GitRepo(b, files)
	patch := executortest.DiffAgainst(b, repo, map[string]string{"pkg0/file0.txt": executortest.Numbered(50, map[int]string{10: "l10 fixed"})})
	run := executor.Run{Env: executor.Environment{Repo: repo}, Patch: patch, Command: executortest.Summary("PASSED t::a"), Format: executor.Pytest}
	for b.Loop() {
		if res, err := l.Run(b.Context(), run); err != nil || res.Status != executor.Completed {
			b.Fatalf("%v %s %s", err, res.Status, res.Reason)
		}
	}
}

// A tool the script needs and cannot find is named, with what to do; bash
// is not needed: without it the test command runs with sh.
func TestLocalMissingTools(t *testing.T) {
	l, _ := newTestLocal(t)
	repo := executortest.GitRepo(t, map[string]string{"a.txt": "a\n"})
	tools := []string{"sh", "bash", "git", "timeout", "patch", "cat", "cp", "rm", "date"}
	cmd := executortest.Summary("PASSED t::shell_$0")
	for _, tc := range []struct {
		name    string
		without string
		patch   string
		status  executor.Status
		reason  string
		cases   map[string]string
	}{
		{name: "all there", patch: executortest.Modify("a.txt"), status: executor.ApplyFailed, reason: "patch does not apply"},
		{name: "no git", without: "git", status: executor.Infra, reason: "missing tools: git: the run script needs git, timeout"},
		{name: "no timeout", without: "timeout", status: executor.Infra, reason: "missing tools: timeout:"},
		{name: "no patch, a candidate", without: "patch", patch: executortest.Modify("a.txt"), status: executor.Infra, reason: "missing tools: patch:"},
		{name: "no patch, the base run", without: "patch", status: executor.Completed, cases: map[string]string{"t::shell_bash": "PASS"}},
		{name: "no bash", without: "bash", status: executor.Completed, cases: map[string]string{"t::shell_sh": "PASS"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin := t.TempDir()
			for _, tool := range tools {
				if tool == tc.without {
					continue
				}
				p, err := exec.LookPath(tool)
				if err != nil {
					t.Skipf("%s is not installed here: %v", tool, err)
				}
				if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
					t.Fatal(err)
				}
			}
			res, err := l.Run(t.Context(), executor.Run{Env: executor.Environment{Repo: repo, Env: map[string]string{"PATH": bin}}, Patch: tc.patch, Command: cmd, Format: executor.Pytest})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.status || !strings.Contains(res.Reason, tc.reason) {
				t.Fatalf("status %s reason %q, want %s saying %q", res.Status, res.Reason, tc.status, tc.reason)
			}
			if tc.cases != nil && fmt.Sprint(outcomes(res.Cases)) != fmt.Sprint(tc.cases) {
				t.Errorf("cases %v, want %v", outcomes(res.Cases), tc.cases)
			}
		})
	}
}

// A name git quotes (non-ASCII, spaces) survives the vetting's
// re-serialization, with git apply and with patch --fuzz alike.
func TestLocalApplyQuotedNames(t *testing.T) {
	l, _ := newTestLocal(t)
	const name = "docs/café notes.txt"
	repo := executortest.GitRepo(t, map[string]string{name: executortest.Numbered(20, nil)})
	exact := executortest.DiffAgainst(t, repo, map[string]string{name: executortest.Numbered(20, map[int]string{10: "l10 fixed"})})
	other := executortest.GitRepo(t, map[string]string{name: executortest.Numbered(20, map[int]string{8: "l8 elsewhere"})})
	fuzzy := executortest.DiffAgainst(t, other, map[string]string{name: executortest.Numbered(20, map[int]string{8: "l8 elsewhere", 10: "l10 fixed"})})
	if !strings.Contains(exact, `"a/docs/caf\303\251 notes.txt"`) {
		t.Fatalf("git did not quote the name: %s", exact)
	}
	cmd := `if grep -q 'l10 fixed' 'docs/café notes.txt'; then r=PASSED; else r=FAILED; fi; ` + executortest.Summary("$r t::fixed")
	for _, tc := range []struct{ name, patch, applied string }{{"git apply", exact, "git apply"}, {"patch --fuzz", fuzzy, "patch --fuzz"}} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := l.Run(t.Context(), executor.Run{Env: executor.Environment{Repo: repo}, Patch: tc.patch, Command: cmd, Format: executor.Pytest})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != executor.Completed || res.Applied != tc.applied || fmt.Sprint(outcomes(res.Cases)) != "map[t::fixed:PASS]" {
				t.Errorf("%s applied %q cases %v (%s), want completed by %s with t::fixed passing", res.Status, res.Applied, outcomes(res.Cases), res.Reason, tc.applied)
			}
		})
	}
}
