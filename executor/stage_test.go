package executor

import (
	"bytes"
	"github.com/bestpatch/bestpatch/executor/executortest"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNewStage(t *testing.T) {
	run := Run{
		Env:   Environment{Activate: "source venv/bin/activate"},
		Patch: "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b", // traditional, no final newline: staged as git's

		Tests:     []TestPatch{{ID: "first", Patch: "p1\n"}, {ID: "second one", Patch: "p2\n"}},
		TestFiles: []string{"*_test.go", "tests/*"},
		Command:   "go test -json ./...",
		Format:    JUnit,
		Report:    "out/report.xml",
		Timeout:   1500 * time.Millisecond,
	}
	st, err := NewStage(run)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range st.Files {
		files[f.Path] = string(f.Data)
	}
	want := map[string]string{
		"command":          "go test -json ./...\n",
		"candidate.patch":  "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,1 +1,1 @@\n-a\n+b\n",
		"touched":          "F x\n",
		"tests/0000.patch": "p1\n", "tests/0000.id": "first",
		"tests/0001.patch": "p2\n", "tests/0001.id": "second one",
		"activate": "source venv/bin/activate",
	}
	for name, content := range want {
		if files[name] != content {
			t.Errorf("%s = %q, want %q", name, files[name], content)
		}
	}
	if files["run.sh"] != string(runScript) || len(runScript) == 0 {
		t.Errorf("run.sh is not the embedded script")
	}
	if len(files) != len(want)+1 {
		t.Errorf("files %v, want %d", slices.Sorted(maps.Keys(files)), len(want)+1)
	}
	env := strings.Join(st.Env("/bp"), " ")
	if env != "BP_DIR=/bp BP_TIMEOUT=2 BP_REPORT=out/report.xml" {
		t.Errorf("env %q", env)
	}

	base, err := NewStage(Run{Command: "true", Format: Pytest})
	if err != nil {
		t.Fatal(err)
	}
	if len(base.Files) != 2 || base.Timeout != DefaultTimeout || strings.Join(base.Env("/d"), " ") != "BP_DIR=/d BP_TIMEOUT=1800" {
		t.Errorf("base run stage: %d files, timeout %s, env %v; want run.sh and command, the default timeout, no report", len(base.Files), base.Timeout, base.Env("/d"))
	}
}

// A candidate that is refused, or that changes only test files, is settled
// when the stage is made: nothing is staged and no sandbox is needed.
func TestNewStageSettled(t *testing.T) {
	for _, tc := range []struct {
		name, patch string
		status      Status
		reason      string
		restored    []string
	}{
		{"refused", executortest.NewFilePatch(".git/hooks/post-checkout", "x"), ApplyFailed, "refused before it was applied: the patch writes \".git/hooks/post-checkout\", inside a .git directory", nil},
		{"only test files", executortest.Modify("a_test.go") + executortest.Modify("b/tests/c.py"), EmptyPatch, "only test files, which were dropped", []string{"a_test.go", "b/tests/c.py"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := NewStage(Run{Patch: tc.patch, TestFiles: []string{"*_test.go", "*/tests/*"}, Command: "true", Format: Pytest})
			if err != nil {
				t.Fatal(err)
			}
			res, ok := st.Settled()
			if !ok || res.Status != tc.status || !strings.Contains(res.Reason, tc.reason) || !slices.Equal(res.Restored, tc.restored) {
				t.Fatalf("settled %v: %s %q restored %q, want %s saying %q, restored %q", ok, res.Status, res.Reason, res.Restored, tc.status, tc.reason, tc.restored)
			}
			for _, f := range st.Files {
				if f.Path == "candidate.patch" {
					t.Errorf("a settled candidate is staged")
				}
			}
		})
	}
	st, err := NewStage(Run{Patch: executortest.Modify("a.go") + executortest.Modify("a_test.go"), TestFiles: []string{"*_test.go"}, Command: "true", Format: Pytest})
	if _, settled := st.Settled(); err != nil || settled || !slices.Equal(st.Undone, []string{"a_test.go"}) {
		t.Errorf("a fix with a test file: err %v, settled %v, undone %q; want it staged without a_test.go", err, settled, st.Undone)
	}
}

func TestStageWriteDir(t *testing.T) {
	st, err := NewStage(Run{Patch: executortest.Modify("x"), Tests: []TestPatch{{ID: "t", Patch: "p\n"}}, Command: "true", Format: Pytest})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := st.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range st.Files {
		b, err := os.ReadFile(filepath.Join(dir, f.Path))
		if err != nil || string(b) != string(f.Data) {
			t.Errorf("%s: %q %v, want %q", f.Path, b, err, f.Data)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "run.sh")); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("run.sh is not executable: %v %v", fi.Mode(), err)
	}

}

// A stage sent as a script arrives byte for byte, whatever the bytes (NUL,
// backslashes, quotes, no final newline), under every POSIX shell here.
func TestStageScript(t *testing.T) {
	hostile := "a\\b\\0000'c'\x00d\n\\\\n%s$(touch /tmp/bp-pwned)`x`\r\n\xff\xfe end"
	st := Stage{Files: []StagedFile{
		{Path: "run.sh", Mode: 0o755, Data: []byte("#!/bin/sh\necho hi\n")},
		{Path: "tests/0000.patch", Mode: 0o644, Data: []byte(hostile)},
		{Path: "tests/0000.id", Mode: 0o644, Data: []byte("it's")},
		{Path: "empty", Mode: 0o644},
	}}
	for _, sh := range []string{"dash", "bash", "sh"} {
		if _, err := exec.LookPath(sh); err != nil {
			continue
		}
		t.Run(sh, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "it's a dir")
			cmd := exec.Command(sh, "-s")
			cmd.Stdin = bytes.NewReader(st.Script(dir))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s -s: %v\n%s", sh, err, out)
			}
			for _, f := range st.Files {
				b, err := os.ReadFile(filepath.Join(dir, f.Path))
				if err != nil || !bytes.Equal(b, f.Data) {
					t.Errorf("%s: %q %v, want %q", f.Path, b, err, f.Data)
				}
			}
			if fi, err := os.Stat(filepath.Join(dir, "run.sh")); err != nil || fi.Mode().Perm() != 0o755 {
				t.Errorf("run.sh: mode %v %v, want 0755", fi.Mode(), err)
			}
			if _, err := os.Stat("/tmp/bp-pwned"); err == nil {
				t.Error("a file's content was run")
			}
		})
	}
	// A directory it cannot write: an infra marker, not a silent success.
	cmd := exec.Command("sh", "-s")
	cmd.Stdin = bytes.NewReader(st.Script("/proc/bp-cannot"))
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "bestpatch:infra=cannot write the run's inputs in /proc/bp-cannot") {
		t.Errorf("unwritable dir: %v %s", err, out)
	}
}

func TestRunValidate(t *testing.T) {
	good := Run{Command: "go test ./...", Format: GoJSON}
	cases := []struct {
		name string
		edit func(*Run)
		want string // "" means valid
	}{
		{"valid", func(*Run) {}, ""},
		{"empty command", func(r *Run) { r.Command = "\n" }, "command is empty"},
		{"unknown format", func(r *Run) { r.Format = "nose" }, `"nose" is not known: use one of "go-json", "pytest", "junit"`},
		{"no format", func(r *Run) { r.Format = "" }, "no test_format given"},
		{"junit without report", func(r *Run) { r.Format = JUnit }, "needs the report path"},
		{"report with another format", func(r *Run) { r.Report = "r.xml" }, "reads the test output, not a report"},
		{"negative timeout", func(r *Run) { r.Timeout = -time.Second }, "is negative"},
		{"empty test ID", func(r *Run) { r.Tests = []TestPatch{{Patch: "p"}} }, "empty or multi-line ID"},
		{"multi-line test ID", func(r *Run) { r.Tests = []TestPatch{{ID: "a\nb", Patch: "p"}} }, "multi-line"},
		{"duplicate test ID", func(r *Run) { r.Tests = []TestPatch{{ID: "a", Patch: "p"}, {ID: "a", Patch: "q"}} }, "used twice"},
		{"empty test patch", func(r *Run) { r.Tests = []TestPatch{{ID: "a"}} }, "is empty"},
		{"multi-line pattern", func(r *Run) { r.TestFiles = []string{"a\nb"} }, "spans lines"},
		{"test patch too large", func(r *Run) { r.Tests = []TestPatch{{ID: "big", Patch: strings.Repeat("+", MaxPatchBytes+1)}} }, `test patch "big" is 8388609 bytes, over the limit of 8388608 bytes`},
		{"bad env name", func(r *Run) { r.Env.Env = map[string]string{"A=B": "x"} }, "not valid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := good
			tc.edit(&r)
			err := r.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
}
