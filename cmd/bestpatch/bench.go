package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bestpatch/bestpatch/bench"
	"github.com/bestpatch/bestpatch/executor/docker"
	"github.com/bestpatch/bestpatch/internal/runcache"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmarks: generate tasks from real modules, measure accuracy, speed and the daemon",
		Long: `bench makes selection tasks with ground truth from real Go modules (bugs
injected and their tests hidden, pools of graded candidates, noisy generated
tests) and measures bestpatch on them. make bench runs every part; results
are in docs/BENCHMARKS.md.`,
	}
	cmd.AddCommand(newBenchGenCmd(), newBenchAccuracyCmd(), newBenchSpeedCmd(), newBenchDaemonCmd(), newBenchScaleCmd())
	return cmd
}

func newBenchGenCmd() *cobra.Command {
	var (
		cfg     bench.GenConfig
		modules []string
		level   string
	)
	cmd := &cobra.Command{
		Use:   "gen --out DIR",
		Short: "Make selection tasks with ground truth from real Go modules",
		Long: `gen downloads each module from the module proxy, injects bugs with go/ast
(each compiles and makes some but not most tests fail), hides the catching
tests, and writes to --out: tasks.jsonl (task file format), preds/sample-NN.jsonl
(SWE-bench predictions, one file per sample index), labels.jsonl
({"instance_id","model_name_or_path","resolved","kind"}), catalog.jsonl (every
candidate made, graded) and repos/ (one git repository per task). With
--images, a Docker image per task (testdata/images/build.sh go-task).

The same flags and seed make the same set; a set already in --out is reused.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.Out == "" {
				return fmt.Errorf("gen needs --out DIR")
			}
			if len(modules) == 0 {
				cfg.Modules = bench.DefaultModules()
			}
			for _, spec := range modules {
				m, err := bench.ModuleByPath(spec)
				if err != nil {
					return err
				}
				cfg.Modules = append(cfg.Modules, m)
			}
			cfg.Log = (&runtimeFlags{logLevel: level}).logger(cmd.ErrOrStderr())
			sum, err := bench.Generate(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			verb := "made"
			if sum.Reused {
				verb = "reused"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "gen: %s %d tasks in %s (%s)\n", verb, sum.Tasks, filepath.Join(cfg.Out, bench.TasksFile), sum.Duration.Round(1e9))
			for _, mod := range slices.Sorted(maps.Keys(sum.PerModule)) {
				fmt.Fprintf(cmd.OutOrStdout(), "  %-32s %d tasks\n", mod, sum.PerModule[mod])
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Out, "out", "", "output directory")
	f.StringSliceVar(&modules, "module", nil, "module to use, MODULE[@VERSION]; repeatable (default: "+defaultModuleNames()+")")
	f.IntVar(&cfg.Tasks, "tasks", 3, "tasks per module")
	f.IntVar(&cfg.Candidates, "candidates", 16, "candidates per task (one predictions file per sample index)")
	f.Uint64Var(&cfg.Seed, "seed", 1, "random seed: the same seed makes the same tasks")
	f.IntVar(&cfg.Workers, "workers", 0, "test runs at once (default: the number of cores)")
	f.BoolVar(&cfg.Images, "images", false, "also build a Docker image per task (about 3 minutes each on 2 cores)")
	f.StringVar(&cfg.BuildScript, "build-script", "testdata/images/build.sh", "the image build script")
	f.BoolVar(&cfg.Force, "force", false, "make the set again even if --out holds it")
	f.StringVar(&level, "log-level", "info", "log level: debug, info, warn, error")
	return cmd
}

func defaultModuleNames() string {
	s := ""
	for i, m := range bench.DefaultModules() {
		if i > 0 {
			s += ", "
		}
		s += m.Path
	}
	return s
}

func newBenchAccuracyCmd() *cobra.Command {
	var (
		dir, fitConfidence string
		asJSON             bool
		rt                 runtimeFlags
	)
	cmd := &cobra.Command{
		Use:   "accuracy --dir DIR",
		Short: "Selection accuracy of every policy on a generated set, against random, majority vote and oracle",
		Long: `accuracy runs every task of a set made by bench gen through the selector
(on each task's checkout with the local executor; with --executor docker, in
each task's image, made by bench gen --images), scores each outcome matrix with every
policy and each signal alone, and prints their tie-aware accuracy next to
random pick, majority vote and the oracle, per split (dev, test), with the
number of pools. Every candidate runs; then each task is replayed on its
runs under every policy with adaptive execution (docs/SCORING.md): the
table says how many runs and candidates it leaves out and in how many tasks
the choice and the ties are those of every run (the command fails if one
is not).

It fits the confidence of verdicts with test evidence (scope tests) on the
dev pools' verdicts only and prints its Brier score and ECE on both splits;
--fit-confidence FILE writes that model into FILE, keeping a model of
another scope already there. The built-in model is refitted so, on the set
make bench generates:

  bestpatch bench gen --out DIR --tasks 6 --candidates 16 --seed 1
  bestpatch bench accuracy --dir DIR --fit-confidence scoring/confidence_default.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return fmt.Errorf("accuracy needs --dir DIR (made by bestpatch bench gen)")
			}
			if !cmd.Flags().Changed("executor") {
				rt.executor = "local"
			}
			log := rt.logger(cmd.ErrOrStderr())
			tasks, err := selector.LoadTasks(filepath.Join(dir, bench.TasksFile))
			if err != nil {
				return err
			}
			if len(tasks) == 0 {
				return fmt.Errorf("%s holds no task", filepath.Join(dir, bench.TasksFile))
			}
			exec, closeFn, err := rt.newExecutor(cmd.Context(), log, rt.remedy, tasks[0])
			if err != nil {
				return err
			}
			defer closeFn()
			cfg := bench.AccuracyConfig{Dir: dir, Exec: exec, InImages: rt.executor == "docker", Workers: rt.workers, Log: log}
			if !rt.noCache {
				if cfg.Cache, err = runcache.Open(rt.cacheDir); err != nil {
					return err
				}
			}
			res, err := bench.Accuracy(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			err = writeResult(cmd.OutOrStdout(), asJSON, res, bench.WriteAccuracy)
			if err != nil {
				return err
			}
			if fitConfidence != "" {
				if err := writeBenchConfidence(cmd.ErrOrStderr(), fitConfidence, res.Confidence); err != nil {
					return err
				}
			}
			return bench.AdaptiveErr(res.Adaptive)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "a set made by bestpatch bench gen")
	f.StringVar(&fitConfidence, "fit-confidence", "", "write the tests-scope confidence model fitted on the dev pools into this JSON file (models of other scopes in it are kept)")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	rt.register(f)
	return cmd
}

// writeBenchConfidence writes the tests-scope model bench accuracy fitted
// on the dev pools.
func writeBenchConfidence(w io.Writer, path string, fit *bench.ConfidenceFit) error {
	var tests scoring.ConfidenceModels
	var skipped []string
	if fit != nil {
		skipped = fit.Skipped
		for _, m := range fit.Models {
			if m.Scope == scoring.ScopeTests {
				tests = append(tests, m)
			}
		}
	}
	if len(tests) == 0 {
		why := "no dev verdict has test evidence"
		if len(skipped) > 0 {
			why = strings.Join(skipped, "; ")
		}
		return fmt.Errorf("--fit-confidence: no tests-scope model was fitted on the dev pools (%s): generate more tasks (bench gen --tasks)", why)
	}
	kept, err := writeConfidenceModels(path, tests)
	if err != nil {
		return fmt.Errorf("--fit-confidence: %w", err)
	}
	fmt.Fprintf(w, "confidence model (tests) fitted on %d dev verdicts (Brier %.4f, ECE %.4f on %d test verdicts)\n", fit.Dev.Verdicts, fit.Test.Brier, fit.Test.ECE, fit.Test.Verdicts)
	reportConfidenceWritten(w, path, tests, kept)
	return nil
}

func newBenchSpeedCmd() *cobra.Command {
	var (
		cfg           bench.SpeedConfig
		asJSON        bool
		level         string
		workdirVolume bool
		reuse         bool
	)
	cmd := &cobra.Command{
		Use:   "speed --dir DIR",
		Short: "Wall time of one job on the Docker backend against the naive way and the ideal",
		Long: `speed builds one job (16 candidates, 8 distinct, the task's generated tests)
from a set made by bench gen and measures it three ways, one after the other:
through the selector on the Docker backend; the naive way (a fresh container per
candidate and per test artifact, base included, the same parallelism); and bare
on the host (each of the selector's runs, test command only, one at a time),
whose sum over the cores is the ideal. The job and its bare runs are measured
--rounds times, one round after the other, and the medians compared (a job's
time moves by 10-20% between measurements on a shared machine); the naive way
once. The task's image is built first if it is missing
(testdata/images/build.sh go-task).

With --sympy the job is sympy's instead (no --dir): 16 candidates (8 distinct
changes to sympy/ntheory/digits.py) and 6 generated tests on the SWE-bench
stand-in image (testdata/images/build.sh swebench), bin/test running the
changed module's test file; bare runs use the host's /usr/bin/python3 (Debian's
python3-sympy, as in the image).

With --reuse the selector's job runs a second time on a Docker backend whose
containers serve several runs one after another (--docker-reuse; weaker
isolation, docs/DOCKER.md "Reused containers"), printed against the same ideal
with whether it made the same choice.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.Dir == "" && !cfg.Sympy {
				return fmt.Errorf("speed needs --dir DIR (made by bestpatch bench gen), or --sympy")
			}
			cfg.Log = (&runtimeFlags{logLevel: level}).logger(cmd.ErrOrStderr())
			cfg.Timings = &bench.Timings{}
			exec, closeFn, err := newDockerExecutor(cmd.Context(), docker.Config{Log: cfg.Log, Observe: cfg.Timings.Observe, WorkdirVolume: workdirVolume})
			if err != nil {
				return err
			}
			defer closeFn()
			cfg.Exec = exec
			if d, ok := exec.(interface{ StorageDriver() string }); ok {
				cfg.StorageDriver = d.StorageDriver()
			}
			if reuse {
				reused, closeReused, err := newDockerExecutor(cmd.Context(), docker.Config{Log: cfg.Log, Observe: cfg.Timings.Observe, WorkdirVolume: workdirVolume, Reuse: true})
				if err != nil {
					return err
				}
				defer closeReused()
				cfg.ReusedExec = reused
			}
			res, err := bench.Speed(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if err := writeResult(cmd.OutOrStdout(), asJSON, res, bench.WriteSpeed); err != nil {
				return err
			}
			return bench.AdaptiveErr([]bench.AdaptiveRow{res.Adaptive})
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Dir, "dir", "", "a set made by bestpatch bench gen")
	f.StringVar(&cfg.Task, "task", "", "instance_id to build the job from (default: the first that reaches --distinct)")
	f.BoolVar(&cfg.Sympy, "sympy", false, "measure the sympy job on the SWE-bench stand-in image instead of a task of --dir")
	f.IntVar(&cfg.Candidates, "candidates", 16, "candidates in the job")
	f.IntVar(&cfg.Distinct, "distinct", 8, "distinct changes among them")
	f.IntVar(&cfg.Tests, "tests", 6, "generated tests the picked task must have (without --task)")
	f.IntVar(&cfg.Workers, "workers", 0, "parallel runs, the same for both ways (default: the number of cores)")
	f.IntVar(&cfg.Rounds, "rounds", 5, "times the job and its bare runs are measured; the medians are compared")
	f.StringVar(&cfg.BuildScript, "build-script", "testdata/images/build.sh", "builds the task's image when missing (\"\" to skip)")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	f.StringVar(&level, "log-level", "info", "log level: debug, info, warn, error")
	f.BoolVar(&reuse, "reuse", false, "measure the selector's job a second time with containers that serve several runs (--docker-reuse, docker.Config.Reuse: weaker isolation, docs/DOCKER.md)")
	f.BoolVar(&workdirVolume, "workdir-volume", false, "give each container a fresh volume at the run's workdir, copied from the image (docker.Config.WorkdirVolume), to measure the difference")
	return cmd
}

func newBenchDaemonCmd() *cobra.Command {
	var (
		cfg    bench.DaemonConfig
		asJSON bool
		level  string
	)
	cmd := &cobra.Command{
		Use:   "daemon --dir DIR",
		Short: "Latency, throughput and memory of bestpatch serve for jobs that need no execution",
		Long: `daemon starts this binary's serve (embedded NATS server, local executor) and
submits jobs of --candidates candidates from a set made by bench gen, policy
consensus, through the Go client over NATS: execution-free jobs ("execution":
"none"), and, after a warm-up job fills the daemon's result cache, jobs with
the same content (another ID) whose every run the cache answers. It prints
the submit-to-verdict latency (p50, p99) of --latency-jobs jobs of each kind
one at a time, the throughput of the rest of --jobs with --in-flight at a
time, and the daemon process's memory: its peak, and its resident memory
after each tenth of the jobs.

With --nats-url it measures a daemon already running instead (its executor
must reach the set's repositories; --pid names its process for the memory).

Examples:
  bestpatch bench daemon --dir DIR
  bestpatch bench daemon --dir DIR --jobs 2000 --latency-jobs 100 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.Dir == "" {
				return fmt.Errorf("daemon needs --dir DIR (made by bestpatch bench gen)")
			}
			if cfg.URL == "" {
				bin, err := os.Executable()
				if err != nil {
					return fmt.Errorf("find this binary to run its serve: %w", err)
				}
				cfg.Binary = bin
			}
			cfg.Log = (&runtimeFlags{logLevel: level}).logger(cmd.ErrOrStderr())
			res, err := bench.Daemon(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			return writeResult(cmd.OutOrStdout(), asJSON, res, bench.WriteDaemon)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Dir, "dir", "", "a set made by bestpatch bench gen")
	f.IntVar(&cfg.Candidates, "candidates", 40, "candidates per job")
	f.IntVar(&cfg.Jobs, "jobs", 10000, "jobs submitted after the warm-up, in all")
	f.IntVar(&cfg.Latency, "latency-jobs", 200, "jobs of each kind submitted one at a time (latency)")
	f.IntVar(&cfg.InFlight, "in-flight", 32, "jobs in flight during the throughput")
	f.StringVar(&cfg.URL, "nats-url", "", "measure the daemon on this NATS server instead of starting one")
	f.IntVar(&cfg.PID, "pid", 0, "with --nats-url: the daemon's process, whose memory is reported")
	f.StringVar(&cfg.CPUProfile, "cpu-profile", "", "write the daemon's CPU profile to this file (serve --cpu-profile)")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	f.StringVar(&level, "log-level", "info", "log level: debug, info, warn, error")
	return cmd
}

func newBenchScaleCmd() *cobra.Command {
	var (
		cfg    bench.ScaleConfig
		asJSON bool
		level  string
	)
	cmd := &cobra.Command{
		Use:   "scale",
		Short: "Throughput of one, two and three daemons sharing one work queue on a JetStream cluster",
		Long: `scale starts a cluster of --servers embedded NATS servers (clustered
JetStream: every stream and bucket with --servers replicas), then, for each
count in --daemons, that many of this binary's serve (local executor, no
result cache, --workers each), each on its own server, and submits jobs of
--candidates candidates whose every run executes; each run's test command
sleeps --run-time, so that what is measured is how the work queue spreads
the runs over the daemons, not this host's cores. It prints the runs
executed per second, first submit to last verdict, against the ideal
(daemons x workers / run time).

Examples:
  bestpatch bench scale
  bestpatch bench scale --daemons 1,2,3 --jobs-per-daemon 16 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bin, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find this binary to run its serve: %w", err)
			}
			tmp, err := os.MkdirTemp("", "bestpatch-scale-bench-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			cfg.Dir = tmp
			cfg.Start = bench.ServeStarter(bin, tmp)
			cfg.Log = (&runtimeFlags{logLevel: level}).logger(cmd.ErrOrStderr())
			res, err := bench.Scale(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			return writeResult(cmd.OutOrStdout(), asJSON, res, bench.WriteScale)
		},
	}
	f := cmd.Flags()
	f.IntSliceVar(&cfg.Daemons, "daemons", []int{1, 2, 3}, "numbers of daemons to measure, in order")
	f.IntVar(&cfg.Servers, "servers", 3, "servers in the JetStream cluster (and replicas of every stream and bucket)")
	f.IntVar(&cfg.Workers, "workers", 1, "parallel runs per daemon")
	f.DurationVar(&cfg.RunTime, "run-time", 500*time.Millisecond, "how long each run's test command sleeps")
	f.IntVar(&cfg.Candidates, "candidates", 5, "candidates per job (each job runs them all and its base)")
	f.IntVar(&cfg.JobsPerDaemon, "jobs-per-daemon", 8, "jobs submitted at once per daemon, in each measurement")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	f.StringVar(&level, "log-level", "info", "log level: debug, info, warn, error")
	return cmd
}

// writeResult prints a bench result as indented JSON (--json) or as the
// bench's text.
func writeResult[R any](w io.Writer, asJSON bool, res R, text func(io.Writer, R) error) error {
	if !asJSON {
		return text(w, res)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}
