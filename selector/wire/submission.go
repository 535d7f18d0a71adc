package wire

import (
	"encoding/json"
	"fmt"

	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/swebench"
)

// Submission is what SubmitSubject takes: a selector.Job, whose task may be
// given as a SWE-bench dataset row instead ("swebench" in place of "task").
type Submission struct {
	selector.Job
	SWEBench *SWEBenchTask `json:"swebench,omitempty"`
}

// SWEBenchTask is a task given as a SWE-bench dataset row, derived as
// `bestpatch tasks --dataset` derives it.
type SWEBenchTask struct {
	// Row is one dataset row in the public schema (instance_id, repo,
	// version, problem_statement, PASS_TO_PASS, ...); other columns are
	// ignored, and test_patch, patch and FAIL_TO_PASS are never read.
	Row json.RawMessage `json:"row"`
	// Namespace, Arch and Tag name the instance image; empty takes the
	// harness's defaults (swebench, x86_64, latest). Namespace "none" names
	// the images the harness builds locally.
	Namespace string `json:"namespace,omitempty"`
	Arch      string `json:"arch,omitempty"`
	Tag       string `json:"tag,omitempty"`
	// RegressionTests is related (default), p2p or all.
	RegressionTests string `json:"regression_tests,omitempty"`
}

// Resolve returns the submitted job, with its task derived from the row
// when one is given. Its errors wrap selector.ErrInvalidJob.
func (s Submission) Resolve() (selector.Job, error) {
	if s.SWEBench == nil {
		return s.Job, nil
	}
	if s.Job.Task.ID != "" || s.Job.Task.TestCommand != "" || s.Job.Task.Env.Image != "" || s.Job.Task.Env.Repo != "" {
		return selector.Job{}, fmt.Errorf("%w: the job gives both \"task\" and \"swebench\": give one", selector.ErrInvalidJob)
	}
	sw := s.SWEBench
	var row swebench.Row
	if err := json.Unmarshal(sw.Row, &row); err != nil {
		return selector.Job{}, fmt.Errorf("%w: swebench.row: not a SWE-bench dataset row: %w", selector.ErrInvalidJob, err)
	}
	mode, err := swebench.ParseMode(sw.RegressionTests)
	if err != nil {
		return selector.Job{}, fmt.Errorf("%w: swebench.%w", selector.ErrInvalidJob, err)
	}
	im := swebench.DefaultImages
	if sw.Namespace != "" {
		im.Namespace = sw.Namespace
	}
	if sw.Arch != "" {
		im.Arch = sw.Arch
	}
	if sw.Tag != "" {
		im.Tag = sw.Tag
	}
	task, err := swebench.Options{Images: im, Mode: mode}.Task(row)
	if err != nil {
		return selector.Job{}, fmt.Errorf("%w: swebench: %w", selector.ErrInvalidJob, err)
	}
	job := s.Job
	job.Task = task
	return job, nil
}
