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
		stream             streamFlags
	)
	cmd := &cobra.Command{
		Use:   "select --task TASK.json --preds PREDS.jsonl [PREDS.jsonl...]",
		Short: "Pick the best candidate patch for one task",
		Long: `select runs the distinct candidates (and the base) against the task's original
and generated tests, scores them, and prints the verdict: the ranking with every
signal, the outcome matrix, and the chosen patch. The candidates run in the
order the policy ranks them without execution, and those whose runs can no
longer change the choice or the ties are not run (the Runs line counts them;
docs/SCORING.md, "Adaptive execution"); --execution all runs every one.

With --out FILE it also writes the chosen patch as a one-line SWE-bench
predictions file (FILE.jsonl or FILE.json), ready for the harness; when no
candidate is chosen it writes nothing and says so.

Exit status: 0 when a candidate was chosen; 2 when none could be (every patch
empty, test-only or not applying); 3 when the selection abstained because the
runs produced no evidence (no test case parsed on base, or no candidate run
completed: see the Why line); 4 when it abstained because the verdict's
confidence is below --min-confidence ("sample more": the verdict names the
candidate it withheld); 1 on error. --no-exec runs nothing and chooses
by the execution-free signals alone; the verdict says so.

With --stream, select opens a job that takes its candidates as an agent
samples them: it reads predictions lines (JSONL) from standard input as
they come, starts the base runs at once, and after each batch of lines
(every line that came while the job was busy) runs what the new
candidates need and prints the standing verdict: the current choice, its
confidence, and stop, continue or abstain by the stop rule
(--target-confidence, --max-samples; docs/SCORING.md, "When to stop
sampling"). Work is never done twice: a candidate that runs like one the
job has costs nothing. At the end of the input (with --until-stop, at the
first stop or abstain) the job is closed and its verdict printed as
without --stream; with --json every standing verdict is a JSON line, and
so is the report. When the rule abstains at the end (the budget spent and
no choice good enough, or no calibrated confidence at all), the exit status
is 4, as for --min-confidence, with the choice printed.`,
		Example: `  # The bundled example, on the local backend (no Docker needed):
  bestpatch select --executor local --task testdata/example/task.json --preds testdata/example/preds/*.jsonl

  # A SWE-bench-style task in a Docker image, JSON output, and the choice as
  # a predictions file for the SWE-bench harness:
  bestpatch select --task task.json --preds run_00.jsonl run_01.jsonl --json --out chosen.jsonl

  # Candidates as they are sampled, until the choice is settled:
  my-agent --samples 16 | bestpatch select --task task.json --stream --target-confidence 0.8 --max-samples 16 --until-stop`,
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
			switch {
			case stream.on && len(preds) > 0:
				return fmt.Errorf("--stream reads the predictions from standard input: drop --preds (cat run_*.jsonl | bestpatch select --stream ...)")
			case source == "" || (len(preds) == 0 && !stream.on):
				return fmt.Errorf("select needs --task FILE (or --dataset FILE) and at least one --preds FILE, or --stream (see bestpatch select --help)")
			}
			task, err := pickTask(tasks, instance, source)
			if err != nil {
				return err
			}
			if opts.ConfidenceModels, err = loadConfidenceModels(confidenceFile); err != nil {
				return err
			}
			var cands []scoring.Candidate
			if !stream.on {
				byInstance, err := selector.LoadPredictions(preds)
				if err != nil {
					return err
				}
				if err := applyPriors(priorsFile, byInstance); err != nil {
					return err
				}
				if cands = byInstance[task.ID]; len(cands) == 0 {
					return fmt.Errorf("no prediction in %s has instance_id %q (the task's); check the files", strings.Join(preds, ", "), task.ID)
				}
			}
			log := rt.logger(cmd.ErrOrStderr())
			sel, closeFn, err := rt.selector(cmd.Context(), log, opts, task)
			if err != nil {
				return err
			}
			defer closeFn()
			out := cmd.OutOrStdout()
			var rep selector.Report
			if stream.on {
				priors, err := loadPriors(priorsFile)
				if err != nil {
					return err
				}
				if opts.Stream, err = stream.rule(); err != nil {
					return err
				}
				job := selector.Job{ID: task.ID, Task: task, Options: opts}
				if rep, cands, err = streamSelect(cmd.Context(), out, cmd.InOrStdin(), sel, job, priors, stream.untilStop, asJSON); err != nil {
					return err
				}
			} else if rep, err = sel.Select(cmd.Context(), selector.Job{ID: task.ID, Task: task, Candidates: cands, Options: opts}); err != nil {
				return err
			}
			chosen := chosenCandidate(rep, cands)
			if asJSON {
				enc := json.NewEncoder(out)
				if !stream.on {
					enc.SetIndent("", "  ") // with --stream, JSON lines
				}
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
			case rep.Verdict.SampleMore, rep.Standing != nil && rep.Standing.Recommendation == scoring.RecommendAbstain:
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
	stream.register(f)
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
