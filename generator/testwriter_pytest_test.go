package generator

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/bench/testsubject"
	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/local"
)

// pytestCommand runs Debian's pytest (python3-pytest), whatever python3
// comes first on PATH.
const pytestCommand = "/usr/bin/python3 -m pytest -rA -p no:cacheprovider tests"

func pyAnswer(path, body string) string {
	return "File: `" + path + "`\n\n```python\n" + body + "```\n"
}

func TestTestWriterValidatesPytestTests(t *testing.T) {
	if testing.Short() {
		t.Skip("runs pytest")
	}
	if err := exec.Command("/usr/bin/python3", "-m", "pytest", "--version").Run(); err != nil {
		t.Fatalf("Debian's pytest is missing (apt-get install -y python3-pytest): %v", err)
	}
	repo := t.TempDir()
	files := map[string]string{
		// The bug: clamp ignores the upper bound.
		"calc.py":            "def clamp(x, lo, hi):\n    return max(lo, x)\n",
		"tests/test_calc.py": "from calc import clamp\n\n\ndef test_inside():\n    assert clamp(5, 0, 10) == 5\n",
		"tests/conftest.py":  "import sys, os\nsys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))\n",
		"tests/__init__.py":  "",
		"setup.cfg":          "[tool:pytest]\n",
	}
	for name, content := range files {
		if err := testsubject.NewFile(name, content)(repo); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := testsubject.Git(repo, "init", "-q", "-b", "main"); err != nil {
		t.Fatal(err)
	}
	if err := testsubject.Commit(repo, "base"); err != nil {
		t.Fatal(err)
	}
	fixPatch, err := testsubject.Diff(repo, testsubject.NewFile("calc.py", "def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := GatherContext(t.Context(), GitCheckout{Dir: repo}, Python, []string{fixPatch})
	if err != nil {
		t.Fatal(err)
	}
	if c.Example == nil || c.Example.Path != "tests/test_calc.py" || len(c.Code) != 1 {
		t.Fatalf("context: code %v, example %v", paths(c.Code), c.Example)
	}

	f := newFakeLLM(t, func(_ int, req ChatRequest) reply {
		repair := len(req.Messages) > 2
		switch *req.Seed {
		case 1:
			return reply{content: pyAnswer("tests/test_clamp_upper.py", "from calc import clamp\n\n\ndef test_upper_bound():\n    assert clamp(15, 0, 10) == 10\n")}
		case 2:
			return reply{content: pyAnswer("tests/test_clamp_lower.py", "from calc import clamp\n\n\ndef test_lower_bound():\n    assert clamp(-5, 0, 10) == 0\n")}
		case 3:
			if repair {
				return reply{content: "```python\nfrom calc import clamp\n\n\ndef test_upper_equal():\n    assert clamp(11, 0, 11) == 11\n    assert clamp(12, 0, 11) == 11\n```\n"}
			}
			return reply{content: pyAnswer("tests/test_clamp_import.py", "from calc import clamp_strict\n\n\ndef test_strict():\n    assert clamp_strict(15, 0, 10) == 10\n")}
		}
		return reply{status: 400}
	})
	runner := &pytestBase{exec: local.New(local.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}), repo: repo}
	t.Cleanup(func() { runner.exec.Close() })
	w := &TestWriter{Model: mustEndpoint(t, testConfig(f)).NewSession(), Runner: runner}
	rep, err := w.Write(t.Context(), TestRequest{Problem: "clamp(x, lo, hi) returns x above hi; it must return hi.", Context: c, Count: 3})
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, k := range rep.Kept {
		kept = append(kept, k.ID+":"+k.Path)
	}
	if got, want := strings.Join(kept, " "), "gen-1:tests/test_clamp_upper.py gen-3:tests/test_clamp_import.py"; got != want {
		t.Errorf("kept %s, want %s", got, want)
	}
	var dropped []string
	for _, d := range rep.Dropped {
		dropped = append(dropped, fmt.Sprintf("%s:%s", d.ID, d.Reason))
	}
	if got := strings.Join(dropped, " "); got != "gen-2:passes_on_base" {
		t.Errorf("dropped %s, want gen-2:passes_on_base", got)
	}
	// A collection error stops the whole pytest session: the culprit is
	// found (no base run without tests: a Python test's unit is its own new
	// file), the others rerun together.
	if got, want := fmt.Sprint(runner.runs), "[[gen-1 gen-2 gen-3] [gen-1 gen-2] [gen-3]]"; got != want {
		t.Errorf("base runs %s, want %s", got, want)
	}
	// The collection error (ImportError) reached the model.
	reqs := f.requests()
	var repairMsg string
	for _, r := range reqs {
		if len(r.Messages) > 2 {
			repairMsg = r.Messages[len(r.Messages)-1].Content
		}
	}
	if !strings.Contains(repairMsg, "clamp_strict") {
		t.Errorf("repair message lacks the import error:\n%s", repairMsg)
	}
}

type pytestBase struct {
	exec *local.Executor
	repo string
	runs [][]string
}

func (b *pytestBase) RunBase(ctx context.Context, tests []executor.TestPatch) (executor.Result, error) {
	ids := []string{}
	for _, t := range tests {
		ids = append(ids, t.ID)
	}
	b.runs = append(b.runs, ids)
	return b.exec.Run(ctx, executor.Run{
		Env: executor.Environment{Repo: b.repo}, Tests: tests,
		Command: pytestCommand, Format: executor.Pytest, Timeout: 5 * time.Minute,
	})
}
