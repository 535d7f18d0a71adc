package executor

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// hostileRepo is the repository of the hostile-patch tests: the sh-only
// image's /testbed, rebuilt for the Local backend with links to outside.
func hostileRepo(t *testing.T, outside string) string {
	t.Helper()
	repo := gitRepo(t, map[string]string{"lib.txt": numbered(20, nil), "lib_test.go": "original\n"})
	for name, target := range map[string]string{"link": outside, "linkfile": filepath.Join(outside, "target.txt")} {
		if err := os.Symlink(target, filepath.Join(repo, name)); err != nil {
			t.Fatal(err)
		}
	}
	gitCmd(t, repo, "add", "-A")
	gitCmd(t, repo, "commit", "--quiet", "-m", "links")
	return repo
}

// hostileCheck is the test command of the hostile-patch tests (POSIX sh):
// whether the fix is in, the tests are as the base has them, what is
// outside the repository is untouched, and which shell ran it.
func hostileCheck(outside string) string {
	return fmt.Sprintf(`r=FAILED; grep -q 'l10 fixed' lib.txt && r=PASSED
u=FAILED; [ "$(cat lib_test.go)" = original ] && [ ! -e zz_test.go ] && u=PASSED
o=FAILED; [ "$(cat %[1]s/target.txt)" = outside ] && [ "$(ls %[1]s)" = target.txt ] && o=PASSED
printf '%%s\n' '==== short test summary info ====' "$r t::fix" "$u t::tests_untouched" "$o t::outside_untouched" "PASSED t::shell_$0" '==== end ===='`, outside)
}

type hostileCase struct {
	name     string
	patch    string
	status   Status
	reason   string   // the Reason says this
	restored []string // Result.Restored
	cases    map[string]string
}

// hostilePatches are the candidates an attacker would send, and one honest
// fix as the control. outside is the directory the repository's links point
// to; every case must leave it as it was.
func hostilePatches(shell string) []hostileCase {
	fix := "diff --git a/lib.txt b/lib.txt\n--- a/lib.txt\n+++ b/lib.txt\n@@ -9,3 +9,3 @@\n l9\n-l10\n+l10 fixed\n l11\n"
	clean := map[string]string{"t::fix": "PASS", "t::tests_untouched": "PASS", "t::outside_untouched": "PASS", "t::shell_" + shell: "PASS"}
	return []hostileCase{
		{name: "honest fix", patch: fix, status: Completed, cases: clean},
		{
			// The probe of issue 12: the test file is ignored, so a
			// `git add -A` never saw it; the vetting does.
			name:   "test file hidden by .gitignore",
			patch:  newFilePatch(".gitignore", "zz_test.go") + newFilePatch("zz_test.go", "package lib\n\nimport (\"os\"; \"testing\")\n\nfunc TestMain(m *testing.M) { os.Exit(0) }") + fix,
			status: Completed, restored: []string{"zz_test.go"}, cases: clean,
		},
		{name: "test file edited", patch: fix + "diff --git a/lib_test.go b/lib_test.go\n--- a/lib_test.go\n+++ b/lib_test.go\n@@ -1 +1 @@\n-original\n+tampered\n",
			status: Completed, restored: []string{"lib_test.go"}, cases: clean},
		{
			// git apply refuses it; patch --fuzz used to write it.
			name: "git hook", patch: newFilePatch(".git/hooks/post-checkout", "#!/bin/sh\necho pwned >/tmp/pwned") + fix,
			status: ApplyFailed, reason: `refused before it was applied: the patch writes ".git/hooks/post-checkout", inside a .git directory`,
		},
		{name: "git config", patch: "--- a/.git/config\n+++ b/.git/config\n@@ -1 +1,2 @@\n [core]\n+\tfsmonitor = touch /tmp/pwned\n",
			status: ApplyFailed, reason: "inside a .git directory"},
		{name: "symbolic link made and written through", patch: symlinkPatch("esc", "link") + newFilePatch("esc/pwned", "x"),
			status: ApplyFailed, reason: `makes "esc" a symbolic link and writes "esc/pwned" through it`},
		{name: "write through a link in the repository", patch: newFilePatch("link/pwned", "x") + fix,
			status: ApplyFailed, reason: "the patch writes link/pwned through link, a symbolic link in the repository"},
		{name: "a link in the repository patched as a file", patch: "--- a/linkfile\n+++ b/linkfile\n@@ -1 +1 @@\n-outside\n+pwned\n",
			status: ApplyFailed, reason: "the patch changes linkfile as a regular file, and it is a symbolic link in the repository"},
		{name: "path traversal", patch: newFilePatch("../pwned", "x") + fix, status: ApplyFailed, reason: `"../pwned", which leaves the repository`},
		{name: "absolute path", patch: "--- /tmp/pwned\n+++ /tmp/pwned\n@@ -0,0 +1 @@\n+x\n", status: ApplyFailed, reason: `"/tmp/pwned", an absolute path`},
		{name: "huge patch", patch: fix + newFilePatch("big.txt", strings.Repeat("x", MaxPatchBytes)), status: ApplyFailed, reason: "over the limit of 8388608 bytes (8.0 MiB)"},
		{name: "not a patch", patch: "rm -rf / --no-preserve-root\n", status: ApplyFailed, reason: "holds no file changes"},
	}
}

// checkHostile compares a result with a hostile case's expectations.
func checkHostile(t *testing.T, tc hostileCase, res Result) {
	t.Helper()
	if res.Status != tc.status || !strings.Contains(res.Reason, tc.reason) {
		t.Fatalf("status %s reason %q, want %s saying %q\noutput: %s", res.Status, res.Reason, tc.status, tc.reason, res.Output)
	}
	if !slices.Equal(res.Restored, tc.restored) {
		t.Errorf("restored %q, want %q", res.Restored, tc.restored)
	}
	if tc.cases != nil && fmt.Sprint(outcomes(res.Cases)) != fmt.Sprint(tc.cases) {
		t.Errorf("cases %v, want %v", outcomes(res.Cases), tc.cases)
	}
	if tc.status != Completed && len(res.Cases) > 0 {
		t.Errorf("the tests ran for a refused patch: %v", res.Cases)
	}
}

func TestLocalHostilePatches(t *testing.T) {
	l, _ := newTestLocal(t)
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"target.txt": "outside\n"})
	repo := hostileRepo(t, outside)
	for _, tc := range hostilePatches("bash") {
		t.Run(tc.name, func(t *testing.T) {
			res, err := l.Run(t.Context(), Run{
				Env: Environment{Repo: repo}, Patch: tc.patch, TestFiles: []string{"*_test.go"},
				Command: hostileCheck(outside), Format: Pytest, Timeout: time.Minute,
			})
			if err != nil {
				t.Fatal(err)
			}
			checkHostile(t, tc, res)
			entries, _ := os.ReadDir(outside)
			if b, _ := os.ReadFile(filepath.Join(outside, "target.txt")); len(entries) != 1 || string(b) != "outside\n" {
				t.Errorf("the directory outside the repository changed: %d entries, target.txt %q", len(entries), b)
			}
		})
	}
}

// The same hostile patches in a container of an image without bash: the
// refusals hold, links in the image's repository are seen, and the tests run
// with sh.
func TestDockerHostilePatches(t *testing.T) {
	d := newTestDocker(t, DockerConfig{})
	needImages(t, d, shOnlyImage)
	for _, tc := range hostilePatches("sh") {
		t.Run(tc.name, func(t *testing.T) {
			res := runOK(t, d, Run{
				Env: Environment{Image: shOnlyImage}, Patch: tc.patch, TestFiles: []string{"*_test.go"},
				Command: hostileCheck("/opt/outside"), Format: Pytest, Timeout: time.Minute,
			})
			checkHostile(t, tc, res)
		})
	}
}
