package executor

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/internal/testsubject"
)

// gitCmd runs git in dir and fails the test on error.
func gitCmd(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Env = hostEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// writeFiles writes files (path -> content) under dir; content "" deletes.
func writeFiles(t testing.TB, dir string, files map[string]string) {
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

// gitRepo makes a git repository in a temporary directory holding files in
// one commit.
func gitRepo(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	gitCmd(t, dir, "init", "--quiet")
	writeFiles(t, dir, files)
	gitCmd(t, dir, "add", "-A")
	gitCmd(t, dir, "commit", "--quiet", "-m", "base")
	return dir
}

// commitFiles adds a commit with changes to repo and returns its hash.
func commitFiles(t testing.TB, repo string, files map[string]string) string {
	t.Helper()
	writeFiles(t, repo, files)
	gitCmd(t, repo, "add", "-A")
	gitCmd(t, repo, "commit", "--quiet", "-m", "change")
	return strings.TrimSpace(gitCmd(t, repo, "rev-parse", "HEAD"))
}

// diffAgainst returns the diff that turns repo's HEAD into HEAD with changes
// applied, made by git itself in a scratch clone.
func diffAgainst(t testing.TB, repo string, changes map[string]string) string {
	t.Helper()
	tmp := filepath.Join(t.TempDir(), "c")
	gitCmd(t, repo, "clone", "--quiet", "--shared", ".", tmp)
	writeFiles(t, tmp, changes)
	gitCmd(t, tmp, "add", "-A")
	return gitCmd(t, tmp, "diff", "--cached")
}

// newTestLocal returns a Local whose temporary directories live in a
// directory of the test, and checks at the end that they were all removed.
func newTestLocal(t *testing.T) (*Local, string) {
	t.Helper()
	tmp := t.TempDir()
	l := NewLocal(LocalConfig{Logger: slog.New(slog.NewTextHandler(t.Output(), nil)), TempDir: tmp})
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		left, _ := os.ReadDir(tmp)
		for _, e := range left {
			t.Errorf("temporary directory left behind: %s", e.Name())
		}
	})
	return l, tmp
}

// summary is a shell command that prints a pytest -rA summary section with
// the given lines, the way pytest ends a session.
func summary(lines ...string) string {
	var b strings.Builder
	b.WriteString("printf '%s\\n' '======= short test summary info ======='")
	for _, l := range lines {
		fmt.Fprintf(&b, " %q", l)
	}
	b.WriteString(" '======= done ======='")
	return b.String()
}

// outcomes maps case IDs to outcome names, for comparisons.
func outcomes(cases []Case) map[string]string {
	m := map[string]string{}
	for _, c := range cases {
		m[c.ID] = c.Outcome.String()
	}
	return m
}

// pytestPython returns a python that has pytest, or skips the test.
func pytestPython(t testing.TB) string {
	t.Helper()
	py, err := testsubject.PythonWithPytest()
	if err != nil {
		t.Skip(err.Error() + " (make test-deps installs it)")
	}
	return py
}

// updateCapture rewrites a captured runner output in testdata from a live
// run when the tests run with -update.
func updateCapture(t *testing.T, file string, out []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// parseCase is a table test of a format's parser: an output, and the
// cases and broken units it holds, or the error its parser gives.
type parseCase struct {
	name   string
	out    string
	cases  map[string]string
	broken string // fmt.Sprint of the broken units; "" for none
	err    string // a part of the error; the error must also name the format
}

// checkParses runs a format's parser over each case's output.
func checkParses(t *testing.T, f Format, cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, broken, err := parseOutput(f, []byte(tc.out))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), fmt.Sprintf("format %q", f)) {
					t.Fatalf("error %v, want one naming the format and saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(outcomes(got)) != fmt.Sprint(tc.cases) {
				t.Errorf("cases\n got %v\nwant %v", outcomes(got), tc.cases)
			}
			if b := fmt.Sprint(broken); b != tc.broken && !(len(broken) == 0 && tc.broken == "") {
				t.Errorf("broken %s, want %s", b, tc.broken)
			}
		})
	}
}

// markedProcesses lists live processes whose command line holds marker.
func markedProcesses(t testing.TB, marker string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc to look for leftover processes: %v", err)
	}
	var found []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte(marker)) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && bytes.HasPrefix(bytes.TrimSpace(stat[i+1:]), []byte("Z")) {
			continue // a zombie holds no resources and runs nothing
		}
		found = append(found, e.Name()+": "+string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
	}
	return found
}

// parseOutput runs a format's parser over a whole output, line by line as
// the collector does.
func parseOutput(f Format, out []byte) ([]Case, []string, error) {
	spec, err := f.Spec()
	if err != nil {
		return nil, nil, err
	}
	p := spec.newParser()
	s := newLineSplitter(MaxLine, p.line)
	s.Write(out)
	s.Close()
	return p.finish()
}
