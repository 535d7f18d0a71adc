package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/docker"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

// SpeedConfig configures Speed.
type SpeedConfig struct {
	// Dir holds a generated set; its catalog supplies the job.
	Dir string
	// Task is the instance to build the job from; empty picks the first
	// task with Tests generated tests whose candidates reach Distinct
	// distinct changes.
	Task string
	// Candidates and Distinct shape the job (16 and 8 when zero); Tests is
	// the number of generated tests the task must have to be picked (6
	// when zero).
	Candidates, Distinct, Tests int
	// Exec runs the selector's and the naive way's runs (the Docker
	// backend); Workers is the parallelism of both (0: the number of cores).
	Exec    selector.Executor
	Workers int
	// ReusedExec, if set, runs the selector's job a second time, on a
	// backend whose containers serve several runs (docker.Config.Reuse):
	// SpeedResult.Reused. Exec must make a fresh container per run.
	ReusedExec selector.Executor
	// Timings, if set, is the Docker backend's Observe: the selector's
	// runs are broken down by step (SpeedResult.Steps).
	Timings *Timings
	// BuildScript builds the task's image when it is missing
	// (testdata/images/build.sh); empty assumes the image exists.
	BuildScript string
	Log         *slog.Logger
	// Rounds is how many times the job is measured through the selector
	// (and with reused containers) and its runs bare, one after the other;
	// the medians are reported (0: one). On a shared 2-core machine one
	// job's time moves by 10-20% between measurements.
	Rounds int
	// Sympy measures the sympy job (SympyJob, on SympyImage, built by
	// BuildScript's swebench target when missing) instead of a task of Dir.
	Sympy bool
	// StorageDriver is the engine's storage driver, printed with the
	// figures: it moves every one of a run in a container (docs/DOCKER.md,
	// "The engine's storage driver").
	StorageDriver string
}

// SpeedResult is one measurement: the same job three ways.
type SpeedResult struct {
	Task       string `json:"instance_id"`
	Image      string `json:"image"`
	Candidates int    `json:"candidates"`
	Distinct   int    `json:"distinct"`
	Tests      int    `json:"generated_tests"`
	Workers    int    `json:"workers"`
	// StorageDriver is SpeedConfig.StorageDriver.
	StorageDriver string `json:"storage_driver,omitempty"`
	// Rounds is how many times the job and its bare runs were measured
	// (SpeedConfig.Rounds).
	Rounds int `json:"rounds"`
	// Selector is the median wall time of the job through the selector (no
	// cache), SelectorRange the shortest and the longest, SelectorRuns the
	// containers of the median round. Every figure of the selector's below
	// is that round's, but Steps, which are over every round's runs.
	Selector      time.Duration    `json:"selector"`
	SelectorRange [2]time.Duration `json:"selector_range"`
	SelectorRuns  int              `json:"selector_runs"`
	// ChoiceVaried: a round chose another candidate, or other ties, than
	// the first (flaky tests).
	ChoiceVaried bool `json:"choice_varied,omitempty"`
	// AheadDropped counts the runs the selector made ahead on an idle slot
	// and dropped (selector.Report.AheadDropped): not in SelectorRuns.
	AheadDropped int `json:"ahead_dropped,omitempty"`
	// Reused is the same job on a backend that reuses containers, when
	// measured (SpeedConfig.ReusedExec).
	Reused *ReusedSpeed `json:"reused,omitempty"`
	// RunSum is the sum of the selector's run durations (container
	// lifetime as the executor measures it).
	RunSum time.Duration `json:"run_sum"`
	// Naive is the wall time of a fresh container per (candidate or base,
	// test artifact) pair, with the same parallelism.
	Naive     time.Duration `json:"naive"`
	NaiveRuns int           `json:"naive_runs"`
	// SelectorOutOfMemory names the selector's runs killed at their memory
	// limit: finished runs, whose candidates' rows are infra.
	SelectorOutOfMemory []string `json:"selector_out_of_memory,omitempty"`
	// NaiveOutOfMemory names the naive runs killed at their memory limit
	// (counted as finished, failed runs), each with how the selector's run
	// of the same candidate ended.
	NaiveOutOfMemory []string `json:"naive_out_of_memory,omitempty"`
	// BareSum is the sum of the bare test-command times of the selector's
	// runs on the host (the median of the rounds', BareRange the least and
	// the most); Ideal is BareSum over the cores.
	BareSum   time.Duration    `json:"bare_sum"`
	BareRange [2]time.Duration `json:"bare_range"`
	// BareParallel is the wall time of the same bare runs done Workers at
	// a time (a clone each), BareParallelSum the sum of their test-command
	// times then: the job with no sandbox at all, at the selector's
	// parallelism (each bare run alone has every core; a container has
	// limits.cpus).
	BareParallel    time.Duration `json:"bare_parallel"`
	BareParallelSum time.Duration `json:"bare_parallel_sum"`
	Cores           int           `json:"cores"`
	Ideal           time.Duration `json:"ideal"`
	// Steps is the mean of each step of the selector's runs, when the
	// backend reported them.
	Steps *Steps `json:"steps,omitempty"`
	// Adaptive is the job replayed on the selector's runs with adaptive
	// execution (policy auto, Workers at a time): the selector above runs
	// every candidate, so that the ratios compare the same runs.
	Adaptive AdaptiveRow `json:"adaptive"`
}

// ReusedSpeed is the selector's job measured again with containers that
// serve several runs (docker.Config.Reuse).
type ReusedSpeed struct {
	// Selector is the job's median wall time, Range the shortest and the
	// longest; Runs are the median round's runs and RunSum their sum.
	Selector     time.Duration    `json:"selector"`
	Range        [2]time.Duration `json:"range"`
	Runs         int              `json:"runs"`
	AheadDropped int              `json:"ahead_dropped,omitempty"`
	RunSum       time.Duration    `json:"run_sum"`
	// SameChoice: every round chose the same candidate, with the same
	// ties, as the job with a fresh container per run.
	SameChoice bool   `json:"same_choice"`
	Steps      *Steps `json:"steps,omitempty"`
}

// speedOrder is the order candidates join a speed job: distinct changes
// first, then kinds that add no run (twins, no-ops, the empty patch).
var speedOrder = []string{
	KindExact, KindWrong + "-1", KindWrong + "-2", KindWrong + "-3",
	KindRegression + "-1", KindRegression + "-2", KindPartial + "-1", KindPartial + "-2",
	KindTampering, KindNoApply,
	KindTwinFormat, KindTwinComment, KindNoop, KindEmpty,
}

// SpeedJob builds a job of n candidates with exactly distinct distinct
// changes from a catalog task, or says why it cannot.
func SpeedJob(task selector.Task, c CatalogTask, n, distinct int) (selector.Job, error) {
	job := selector.Job{ID: "speed-" + task.ID, Task: task}
	add := func(e Entry) {
		job.Candidates = append(job.Candidates, scoring.Candidate{
			ID: fmt.Sprintf("c%02d", len(job.Candidates)+1), Patch: e.Patch, Model: e.Name, Sample: len(job.Candidates),
		})
	}
	count := func() (int, error) {
		if len(job.Candidates) == 0 {
			return 0, nil
		}
		p, err := selector.NewPlan(job)
		if err != nil {
			return 0, err
		}
		return p.Distinct(), nil
	}
	var chosen []Entry
	for _, name := range speedOrder {
		e, ok := c.Entry(name)
		if !ok || len(job.Candidates) == n {
			continue
		}
		before, err := count()
		if err != nil {
			return job, err
		}
		add(e)
		after, err := count()
		if err != nil {
			return job, err
		}
		if after > distinct {
			job.Candidates = job.Candidates[:len(job.Candidates)-1]
			continue
		}
		if after > before {
			chosen = append(chosen, e)
		}
	}
	if d, _ := count(); d != distinct {
		return job, fmt.Errorf("task %s: its candidates make %d distinct changes, want %d", task.ID, d, distinct)
	}
	for i := 0; len(job.Candidates) < n; i++ {
		add(chosen[i%len(chosen)]) // repeats: samples that agree
	}
	return job, nil
}

// Speed measures one job of Candidates candidates (Distinct distinct) with
// the task's generated tests three ways, in one process and one after the
// other: through the selector, the naive way, and bare on the host.
func Speed(ctx context.Context, cfg SpeedConfig) (SpeedResult, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Candidates == 0 {
		cfg.Candidates = 16
	}
	if cfg.Distinct == 0 {
		cfg.Distinct = 8
	}
	if cfg.Tests == 0 {
		cfg.Tests = 6
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	job, repo, bareEnv, cleanup, err := speedJob(ctx, cfg)
	defer cleanup()
	if err != nil {
		return SpeedResult{}, err
	}
	task := job.Task
	res := SpeedResult{Task: task.ID, Image: task.Env.Image, Candidates: len(job.Candidates), Tests: len(task.GeneratedTests), Workers: cfg.Workers, Cores: runtime.NumCPU(), StorageDriver: cfg.StorageDriver}

	naive, err := NaiveRuns(task, job.Candidates)
	if err != nil {
		return res, err
	}
	// Warm up: the image's layers and the engine, outside every clock, with
	// the naive way's first run (the base and the original tests); the
	// containers it leads the backend to make ahead are made before the
	// clock starts.
	if _, err := cfg.Exec.Run(ctx, naive[0]); err != nil {
		return res, err
	}
	settle(cfg.Exec)

	// Rounds: each measures the job through the selector, then again with
	// reused containers, then its runs bare, one after the other, so that
	// the medians compare times taken under the same conditions.
	var fresh, reused []speedRound
	var bare []time.Duration
	var runs []executor.Run
	for i := range max(cfg.Rounds, 1) {
		cfg.Log.Info("speed: the selector", "task", task.ID, "round", i+1)
		f, err := selectorRound(ctx, cfg, cfg.Exec, job)
		if err != nil {
			return res, err
		}
		fresh = append(fresh, f)
		if i == 0 {
			// The selector's runs again, for the bare ones: known before
			// the naive way's minutes, so that a run that cannot be
			// rebuilt stops at once.
			if runs, err = selectorRuns(job, f.rep); err != nil {
				return res, err
			}
		}
		if cfg.ReusedExec != nil {
			cfg.Log.Info("speed: the selector, containers reused", "task", task.ID, "round", i+1)
			if i == 0 {
				// The same warm-up as the first backend's.
				if _, err := cfg.ReusedExec.Run(ctx, naive[0]); err != nil {
					return res, err
				}
			}
			// The first backend's removals done, so that they are not on
			// this job's clock.
			settle(cfg.Exec)
			settle(cfg.ReusedExec)
			u, err := selectorRound(ctx, cfg, cfg.ReusedExec, job)
			if err != nil {
				return res, err
			}
			reused = append(reused, u)
		}
		settle(cfg.Exec)
		settle(cfg.ReusedExec)
		cfg.Log.Info("speed: bare on the host", "runs", len(runs), "round", i+1)
		sum, _, err := bareTimes(ctx, repo, bareEnv, runs, 1)
		if err != nil {
			return res, err
		}
		bare = append(bare, sum)
	}
	res.Rounds = len(fresh)
	f := fresh[medianRound(fresh)]
	rep := f.rep
	var tally adaptiveTally
	if err := tally.add(job, rep.Results, []int{cfg.Workers}); err != nil {
		return res, err
	}
	for _, r := range tally.result() {
		if r.Policy == scoring.PolicyAuto {
			res.Adaptive = r
		}
	}
	res.Steps = allSteps(fresh)
	res.Selector, res.SelectorRuns, res.Distinct, res.AheadDropped = rep.Duration, len(rep.Runs), rep.Distinct, rep.AheadDropped
	res.SelectorRange = spread(fresh)
	res.ChoiceVaried = !sameChoices(fresh, fresh[0].rep)
	if err := infraFailed(fresh, ""); err != nil {
		return res, err
	}
	for _, r := range rep.Runs {
		res.RunSum += r.Duration
		if rep.Results[r.ID].OutOfMemory() {
			// As in the naive way: a finished run, the candidate's row infra.
			res.SelectorOutOfMemory = append(res.SelectorOutOfMemory, fmt.Sprintf("run %s of %s", r.ID, strings.Join(r.Candidates, " ")))
		}
	}
	if len(reused) > 0 {
		if err := infraFailed(reused, " in a reused container"); err != nil {
			return res, err
		}
		u := reused[medianRound(reused)]
		res.Reused = &ReusedSpeed{Selector: u.rep.Duration, Range: spread(reused), Runs: len(u.rep.Runs), AheadDropped: u.rep.AheadDropped,
			SameChoice: sameChoices(reused, rep), Steps: allSteps(reused)}
		for _, run := range u.rep.Runs {
			res.Reused.RunSum += run.Duration
		}
	}
	slices.Sort(bare)
	// The lower middle of an even count, as medianRound.
	res.BareSum, res.BareRange = bare[(len(bare)-1)/2], [2]time.Duration{bare[0], bare[len(bare)-1]}

	cfg.Log.Info("speed: the naive way", "runs", len(naive))
	res.NaiveRuns = len(naive)
	var killed []int
	if res.Naive, killed, err = runNaive(ctx, cfg.Exec, cfg.Workers, naive); err != nil {
		return res, err
	}
	for _, i := range killed {
		res.NaiveOutOfMemory = append(res.NaiveOutOfMemory, naiveRunName(job, rep, i))
	}

	cfg.Log.Info("speed: bare on the host, in parallel", "runs", len(runs), "workers", cfg.Workers)
	if res.BareParallelSum, res.BareParallel, err = bareTimes(ctx, repo, bareEnv, runs, cfg.Workers); err != nil {
		return res, err
	}
	res.Ideal = res.BareSum / time.Duration(res.Cores)
	return res, nil
}

// settle waits for the background work of a backend that has any (the
// Docker backend's containers made ahead and removals).
func settle(e selector.Executor) {
	if s, ok := e.(interface{ Settle() }); ok {
		s.Settle()
	}
}

// selectorRuns are the runs the selector made for job (rep.Runs), rebuilt
// from the job's plan holding their results: a run with the tests the base
// kept (after it dropped one) is planned only once the base's results are
// known.
func selectorRuns(job selector.Job, rep selector.Report) ([]executor.Run, error) {
	plan, err := selector.NewPlan(job)
	if err != nil {
		return nil, err
	}
	plan = plan.WithResults(rep.Results)
	var runs []executor.Run
	for _, r := range rep.Runs {
		pr, ok := plan.Planned(r.ID)
		if !ok {
			return nil, fmt.Errorf("speed: run %s is not in the job's plan", r.ID)
		}
		runs = append(runs, pr.Run)
	}
	return runs, nil
}

// speedRound is one measurement of the job through the selector: its
// report and its runs' timings.
type speedRound struct {
	rep   selector.Report
	steps []docker.RunTiming
}

// selectorRound runs job through the selector on exec, every candidate
// executed (no adaptive stop: the ratios compare the same runs).
func selectorRound(ctx context.Context, cfg SpeedConfig, exec selector.Executor, job selector.Job) (speedRound, error) {
	cfg.Timings.take()
	sel := &selector.Selector{Exec: exec, Pool: selector.NewPool(cfg.Workers), Log: cfg.Log}
	job.Options.Execution = selector.ExecutionAll
	rep, err := sel.Select(ctx, job)
	if err != nil {
		return speedRound{}, err
	}
	return speedRound{rep: rep, steps: cfg.Timings.take()}, nil
}

// infraFailed is the error of the first run of any round that failed for
// infrastructure reasons (a run killed at its memory limit is a finished
// run, as in the naive way): a round with one measured no real job.
func infraFailed(rounds []speedRound, where string) error {
	for _, r := range rounds {
		for _, run := range r.rep.Runs {
			if run.Status == executor.Infra && !r.rep.Results[run.ID].OutOfMemory() {
				return fmt.Errorf("speed: run %s failed for infrastructure reasons%s: %s", run.ID, where, run.Reason)
			}
		}
	}
	return nil
}

// medianRound is the index of the round whose job took the median time
// (the lower middle of an even count).
func medianRound(rounds []speedRound) int {
	idx := make([]int, len(rounds))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(rounds[a].rep.Duration, rounds[b].rep.Duration) })
	return idx[(len(idx)-1)/2]
}

// spread is the shortest and the longest job of the rounds.
func spread(rounds []speedRound) [2]time.Duration {
	lo, hi := rounds[0].rep.Duration, rounds[0].rep.Duration
	for _, r := range rounds[1:] {
		lo, hi = min(lo, r.rep.Duration), max(hi, r.rep.Duration)
	}
	return [2]time.Duration{lo, hi}
}

// sameChoices reports whether every round chose what want chose, with the
// same ties.
func sameChoices(rounds []speedRound, want selector.Report) bool {
	for _, r := range rounds {
		if r.rep.Verdict.Chosen != want.Verdict.Chosen || !slices.Equal(r.rep.Verdict.Ties, want.Verdict.Ties) {
			return false
		}
	}
	return true
}

// allSteps is the mean of each step over every round's runs, or nil when
// the backend reported none.
func allSteps(rounds []speedRound) *Steps {
	var all []docker.RunTiming
	for _, r := range rounds {
		all = append(all, r.steps...)
	}
	if len(all) == 0 {
		return nil
	}
	st := meanSteps(all)
	return &st
}

// speedJob builds the job to measure, with the repository its bare runs
// use and their environment; the job's task runs from its image (no
// repository). cleanup removes what it made.
func speedJob(ctx context.Context, cfg SpeedConfig) (job selector.Job, repo string, env map[string]string, cleanup func(), err error) {
	cleanup = func() {}
	if cfg.Sympy {
		if cfg.BuildScript != "" {
			cfg.Log.Info("building the sympy stand-in image (skipped when up to date)", "image", SympyImage)
			if err := runBuildScript(ctx, cfg.BuildScript, "swebench"); err != nil {
				return job, "", nil, cleanup, err
			}
		}
		tmp, err := os.MkdirTemp("", "bestpatch-speed-sympy-")
		if err != nil {
			return job, "", nil, cleanup, err
		}
		cleanup = func() { os.RemoveAll(tmp) }
		if err := exportRepo(ctx, SympyImage, docker.DefaultWorkdir, tmp); err != nil {
			return job, "", nil, cleanup, err
		}
		job, err = SympyJob(tmp, SympyImage)
		// Bare, python3 is the host's Debian python3 with the image's
		// packages (both bookworm's), not one earlier on PATH.
		return job, tmp, map[string]string{"PATH": "/usr/bin:/bin"}, cleanup, err
	}
	tasks, err := selector.LoadTasks(filepath.Join(cfg.Dir, TasksFile))
	if err != nil {
		return job, "", nil, cleanup, err
	}
	cat, err := LoadCatalog(filepath.Join(cfg.Dir, CatalogFile))
	if err != nil {
		return job, "", nil, cleanup, err
	}
	if job, err = pickSpeedJob(tasks, cat, cfg); err != nil {
		return job, "", nil, cleanup, err
	}
	task := job.Task
	if cfg.BuildScript != "" {
		cfg.Log.Info("building the task's image (skipped when up to date)", "image", task.Env.Image)
		if err := BuildImage(ctx, cfg.BuildScript, task.Env.Repo, task.Env.Image); err != nil {
			return job, "", nil, cleanup, err
		}
	}
	// The Docker backend runs from the image; the repository on disk is
	// only for the bare runs.
	repo = task.Env.Repo
	job.Task.Env.Repo = ""
	return job, repo, task.Env.Env, cleanup, nil
}

func pickSpeedJob(tasks []selector.Task, cat []CatalogTask, cfg SpeedConfig) (selector.Job, error) {
	var reasons []string
	for _, t := range tasks {
		if cfg.Task != "" && t.ID != cfg.Task {
			continue
		}
		c, _, ok := PoolTask(cat, t.ID)
		if !ok {
			continue
		}
		if cfg.Task == "" && len(t.GeneratedTests) < cfg.Tests {
			reasons = append(reasons, fmt.Sprintf("task %s: %d generated tests, want %d", t.ID, len(t.GeneratedTests), cfg.Tests))
			continue
		}
		job, err := SpeedJob(t, c, cfg.Candidates, cfg.Distinct)
		if err == nil {
			return job, nil
		}
		reasons = append(reasons, err.Error())
	}
	if cfg.Task != "" && len(reasons) == 0 {
		return selector.Job{}, fmt.Errorf("no task %q in %s", cfg.Task, cfg.Dir)
	}
	return selector.Job{}, fmt.Errorf("no task in %s makes a speed job: %s", cfg.Dir, strings.Join(reasons, "; "))
}

// naiveRunName names the i-th of NaiveRuns(job.Task, job.Candidates): its
// candidate (or the base) and test artifact, and how the selector's runs
// of that candidate ended in rep.
func naiveRunName(job selector.Job, rep selector.Report, i int) string {
	arts := 1 + len(job.Task.GeneratedTests)
	art := "the original tests"
	if a := i % arts; a > 0 {
		art = "generated test " + job.Task.GeneratedTests[a-1].ID
	}
	c := i / arts
	if c == 0 {
		return "the base, " + art
	}
	cand := job.Candidates[c-1]
	var ended []string
	for _, r := range rep.Runs {
		if slices.Contains(r.Candidates, cand.ID) {
			e := string(r.Status)
			if r.Reason != "" {
				e += " (" + r.Reason + ")"
			}
			ended = append(ended, e)
		}
	}
	if len(ended) == 0 {
		ended = []string{"no run of its own"}
	}
	return fmt.Sprintf("candidate %s (%s), %s; the selector's runs of it: %s", cand.ID, cand.Model, art, strings.Join(ended, ", "))
}

// driverNote names the engine's storage driver in the header, when known.
func driverNote(driver string) string {
	if driver == "" {
		return ""
	}
	return ", storage driver " + driver
}

// WriteSpeed prints a speed result with its ratios.
func WriteSpeed(w io.Writer, r SpeedResult) error {
	ratio := func(a, b time.Duration) string {
		if b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fx", a.Seconds()/b.Seconds())
	}
	_, err := fmt.Fprintf(w, `Speed: one job of %d candidates (%d distinct) with %d generated tests, task %s, image %s, %d parallel runs on %d cores%s; medians of %d rounds
  bestpatch (selector, Docker)   %8s  %3d containers   rounds %s
  naive (container per pair)     %8s  %3d containers   naive / bestpatch = %s
  ideal (bare sum / %d cores)     %8s  bare sum %s      bestpatch / ideal = %s; bare sums %s
  bare, %d at a time (wall)       %8s  bare sum %s      bestpatch / bare = %s
  per run: %s in a container (mean of the selector's), %s bare alone, %s bare %d at a time (means)
`, r.Candidates, r.Distinct, r.Tests, r.Task, r.Image, r.Workers, r.Cores, driverNote(r.StorageDriver), r.Rounds,
		r.Selector.Round(100*time.Millisecond), r.SelectorRuns, span(r.SelectorRange),
		r.Naive.Round(100*time.Millisecond), r.NaiveRuns, ratio(r.Naive, r.Selector),
		r.Cores, r.Ideal.Round(100*time.Millisecond), r.BareSum.Round(100*time.Millisecond), ratio(r.Selector, r.Ideal), span(r.BareRange),
		r.Workers, r.BareParallel.Round(100*time.Millisecond), r.BareParallelSum.Round(100*time.Millisecond), ratio(r.Selector, r.BareParallel),
		mean(r.RunSum, r.SelectorRuns), mean(r.BareSum, r.SelectorRuns), mean(r.BareParallelSum, r.SelectorRuns), r.Workers)
	if err == nil && r.ChoiceVaried {
		_, err = fmt.Fprintf(w, "  the choice or its ties varied between rounds (flaky tests?): the figures are the median round's\n")
	}
	if err == nil && r.AheadDropped > 0 {
		_, err = fmt.Fprintf(w, "  runs made ahead on an idle slot and dropped (the base showed they were not needed; not in the containers above): %d\n", r.AheadDropped)
	}
	if err == nil && r.Selector > 0 {
		// Below 100%: the job's order left slots idle (runs that wait for
		// the base's results), or the selector's own work between runs.
		_, err = fmt.Fprintf(w, "  slots busy: %.0f%% (run sum %s over %d slots for %s)\n",
			100*r.RunSum.Seconds()/(r.Selector.Seconds()*float64(r.Workers)), r.RunSum.Round(100*time.Millisecond), r.Workers, r.Selector.Round(100*time.Millisecond))
	}
	for _, n := range r.SelectorOutOfMemory {
		if err == nil {
			_, err = fmt.Fprintf(w, "  selector's run killed at its memory limit (its candidates' row is infra): %s\n", n)
		}
	}
	for _, n := range r.NaiveOutOfMemory {
		if err == nil {
			_, err = fmt.Fprintf(w, "  naive run killed at its memory limit (counted as a failed run): %s\n", n)
		}
	}
	if err == nil && r.Steps != nil {
		_, err = fmt.Fprintf(w, "  per container run (mean): %s\n", r.Steps)
	}
	if u := r.Reused; err == nil && u != nil {
		same := "no"
		if u.SameChoice {
			same = "yes"
		}
		_, err = fmt.Fprintf(w, "  reused containers (--reuse)    %8s  %3d runs         reused / ideal = %s; rounds %s; same choice and ties: %s; slots busy %.0f%%\n",
			u.Selector.Round(100*time.Millisecond), u.Runs, ratio(u.Selector, r.Ideal), span(u.Range), same, 100*u.RunSum.Seconds()/(u.Selector.Seconds()*float64(r.Workers)))
		if err == nil && u.AheadDropped > 0 {
			_, err = fmt.Fprintf(w, "  reused: runs made ahead and dropped: %d\n", u.AheadDropped)
		}
		if err == nil && u.Steps != nil {
			_, err = fmt.Fprintf(w, "  per reused run (mean): %s\n", u.Steps)
		}
	}
	if a := r.Adaptive; err == nil && a.Tasks > 0 {
		same := "yes"
		if a.Unchanged != a.Tasks {
			same = "NO: " + strings.Join(a.Changed, "; ")
		}
		_, err = fmt.Fprintf(w, "  adaptive execution (policy auto, replayed on these runs, %d at a time): %d of %d containers, %d distinct candidates not run (%d in play), %s of %s simulated; choice and ties unchanged: %s\n",
			a.Workers, a.Made, a.Runs, a.NotRun, a.Candidates, a.Adaptive.Round(100*time.Millisecond), a.Time.Round(100*time.Millisecond), same)
	}
	return err
}

// span prints the shortest and the longest of a set of measurements.
func span(r [2]time.Duration) string {
	return r[0].Round(10*time.Millisecond).String() + "-" + r[1].Round(10*time.Millisecond).String()
}

func mean(sum time.Duration, n int) time.Duration {
	if n == 0 {
		return 0
	}
	return (sum / time.Duration(n)).Round(10 * time.Millisecond)
}
