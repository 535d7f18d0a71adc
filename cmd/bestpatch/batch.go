package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/batch"
	"github.com/bestpatch/bestpatch/selector/batch/report"
	"github.com/bestpatch/bestpatch/selector/client"
)

func newBatchCmd() *cobra.Command {
	var (
		tasksFile, out, reportDir, model string
		priorsFile, confidenceFile       string
		fitConfidence                    string
		natsURL, natsCreds               string
		preds, labelSources              []string
		parallel                         int
		rt                               runtimeFlags
		ds                               datasetFlags
		opts                             selector.Options
	)
	cmd := &cobra.Command{
		Use:   "batch --tasks TASKS.jsonl --preds RUN.jsonl [RUN.jsonl...] --out SELECTED.jsonl",
		Short: "Select over a whole benchmark: SWE-bench predictions in, selected predictions and a report out",
		Long: `batch runs one selection job per instance of the tasks file, with the
candidates of every predictions file (one file per sample/run), and writes the
chosen patches as a SWE-bench predictions file, ready for the SWE-bench harness.

It is resumable: interrupt it and run the same command again. Finished
instances are read back from the journal next to --out (SELECTED.journal.jsonl)
and finished runs from the result cache (--cache-dir), so neither is redone.
One instance's failure (no task, no predictions, a broken task, a missing
repository or image) is reported and does not stop the others.

With --labels (SWE-bench harness results), it prints the tie-aware accuracy of
the choices next to random pick, majority vote, every policy, each signal
alone and the oracle, overall and per repository; every candidate then runs
(--execution all) unless --execution says otherwise, so that every policy
ranks every run. Without labels, candidates whose runs cannot change the
choice are not run (--execution adaptive, docs/SCORING.md). --report DIR writes an HTML
report (it needs no network to view) and the same data as report.json.

Exit status: 0 when every instance finished, 2 when some failed, 1 on error
or interruption.`,
		Example: `  # The bundled example, on the local backend:
  bestpatch batch --executor local --tasks testdata/example/task.json \
      --preds testdata/example/preds/*.jsonl --out selected.jsonl --report report/

  # A benchmark in Docker images, with labels:
  bestpatch batch --tasks tasks.jsonl --preds run_00.jsonl run_01.jsonl run_02.jsonl \
      --out selected.jsonl --labels labels.jsonl --report report/`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			preds = append(preds, args...)
			if (tasksFile == "" && ds.file == "") || len(preds) == 0 || out == "" {
				return fmt.Errorf("batch needs --tasks FILE (or --dataset FILE), at least one --preds FILE and --out FILE (see bestpatch batch --help)")
			}
			if err := selector.CheckPredictionsPath(out); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			// On daemons the model endpoint is theirs: one without answers 400.
			if natsURL == "" {
				if err := rt.checkModelWork(opts); err != nil {
					return err
				}
			}
			tasks, source, err := ds.tasks(tasksFile, "--tasks", true, cmd.ErrOrStderr())
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
			if fitConfidence != "" && len(labelSources) == 0 {
				return fmt.Errorf("--fit-confidence needs --labels: the models are fitted on labelled verdicts")
			}
			var labels *batch.Labels
			if len(labelSources) > 0 {
				if labels, err = batch.LoadLabels(batch.Runs{Files: preds, Candidates: byInstance}, labelSources...); err != nil {
					return err
				}
				// The summary ranks every policy on each instance's runs:
				// with labels, every candidate runs unless asked otherwise.
				if !cmd.Flags().Changed("execution") && !cmd.Flags().Changed("no-exec") {
					opts.Execution = selector.ExecutionAll
				}
			}
			if _, err := scoring.ParsePolicy(policyName(opts)); err != nil {
				return fmt.Errorf("--policy: %w (built-in policies: %s)", err, strings.Join(scoring.PolicyNames(), ", "))
			}

			display, logTo := progressDisplay(cmd.ErrOrStderr())
			log := rt.logger(logTo)
			// observe is where the selector delivers its progress events.
			var (
				sel     batch.Selector
				observe *func(selector.Event)
			)
			if natsURL != "" {
				d, closeFn, err := connectDaemon(natsURL, natsCreds)
				if err != nil {
					return err
				}
				defer closeFn()
				sel, observe = d, &d.onEvent
				if parallel <= 0 {
					parallel = daemonParallel
				}
			} else {
				s, closeFn, err := rt.selector(cmd.Context(), log, opts, tasks...)
				if err != nil {
					return err
				}
				defer closeFn()
				sel, observe = s, &s.OnEvent
				if parallel <= 0 {
					parallel = s.Pool.Size()
				}
			}
			runner, err := batch.New(batch.Config{
				Tasks: tasks, Predictions: byInstance, Options: opts, Selector: sel,
				Parallel: parallel, Journal: batch.JournalPath(out), Display: display, Log: log,
			})
			if err != nil {
				return err
			}
			*observe = runner.Observe
			res, runErr := runner.Run(cmd.Context())
			if res == nil {
				return runErr
			}
			return finishBatch(cmd.OutOrStdout(), res, runErr, batchOutputs{
				out: out, model: model, labels: labels, reportDir: reportDir, fitConfidence: fitConfidence,
				policy: policyName(opts), title: "bestpatch batch: " + filepath.Base(source),
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&tasksFile, "tasks", "", "task file: JSONL with one task per instance (or one JSON task); see docs/FORMATS.md")
	f.StringSliceVar(&preds, "preds", nil, "SWE-bench predictions files (JSONL, a JSON list, or SWE-agent's preds.json), one per sample/run; repeatable")
	f.StringVar(&out, "out", "", "where to write the selected predictions for the SWE-bench harness: FILE.jsonl (JSONL) or FILE.json (a JSON list)")
	f.StringVar(&model, "model", "bestpatch", "model_name_or_path written in the selected predictions")
	registerPriors(f, &priorsFile)
	registerConfidenceModel(f, &confidenceFile, &opts.MinConfidence)
	f.StringVar(&fitConfidence, "fit-confidence", "", "with --labels: fit confidence models on this batch's labelled verdicts (one per scope) and write them into this JSON file (models of other scopes in it are kept), for --confidence-model")
	f.StringSliceVar(&labelSources, "labels", nil, "labels (docs/BATCH.md): JSONL label lines, the SWE-bench harness's run report (<model>.<run_id>.json), its report.json files or their directory (logs/run_evaluation/<run_id>); PREDS=REPORT ties a harness report to the predictions file it graded; repeatable")
	f.StringVar(&reportDir, "report", "", "write an HTML report (index.html) and report.json into this directory")
	f.IntVar(&parallel, "parallel", 0, fmt.Sprintf("instances in flight at once (default: the number of workers; %d with --nats-url); the workers bound the runs", daemonParallel))
	f.StringVar(&natsURL, "nats-url", "", "run the jobs on the bestpatch daemons of this NATS server (see bestpatch serve) instead of in this process; the executor and cache flags are then the daemons'")
	f.StringVar(&natsCreds, "nats-creds", "", "NATS credentials file (JWT and NKey seed), with --nats-url")
	f.StringVar(&opts.Policy, "policy", "", "selection policy: "+strings.Join(scoring.PolicyNames(), ", ")+", or a JSON policy spec (default auto)")
	f.IntVar(&opts.BaseRuns, "base-runs", 0, "how many times to run each base to find flaky tests (default 2)")
	registerModelWork(f, &opts)
	noExecFlag(f, &opts)
	rt.register(f)
	ds.register(f)
	return cmd
}

// daemonParallel is the default number of instances in flight on daemons:
// enough to keep a few daemons' workers busy while jobs wait on base runs.
const daemonParallel = 16

// daemonSelector runs each job on bestpatch daemons through the Go client;
// a resumed batch resubmits the same job ID and the daemon answers from the
// job it already has.
type daemonSelector struct {
	c       *client.Client
	onEvent func(selector.Event)
}

func (d *daemonSelector) Select(ctx context.Context, job selector.Job) (selector.Report, error) {
	return d.c.Run(ctx, job, d.onEvent)
}

func connectDaemon(url, creds string) (*daemonSelector, func(), error) {
	opts := []nats.Option{nats.Name("bestpatch batch"), nats.MaxReconnects(-1)}
	if creds != "" {
		opts = append(opts, nats.UserCredentials(creds))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to NATS at %s: %w (check --nats-url and --nats-creds)", url, err)
	}
	c, err := client.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return &daemonSelector{c: c}, nc.Close, nil
}

func policyName(o selector.Options) string {
	if o.Policy == "" {
		return scoring.PolicyAuto
	}
	return o.Policy
}

// progressDisplay picks a progress bar for a terminal and plain lines
// otherwise; the logger writes through the bar so as not to break it.
func progressDisplay(w io.Writer) (batch.Display, io.Writer) {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar := batch.NewBar(w)
		return bar, bar
	}
	return batch.Lines{W: w}, w
}

type batchOutputs struct {
	out, model, reportDir, policy, title string
	fitConfidence                        string
	labels                               *batch.Labels
}

// finishBatch writes what a batch produced, finished or interrupted, and
// turns its outcome into the exit status.
func finishBatch(w io.Writer, res *batch.Result, runErr error, o batchOutputs) error {
	preds := res.Predictions(o.model)
	if err := selector.WritePredictions(o.out, preds); err != nil {
		return err
	}
	var sum *batch.Summary
	if o.labels != nil {
		var err error
		if sum, err = batch.Summarize(res, o.labels, o.policy); err != nil {
			return err
		}
		if err := sum.WriteText(w); err != nil {
			return err
		}
		fmt.Fprintln(w)
		if o.fitConfidence != "" {
			if err := writeFittedConfidence(w, o.fitConfidence, sum, "policy "+o.policy+" on the labelled instances of "+o.title); err != nil {
				return err
			}
		}
	}
	if o.reportDir != "" {
		var resolver report.Resolver
		if o.labels != nil {
			resolver = o.labels
		}
		if err := report.Write(o.reportDir, report.Build(o.title, o.policy, res, sum, resolver)); err != nil {
			return err
		}
	}
	failed := res.Count(batch.Failed)
	for _, in := range res.Instances {
		if in.Status == batch.Failed {
			fmt.Fprintf(w, "FAILED %s: %s\n", in.ID, in.Error)
		}
	}
	fmt.Fprintf(w, "%d instances: %d selected, %d none chosen, %d failed", len(res.Instances), res.Count(batch.Selected), res.Count(batch.NoneChosen), failed)
	if n := res.Count(batch.NotRun); n > 0 {
		fmt.Fprintf(w, ", %d not run", n)
	}
	if n, instances := res.NotRunCandidates(); n > 0 {
		fmt.Fprintf(w, "; %d candidates of %d instances not run: they could not change the choice", n, instances)
	}
	fmt.Fprintf(w, "; %d predictions written to %s\n", len(preds), o.out)
	if o.reportDir != "" {
		fmt.Fprintf(w, "report: %s\n", filepath.Join(o.reportDir, report.HTMLFile))
	}
	if runErr != nil {
		return fmt.Errorf("interrupted with %d of %d instances not run (%w): run the same command again to resume; finished instances are kept in %s and finished runs in the result cache",
			res.Count(batch.NotRun), len(res.Instances), runErr, batch.JournalPath(o.out))
	}
	if failed > 0 {
		return exitCode(2)
	}
	return nil
}
