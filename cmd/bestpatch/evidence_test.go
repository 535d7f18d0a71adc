package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/bench/testsubject"
	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

// noShellImage is an image holding nothing but an empty /testbed: no shell,
// so the run script cannot start in it. The test makes it on first use.
const noShellImage = "bestpatch/evidence-noshell:test"

// missingImage is an image that no test makes.
const missingImage = "bestpatch/evidence-no-such-image:none"

// needDocker skips the test when no Docker engine answers.
func needDocker(t *testing.T) {
	t.Helper()
	if out, err := exec.CommandContext(t.Context(), "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Skipf("no Docker engine answers (%v: %s): the Docker probes cannot run", err, out)
	}
}

// makeNoShellImage imports noShellImage (docker import of a tar holding
// only /testbed) unless it is there already.
func makeNoShellImage(t *testing.T) {
	t.Helper()
	if exec.CommandContext(t.Context(), "docker", "image", "inspect", noShellImage).Run() == nil {
		return
	}
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(&tar.Header{Name: "testbed/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	cmd := exec.CommandContext(t.Context(), "docker", "import", "--message", "bestpatch evidence test: no shell", "-", noShellImage)
	cmd.Stdin = &b
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker import %s: %v\n%s", noShellImage, err, out)
	}
}

// tinyFiles writes a task on the tiny subject and predictions of the given
// candidates into dir, one file (sample) per candidate, the candidate's ID
// as model: candidate i is "i/ID". edit adjusts the task. preds is the
// comma-separated list of the files.
func tinyFiles(t *testing.T, dir string, ids []string, edit func(*selector.Task)) (task, preds string) {
	t.Helper()
	s, err := testsubject.Tiny(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tk := selector.Task{ID: "tiny__answer-1", Env: executor.Environment{Repo: s.Repo},
		TestCommand: s.Command, Format: executor.GoJSON, Timeout: selector.Duration(2 * time.Minute)}
	if edit != nil {
		edit(&tk)
	}
	task = writeTasks(t, dir, tk)
	var files []string
	for i, id := range ids {
		for _, c := range s.Candidates {
			if c.ID != id {
				continue
			}
			line, _ := json.Marshal(map[string]string{"instance_id": tk.ID, "model_name_or_path": id, "model_patch": c.Patch})
			p := filepath.Join(dir, fmt.Sprintf("preds_%02d.jsonl", i))
			if err := os.WriteFile(p, append(line, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, p)
		}
	}
	return task, strings.Join(files, ",")
}

// TestSelectAbstainsWithoutEvidence: each way a job can end without test
// evidence makes select abstain (exit 3, the reason in the report) instead
// of printing a choice and exiting 0, as it did before.
func TestSelectAbstainsWithoutEvidence(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test and containers")
	}
	for _, tc := range []struct {
		name   string
		docker bool
		ids    []string
		edit   func(*selector.Task)
		want   string // in the report's reason
	}{
		{
			name: "an image that does not exist", docker: true, ids: []string{"fix", "wrong"},
			edit: func(tk *selector.Task) { tk.Env = executor.Environment{Image: missingImage} },
			want: "image " + missingImage + " is not on the Docker engine",
		},
		{
			name: "an image in which the run script cannot start", docker: true, ids: []string{"fix", "wrong"},
			edit: func(tk *selector.Task) { tk.Env = executor.Environment{Image: noShellImage} },
			want: "the base run ended unknown",
		},
		{
			name: "output no parser understands", ids: []string{"fix", "wrong"},
			edit: func(tk *selector.Task) { tk.TestCommand = "echo all tests passed, trust me" },
			want: "no test results in the output",
		},
		{
			name: "every candidate run timed out", ids: []string{"hang", "hang-long"},
			edit: func(tk *selector.Task) { tk.Timeout = selector.Duration(15 * time.Second) },
			want: "no candidate's run completed (timeout or infrastructure failure: 0/hang: the test command ran past the run's timeout",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			executorName := "local"
			if tc.docker {
				needDocker(t)
				makeNoShellImage(t)
				executorName = "docker"
			}
			dir := t.TempDir()
			task, preds := tinyFiles(t, dir, tc.ids, tc.edit)
			out, _, err := run(t, "select", "--executor", executorName, "--no-cache", "--json", "--task", task, "--preds", preds)
			var ec exitCode
			if !errors.As(err, &ec) || ec != 3 {
				t.Fatalf("err = %v, want exit status 3 (abstained)\n%s", err, out)
			}
			var rep selector.Report
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("--json output is not a report: %v\n%s", err, out)
			}
			v := rep.Verdict
			if v.Chosen != "" || !strings.Contains(v.Abstained, tc.want) || v.Basis.Execution != scoring.EvidenceNone {
				t.Errorf("chosen %q, abstained %q, basis %+v: want nothing chosen, abstained because %q", v.Chosen, v.Abstained, v.Basis, tc.want)
			}
			// The text form says it abstained, and why.
			text, _, _ := run(t, "select", "--executor", executorName, "--no-cache", "--task", task, "--preds", preds)
			if !strings.Contains(text, "Abstained: no candidate chosen without evidence") || !strings.Contains(text, "Why:    abstained: ") || strings.Contains(text, "Chosen: ") {
				t.Errorf("text report:\n%s", text)
			}
		})
	}
}

// TestSelectExecutionFree: --no-exec runs nothing, even on a task whose
// image does not exist, and chooses by the execution-free signals; the
// verdict says it rests on no execution.
func TestSelectExecutionFree(t *testing.T) {
	dir := t.TempDir()
	task, preds := tinyFiles(t, dir, []string{"fix", "wrong"}, func(tk *selector.Task) { tk.Env = executor.Environment{Image: missingImage} })
	out, _, err := run(t, "select", "--executor", "docker", "--no-exec", "--no-cache", "--json", "--task", task, "--preds", preds)
	if err != nil {
		t.Fatalf("err = %v\n%s", err, out)
	}
	var rep selector.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output is not a report: %v\n%s", err, out)
	}
	if rep.Verdict.Chosen == "" || rep.Verdict.Basis.Execution != scoring.EvidenceExecutionFree || len(rep.Runs) != 0 {
		t.Fatalf("chosen %q, basis %+v, %d runs: want a choice resting on no execution, nothing run", rep.Verdict.Chosen, rep.Verdict.Basis, len(rep.Runs))
	}
	text, _, err := run(t, "select", "--no-exec", "--task", task, "--preds", preds)
	if err != nil || !strings.Contains(text, "Basis:  no execution (execution-free, as asked)") {
		t.Errorf("err %v, text report:\n%s", err, text)
	}
}

// TestSelectSampleMore: --min-confidence above the verdict's confidence
// makes select exit 4, name the withheld candidate, and write no choice.
func TestSelectSampleMore(t *testing.T) {
	dir := t.TempDir()
	task, preds := tinyFiles(t, dir, []string{"fix", "wrong"}, func(tk *selector.Task) { tk.Env = executor.Environment{Image: missingImage} })
	chosen := filepath.Join(dir, "chosen.jsonl")
	out, stderr, err := run(t, "select", "--no-exec", "--json", "--min-confidence", "1", "--out", chosen, "--task", task, "--preds", preds)
	var ec exitCode
	if !errors.As(err, &ec) || ec != 4 {
		t.Fatalf("err = %v, want exit status 4\n%s", err, out)
	}
	var rep selector.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output is not a report: %v\n%s", err, out)
	}
	if v := rep.Verdict; !v.SampleMore || v.Withheld == "" || v.Chosen != "" {
		t.Errorf("verdict %+v: want sample more with a withheld candidate", v)
	}
	if _, err := os.Stat(chosen); !errors.Is(err, os.ErrNotExist) || !strings.Contains(stderr, "nothing written") {
		t.Errorf("--out written (%v) or stderr silent:\n%s", err, stderr)
	}
	if _, _, err := run(t, "select", "--no-exec", "--min-confidence", "0.0001", "--task", task, "--preds", preds); err != nil {
		t.Errorf("a reachable minimum: %v", err)
	}
}
