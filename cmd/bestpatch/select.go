package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

func newSelectCmd() *cobra.Command {
	var (
		taskFile, instance string
		outFile, model     string
		preds              []string
		asJSON             bool
		priorsFile         string
		confidenceFile     string
		rt                 runtimeFlags
		ds                 datasetFlags
		opts               selector.Options
	)
	cmd := &cobra.Command{
		Use:   "select --task TASK.json --preds PREDS.jsonl [PREDS.jsonl...]",
		Short: "Pick the best candidate patch for one task",
		Long: `select runs every distinct candidate (and the base) against the task's original
and generated tests, scores them, and prints the verdict: the ranking with every
signal, the outcome matrix, and the chosen patch.

With --out FILE it also writes the chosen patch as a one-line SWE-bench
predictions file (FILE.jsonl or FILE.json), ready for the harness; when no
candidate is chosen it writes nothing and says so.

Exit status: 0 when a candidate was chosen; 2 when none could be (every patch
empty, test-only or not applying); 3 when the selection abstained because the
runs produced no evidence (no test case parsed on base, or no candidate run
completed: see the Why line); 4 when it abstained because the verdict's
confidence is below --min-confidence ("sample more": the verdict names the
candidate it withheld); 1 on error. --no-exec runs nothing and chooses
by the execution-free signals alone; the verdict says so.`,
		Example: `  # The bundled example, on the local backend (no Docker needed):
  bestpatch select --executor local --task testdata/example/task.json --preds testdata/example/preds/*.jsonl

  # A SWE-bench-style task in a Docker image, JSON output, and the choice as
  # a predictions file for the SWE-bench harness:
  bestpatch select --task task.json --preds run_00.jsonl run_01.jsonl --json --out chosen.jsonl`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			preds = append(preds, args...)
			if outFile != "" {
				if err := selector.CheckPredictionsPath(outFile); err != nil {
					return fmt.Errorf("--out: %w", err)
				}
			}
			if err := rt.checkModelWork(opts); err != nil {
				return err
			}
			tasks, source, err := ds.tasks(taskFile, "--task", false, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if source == "" || len(preds) == 0 {
				return fmt.Errorf("select needs --task FILE (or --dataset FILE) and at least one --preds FILE (see bestpatch select --help)")
			}
			task, err := pickTask(tasks, instance, source)
			if err != nil {
				return err
			}
			byInstance, err := selector.LoadPredictions(preds)
			if err != nil {
				return err
			}
			if err := applyPriors(priorsFile, byInstance); err != nil {
				return err
			}
			if opts.ConfidenceModels, err = loadConfidenceModels(confidenceFile); err != nil {
				return err
			}
			cands := byInstance[task.ID]
			if len(cands) == 0 {
				return fmt.Errorf("no prediction in %s has instance_id %q (the task's); check the files", strings.Join(preds, ", "), task.ID)
			}
			log := rt.logger(cmd.ErrOrStderr())
			sel, closeFn, err := rt.selector(cmd.Context(), log, opts, task)
			if err != nil {
				return err
			}
			defer closeFn()
			rep, err := sel.Select(cmd.Context(), selector.Job{ID: task.ID, Task: task, Candidates: cands, Options: opts})
			if err != nil {
				return err
			}
			chosen := chosenCandidate(rep, cands)
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false) // patches hold < and &
				if err := enc.Encode(selectOutput{Report: rep, Chosen: chosen}); err != nil {
					return err
				}
			} else if err := rep.WriteText(out, patchesByID(cands)); err != nil {
				return err
			}
			if outFile != "" {
				if chosen == nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "no candidate was chosen: nothing written to %s\n", outFile)
				} else {
					pred := selector.Prediction{InstanceID: task.ID, Model: model, Patch: chosen.Patch}
					if err := selector.WritePredictions(outFile, []selector.Prediction{pred}); err != nil {
						return err
					}
					fmt.Fprintf(cmd.ErrOrStderr(), "chosen patch of %s written to %s (model_name_or_path %q)\n", chosen.ID, outFile, model)
				}
			}
			switch {
			case rep.Verdict.SampleMore:
				return exitCode(4)
			case rep.Verdict.Abstained != "":
				return exitCode(3)
			case rep.Verdict.Chosen == "":
				return exitCode(2)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&taskFile, "task", "", "task file (JSON, or JSONL with --instance); see docs/FORMATS.md")
	f.StringSliceVar(&preds, "preds", nil, "SWE-bench predictions files (JSONL, a JSON list, or SWE-agent's preds.json), one per sample; repeatable")
	f.StringVar(&instance, "instance", "", "instance_id to select for, when the task file holds several")
	f.BoolVar(&asJSON, "json", false, "print the full report as JSON, with the chosen candidate's patch and model")
	f.StringVar(&outFile, "out", "", "write the chosen patch as a one-line SWE-bench predictions file: FILE.jsonl or FILE.json (nothing is written when no candidate is chosen)")
	f.StringVar(&model, "model", "bestpatch", "model_name_or_path written with --out")
	registerPriors(f, &priorsFile)
	registerConfidenceModel(f, &confidenceFile, &opts.MinConfidence)
	f.StringVar(&opts.Policy, "policy", "", "selection policy: "+strings.Join(scoring.PolicyNames(), ", ")+", or a JSON policy spec (default auto)")
	f.IntVar(&opts.BaseRuns, "base-runs", 0, "how many times to run the base to find flaky tests (default 2)")
	registerModelWork(f, &opts)
	noExecFlag(f, &opts)
	rt.register(f)
	ds.register(f)
	return cmd
}

func pickTask(tasks []selector.Task, instance, file string) (selector.Task, error) {
	if instance == "" {
		if len(tasks) > 1 {
			return selector.Task{}, fmt.Errorf("%s holds %d tasks: choose one with --instance, or use bestpatch batch", file, len(tasks))
		}
		return tasks[0], nil
	}
	i := slices.IndexFunc(tasks, func(t selector.Task) bool { return t.ID == instance })
	if i < 0 {
		return selector.Task{}, fmt.Errorf("%s has no task with instance_id %q", file, instance)
	}
	return tasks[i], nil
}

// selectOutput is select's JSON: the report, and the chosen candidate with
// its patch (the report names it only by ID).
type selectOutput struct {
	selector.Report
	Chosen *chosen `json:"chosen_candidate,omitempty"`
}

// chosen is the chosen candidate as its predictions file gave it.
type chosen struct {
	ID     string `json:"id"`
	Model  string `json:"model_name_or_path"`
	Sample int    `json:"sample"`
	Patch  string `json:"model_patch"`
}

// chosenCandidate returns the candidate the verdict chose, or nil.
func chosenCandidate(rep selector.Report, cands []scoring.Candidate) *chosen {
	if rep.Verdict.Chosen == "" {
		return nil
	}
	i := slices.IndexFunc(cands, func(c scoring.Candidate) bool { return c.ID == rep.Verdict.Chosen })
	if i < 0 {
		return nil
	}
	c := cands[i]
	return &chosen{ID: c.ID, Model: c.Model, Sample: c.Sample, Patch: c.Patch}
}

func patchesByID(cands []scoring.Candidate) map[string]string {
	m := make(map[string]string, len(cands))
	for _, c := range cands {
		m[c.ID] = c.Patch
	}
	return m
}
