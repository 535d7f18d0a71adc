package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/bench/testsubject"
	"github.com/bestpatch/bestpatch/scoring"
)

const buggySrc = `package p

// Max returns the larger of a and b.
func Max(a, b int) int {
	if a < b {
		return a
	}
	return b
}

// Log records a message.
func Log(s string) {
	record(s, "a, b")
}

func record(s, t string) {}
`

var fixedSrc = strings.Replace(buggySrc, "if a < b {", "if a > b {", 1)

// fixture is a git repository holding buggySrc as p.go.
func fixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := writeFiles(dir, map[string][]byte{"p.go": []byte(buggySrc), "go.mod": []byte("module example.com/p\n\ngo 1.21\n")}); err != nil {
		t.Fatal(err)
	}
	if _, err := testsubject.Git(dir, "init", "-q"); err != nil {
		t.Fatal(err)
	}
	if err := testsubject.Commit(dir, "base"); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestStaleContext checks with the real tools that a patch made against
// other context applies neither with git apply (any mode) nor with patch at
// the executor's fuzz, while the patch it came from does.
func TestStaleContext(t *testing.T) {
	repo := fixture(t)
	for _, c := range []struct{ name, fixed string }{
		{"change", fixedSrc},
		{"pure insertion", strings.Replace(buggySrc, "\trecord(s, \"a, b\")\n", "\trecord(s, \"a, b\")\n\trecord(s, \"again\")\n", 1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			exact, err := diffFiles(repo, map[string][]byte{"p.go": []byte(c.fixed)})
			if err != nil {
				t.Fatal(err)
			}
			stale, ok := staleContext(exact)
			if !ok {
				t.Fatal("no hunk changed")
			}
			applies := func(patch string, argv ...string) bool {
				dir := t.TempDir()
				if _, err := testsubject.Git(dir, "clone", "-q", repo, "."); err != nil {
					t.Fatal(err)
				}
				pf := filepath.Join(t.TempDir(), "x.patch")
				if err := os.WriteFile(pf, []byte(patch), 0o644); err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command(argv[0], append(argv[1:], pf)...)
				cmd.Dir = dir
				return cmd.Run() == nil
			}
			methods := [][]string{
				{"git", "apply"},
				{"git", "apply", "--recount", "--ignore-whitespace"},
				{"patch", "--batch", "--forward", "--fuzz=5", "-p1", "-i"},
			}
			for _, m := range methods {
				if !applies(exact, m...) {
					t.Fatalf("%v does not apply the exact patch", m)
				}
				if applies(stale, m...) {
					t.Errorf("%v applies the stale patch:\n%s", m, stale)
				}
			}
		})
	}
}

// TestTwins checks that both twins differ from the exact fix as text and
// equal it once normalized, and that strings keep their spaces.
func TestTwins(t *testing.T) {
	for _, c := range []struct{ name, fixed string }{
		{"operator", fixedSrc},
		{"restored statement", strings.Replace(buggySrc, "\trecord(s, \"a, b\")\n", "\trecord(s, \"a, b\")\n\trecord(s, \"a, c\")\n", 1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			repo := fixture(t)
			ref, com := twins([]byte(buggySrc), []byte(c.fixed))
			exact, err := diffFiles(repo, map[string][]byte{"p.go": []byte(c.fixed)})
			if err != nil {
				t.Fatal(err)
			}
			want, err := scoring.Normalize(exact, nil)
			if err != nil {
				t.Fatal(err)
			}
			for name, src := range map[string][]byte{"reformatted": ref, "commented": com} {
				if string(src) == c.fixed {
					t.Errorf("%s twin is the exact fix itself", name)
				}
				p, err := diffFiles(repo, map[string][]byte{"p.go": src})
				if err != nil {
					t.Fatal(err)
				}
				got, err := scoring.Normalize(p, nil)
				if err != nil {
					t.Fatal(err)
				}
				if got.Key != want.Key {
					t.Errorf("%s twin normalizes to another change:\n%s\nwant\n%s", name, got.Text, want.Text)
				}
			}
			if strings.Contains(c.name, "statement") && !strings.Contains(string(ref), `"a, c"`) {
				t.Errorf("a string literal lost its space:\n%s", ref)
			}
		})
	}
}

func TestSqueeze(t *testing.T) {
	for in, want := range map[string]string{
		"\tif a < b && c != d {\n":             "\tif a<b&&c!=d {\n",
		"\tf(x, \"a, b\", 'x') // a, b\n":      "\tf(x,\"a, b\",'x') // a, b\n",
		"\ts := `raw == text` + \"q\\\" == \"": "\ts:=`raw == text`+\"q\\\" == \"",
	} {
		if got := squeeze(in); got != want {
			t.Errorf("squeeze(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInsertLine(t *testing.T) {
	out, err := insertLine([]byte(buggySrc), 5, "// note")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(out), "\n")
	if lines[4] != "\t// note" || lines[5] != "\tif a < b {" {
		t.Errorf("got lines %q, %q", lines[4], lines[5])
	}
	if _, err := insertLine([]byte(buggySrc), 999, "x"); err == nil {
		t.Error("a line past the end was accepted")
	}
}

func TestPatchFiles(t *testing.T) {
	repo := fixture(t)
	p, err := diffFiles(repo, map[string][]byte{"p.go": []byte(fixedSrc), "q/new.go": []byte("package q\n")})
	if err != nil {
		t.Fatal(err)
	}
	files, err := patchFiles(repo, p)
	if err != nil {
		t.Fatal(err)
	}
	if string(files["p.go"]) != fixedSrc {
		t.Errorf("p.go: got\n%s", files["p.go"])
	}
	if string(files["q/new.go"]) != "package q\n" {
		t.Errorf("q/new.go: got %q", files["q/new.go"])
	}
	if _, err := patchFiles(repo, "not a patch"); err == nil {
		t.Error("a broken patch gave no error")
	}
}

// TestCommitFixed checks that the same tree makes the same commit.
func TestCommitFixed(t *testing.T) {
	head := func() string {
		dir := t.TempDir()
		if err := writeFiles(dir, map[string][]byte{"p.go": []byte(buggySrc)}); err != nil {
			t.Fatal(err)
		}
		if _, err := testsubject.Git(dir, "init", "-q", "-b", "main"); err != nil {
			t.Fatal(err)
		}
		if err := commitFixed(dir, "base"); err != nil {
			t.Fatal(err)
		}
		h, err := testsubject.Git(dir, "rev-parse", "HEAD")
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	if a, b := head(), head(); a != b {
		t.Errorf("two commits of the same tree: %s and %s", a, b)
	}
}
