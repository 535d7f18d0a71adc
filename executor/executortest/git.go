package executortest

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// GitCmd runs git in dir and fails the test on error.
func GitCmd(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Env = withoutGitVars(os.Environ())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// WriteFiles writes files (path -> content) under dir; content "" deletes.
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if content == "" {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// GitRepo makes a git repository in a temporary directory holding files in
// one commit.
func GitRepo(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	GitCmd(t, dir, "init", "--quiet")
	WriteFiles(t, dir, files)
	GitCmd(t, dir, "add", "-A")
	GitCmd(t, dir, "commit", "--quiet", "-m", "base")
	return dir
}

// CommitFiles adds a commit with changes to repo and returns its hash.
func CommitFiles(t testing.TB, repo string, files map[string]string) string {
	t.Helper()
	WriteFiles(t, repo, files)
	GitCmd(t, repo, "add", "-A")
	GitCmd(t, repo, "commit", "--quiet", "-m", "change")
	return strings.TrimSpace(GitCmd(t, repo, "rev-parse", "HEAD"))
}

// DiffAgainst returns the diff that turns repo's HEAD into HEAD with changes
// applied, made by git itself in a scratch clone.
func DiffAgainst(t testing.TB, repo string, changes map[string]string) string {
	t.Helper()
	tmp := filepath.Join(t.TempDir(), "c")
	GitCmd(t, repo, "clone", "--quiet", "--shared", ".", tmp)
	WriteFiles(t, tmp, changes)
	GitCmd(t, tmp, "add", "-A")
	return GitCmd(t, tmp, "diff", "--cached")
}

// withoutGitVars drops the variables that point git at another repository
// (set when the tests run from a git hook, say).
func withoutGitVars(env []string) []string {
	return slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "GIT_") })
}
