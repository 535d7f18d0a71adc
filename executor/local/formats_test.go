package local

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/executortest"
)

// The whole path, Local backend included, on a real module.
func TestLocalGoTest(t *testing.T) {
	t.Parallel()
	l, _ := newTestLocal(t)
	repo := executortest.GitRepo(t, executortest.ScratchModule)
	fix := executortest.DiffAgainst(t, repo, map[string]string{"libfail/lib.go": "package libfail\n\nfunc F() int { return 1 }\n"})
	res, err := l.Run(t.Context(), executor.Run{Env: executor.Environment{Repo: repo}, Patch: fix, Command: executortest.ScratchCommand, Format: executor.GoJSON})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"example.com/scratch/uses::TestU": "PASS"}
	for k, v := range executortest.WantScratchCases {
		want[k] = v
	}
	if res.Status != executor.Completed || res.ExitCode != 1 || fmt.Sprint(outcomes(res.Cases)) != fmt.Sprint(want) {
		t.Errorf("%s %s exit %d\n got %v\nwant %v", res.Status, res.Reason, res.ExitCode, outcomes(res.Cases), want)
	}
	wantBroken := []string{"example.com/scratch/buildfail", "example.com/scratch/mainexit", "example.com/scratch/setupfail"}
	if fmt.Sprint(res.Broken) != fmt.Sprint(wantBroken) {
		t.Errorf("broken %v, want %v", res.Broken, wantBroken)
	}
}

// TestLocalDjango runs Django's runner through the local backend (run.sh
// merges its stderr, where unittest writes, into the parsed output) with the
// django format's default test files: a candidate's edit of shapes/tests.py
// is stripped, so the test it "fixes" still fails.
func TestLocalDjango(t *testing.T) {
	executortest.NeedPython(t, "django", "python3-django")
	files := map[string]string{}
	root := filepath.Join("..", "testdata", "djangoproject")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, "__pycache__") {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	repo := executortest.GitRepo(t, files)
	spec, err := executor.Django.Spec()
	if err != nil {
		t.Fatal(err)
	}
	patch := executortest.DiffAgainst(t, repo, map[string]string{
		"shapes/tests.py": strings.Replace(files["shapes/tests.py"], "self.assertEqual(2 * 3, 7)", "self.assertEqual(2 * 3, 6)", 1),
		"shapes/area.py":  "def area(w, h):\n    return w * h\n",
	})
	l, _ := newTestLocal(t)
	res, err := l.Run(t.Context(), executor.Run{
		Env:       executor.Environment{Repo: repo, Env: map[string]string{"PYTHONDONTWRITEBYTECODE": "1"}},
		Patch:     patch,
		TestFiles: spec.TestFiles,
		Command:   executortest.DebianPython + " manage.py test -v 2",
		Format:    executor.Django,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != executor.Completed {
		t.Fatalf("%s: %s\n%s", res.Status, res.Reason, res.Output)
	}
	if got := outcomes(res.Cases); fmt.Sprint(got) != fmt.Sprint(executortest.WantDjango) {
		t.Errorf("cases\n got %v\nwant %v", got, executortest.WantDjango)
	}
	if fmt.Sprint(res.Broken) != executortest.WantDjangoBroken || fmt.Sprint(res.Restored) != "[shapes/tests.py]" {
		t.Errorf("broken %v restored %v, want %s and [shapes/tests.py]", res.Broken, res.Restored, executortest.WantDjangoBroken)
	}
}
