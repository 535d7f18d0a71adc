package executortest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The statuses the hostile cases expect (executor.Completed and
// executor.ApplyFailed; this package does not import executor, whose own
// tests use it).
const (
	completed   = "completed"
	applyFailed = "apply_failed"
)

// HostileRepo is the repository of the hostile-patch tests: the sh-only
// image's /testbed, rebuilt for the Local backend with links to outside.
func HostileRepo(t *testing.T, outside string) string {
	t.Helper()
	repo := GitRepo(t, map[string]string{"lib.txt": Numbered(20, nil), "lib_test.go": "original\n"})
	for name, target := range map[string]string{"link": outside, "linkfile": filepath.Join(outside, "target.txt")} {
		if err := os.Symlink(target, filepath.Join(repo, name)); err != nil {
			t.Fatal(err)
		}
	}
	GitCmd(t, repo, "add", "-A")
	GitCmd(t, repo, "commit", "--quiet", "-m", "links")
	return repo
}

// HostileCheck is the test command of the hostile-patch tests (POSIX sh):
// whether the fix is in, the tests are as the base has them, what is
// outside the repository is untouched, and which shell ran it.
func HostileCheck(outside string) string {
	return fmt.Sprintf(`r=FAILED; grep -q 'l10 fixed' lib.txt && r=PASSED
u=FAILED; [ "$(cat lib_test.go)" = original ] && [ ! -e zz_test.go ] && u=PASSED
o=FAILED; [ "$(cat %[1]s/target.txt)" = outside ] && [ "$(ls %[1]s)" = target.txt ] && o=PASSED
printf '%%s\n' '==== short test summary info ====' "$r t::fix" "$u t::tests_untouched" "$o t::outside_untouched" "PASSED t::shell_$0" '==== end ===='`, outside)
}

// HostileCase is one hostile candidate and what a run of it must give.
type HostileCase struct {
	Name     string
	Patch    string
	Status   string   // the Result's Status
	Reason   string   // the Reason says this
	Restored []string // Result.Restored
	Cases    map[string]string
}

// HostilePatches are the candidates an attacker would send, and one honest
// fix as the control, for a run script under shell and a patch limit of
// maxPatchBytes (executor.MaxPatchBytes: the case over it expects 8 MiB).
// outside is the directory the repository's links point
// to; every case must leave it as it was.
func HostilePatches(shell string, maxPatchBytes int) []HostileCase {
	fix := "diff --git a/lib.txt b/lib.txt\n--- a/lib.txt\n+++ b/lib.txt\n@@ -9,3 +9,3 @@\n l9\n-l10\n+l10 fixed\n l11\n"
	clean := map[string]string{"t::fix": "PASS", "t::tests_untouched": "PASS", "t::outside_untouched": "PASS", "t::shell_" + shell: "PASS"}
	return []HostileCase{
		{Name: "honest fix", Patch: fix, Status: completed, Cases: clean},
		{
			// The probe of issue 12: the test file is ignored, so a
			// `git add -A` never saw it; the vetting does.
			Name:   "test file hidden by .gitignore",
			Patch:  NewFilePatch(".gitignore", "zz_test.go") + NewFilePatch("zz_test.go", "package lib\n\nimport (\"os\"; \"testing\")\n\nfunc TestMain(m *testing.M) { os.Exit(0) }") + fix,
			Status: completed, Restored: []string{"zz_test.go"}, Cases: clean,
		},
		{Name: "test file edited", Patch: fix + "diff --git a/lib_test.go b/lib_test.go\n--- a/lib_test.go\n+++ b/lib_test.go\n@@ -1 +1 @@\n-original\n+tampered\n",
			Status: completed, Restored: []string{"lib_test.go"}, Cases: clean},
		{
			// git apply refuses it; patch --fuzz used to write it.
			Name: "git hook", Patch: NewFilePatch(".git/hooks/post-checkout", "#!/bin/sh\necho pwned >/tmp/pwned") + fix,
			Status: applyFailed, Reason: `refused before it was applied: the patch writes ".git/hooks/post-checkout", inside a .git directory`,
		},
		{Name: "git config", Patch: "--- a/.git/config\n+++ b/.git/config\n@@ -1 +1,2 @@\n [core]\n+\tfsmonitor = touch /tmp/pwned\n",
			Status: applyFailed, Reason: "inside a .git directory"},
		{Name: "symbolic link made and written through", Patch: SymlinkPatch("esc", "link") + NewFilePatch("esc/pwned", "x"),
			Status: applyFailed, Reason: `makes "esc" a symbolic link and writes "esc/pwned" through it`},
		{Name: "write through a link in the repository", Patch: NewFilePatch("link/pwned", "x") + fix,
			Status: applyFailed, Reason: "the patch writes link/pwned through link, a symbolic link in the repository"},
		{Name: "a link in the repository patched as a file", Patch: "--- a/linkfile\n+++ b/linkfile\n@@ -1 +1 @@\n-outside\n+pwned\n",
			Status: applyFailed, Reason: "the patch changes linkfile as a regular file, and it is a symbolic link in the repository"},
		{Name: "path traversal", Patch: NewFilePatch("../pwned", "x") + fix, Status: applyFailed, Reason: `"../pwned", which leaves the repository`},
		{Name: "absolute path", Patch: "--- /tmp/pwned\n+++ /tmp/pwned\n@@ -0,0 +1 @@\n+x\n", Status: applyFailed, Reason: `"/tmp/pwned", an absolute path`},
		{Name: "huge patch", Patch: fix + NewFilePatch("big.txt", strings.Repeat("x", maxPatchBytes)), Status: applyFailed, Reason: "over the limit of 8388608 bytes (8.0 MiB)"},
		{Name: "not a patch", Patch: "rm -rf / --no-preserve-root\n", Status: applyFailed, Reason: "holds no file changes"},
	}
}

// CheckHostile compares a run's status, reason, restored files and
// outcomes (case ID -> outcome name) with a hostile case's expectations.
func CheckHostile(t *testing.T, tc HostileCase, status, reason, output string, restored []string, outcomes map[string]string) {
	t.Helper()
	if status != tc.Status || !strings.Contains(reason, tc.Reason) {
		t.Fatalf("status %s reason %q, want %s saying %q\noutput: %s", status, reason, tc.Status, tc.Reason, output)
	}
	if !slices.Equal(restored, tc.Restored) {
		t.Errorf("restored %q, want %q", restored, tc.Restored)
	}
	if tc.Cases != nil && fmt.Sprint(outcomes) != fmt.Sprint(tc.Cases) {
		t.Errorf("cases %v, want %v", outcomes, tc.Cases)
	}
	if tc.Status != completed && len(outcomes) > 0 {
		t.Errorf("the tests ran for a refused patch: %v", outcomes)
	}
}
