// Package batch runs selection over a whole benchmark: one job per
// instance, many instances in flight through one shared worker pool, one
// instance's failure reported without stopping the others, and resumable: a
// journal keeps the verdicts of finished instances and the result cache
// keeps finished runs, so an interrupted batch run again redoes neither.
package batch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/sourcegraph/conc/pool"

	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

// Selector runs one job to its report: a *selector.Selector in-process, or
// a client of a running daemon.
type Selector interface {
	Select(ctx context.Context, job selector.Job) (selector.Report, error)
}

// Status says how an instance ended.
type Status string

// The instance statuses.
const (
	// Selected: the job ran and chose a candidate.
	Selected Status = "selected"
	// NoneChosen: the job ran but no candidate could be chosen (every
	// patch empty, test-only, or not applying).
	NoneChosen Status = "none_chosen"
	// Failed: the instance could not be decided (no task, no predictions, a
	// broken task, a missing repository or image), or its selection
	// abstained because the runs gave no evidence (the image may be fixed
	// by the next run). Failed instances are not journaled: the next run of
	// the batch tries them again.
	Failed Status = "failed"
	// NotRun: the batch was interrupted before the instance finished.
	NotRun Status = "not_run"
)

// Instance is one instance's outcome.
type Instance struct {
	ID string `json:"instance_id"`
	// Repo is the repository part of the ID (see RepoOf).
	Repo   string `json:"repo"`
	Status Status `json:"status"`
	// Error says why a Failed instance failed.
	Error string `json:"error,omitempty"`
	// Resumed is true when the verdict was read from the journal.
	Resumed    bool                `json:"resumed,omitempty"`
	Candidates []scoring.Candidate `json:"candidates"`
	// Report is the selection's report, for Selected and NoneChosen.
	Report *selector.Report `json:"report,omitempty"`
}

// Chosen returns the chosen candidate, if one was chosen.
func (in Instance) Chosen() (scoring.Candidate, bool) {
	if in.Report == nil || in.Report.Verdict.Chosen == "" {
		return scoring.Candidate{}, false
	}
	i := slices.IndexFunc(in.Candidates, func(c scoring.Candidate) bool { return c.ID == in.Report.Verdict.Chosen })
	if i < 0 {
		return scoring.Candidate{}, false
	}
	return in.Candidates[i], true
}

// Result is a batch's outcome.
type Result struct {
	// Instances: the tasks' instances in task-file order, then the
	// instance IDs that only the predictions name, sorted.
	Instances []Instance `json:"instances"`
	// Runs and Cached count the runs finished by this invocation (cached:
	// served by the result cache), as the selector reported them.
	Runs     int           `json:"runs"`
	Cached   int           `json:"cached"`
	Duration time.Duration `json:"duration"`
	// Interrupted is true when the context ended before every instance did.
	Interrupted bool `json:"interrupted,omitempty"`
}

// Count returns how many instances have the status.
func (r *Result) Count(s Status) int {
	n := 0
	for _, in := range r.Instances {
		if in.Status == s {
			n++
		}
	}
	return n
}

// Config configures a batch.
type Config struct {
	Tasks []selector.Task
	// Predictions are the candidates by instance ID (selector.LoadPredictions).
	Predictions map[string][]scoring.Candidate
	// Options apply to every job (policy, base repeats).
	Options selector.Options
	// Selector runs the jobs. Its progress events must reach Runner.Observe.
	Selector Selector
	// Parallel bounds the instances in flight (the selector's pool bounds
	// the runs); <= 0 means 1.
	Parallel int
	// Journal is the path of the journal of finished instances; empty
	// disables resuming whole instances (runs still come from the cache).
	Journal string
	// Display shows progress; nil shows nothing.
	Display Display
	Log     *slog.Logger
}

// Runner runs one batch. Wire its Observe method to the selector's events
// (selector.Selector.OnEvent) to count runs.
type Runner struct {
	cfg   Config
	log   *slog.Logger
	track tracker
}

// New returns a Runner for cfg after checking that the tasks are usable as
// a batch: instance IDs must be unique.
func New(cfg Config) (*Runner, error) {
	if cfg.Selector == nil {
		return nil, errors.New("batch: no selector configured")
	}
	seen := map[string]bool{}
	for _, t := range cfg.Tasks {
		if seen[t.ID] {
			return nil, fmt.Errorf("the tasks hold instance_id %q twice: give each instance one task", t.ID)
		}
		seen[t.ID] = true
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	display := cfg.Display
	if display == nil {
		display = noDisplay{}
	}
	return &Runner{cfg: cfg, log: log, track: tracker{display: display}}, nil
}

// Observe counts a selector progress event. It never blocks for long.
func (r *Runner) Observe(e selector.Event) { r.track.observe(e) }

// Run runs every instance not finished before and returns the outcome of
// all of them. When ctx ends first, Run returns the outcome so far (the
// unfinished instances NotRun, Interrupted set) together with ctx's error;
// any other error means the batch could not run at all.
func (r *Runner) Run(ctx context.Context) (*Result, error) {
	start := time.Now()
	instances := r.instances()
	journal, err := openJournal(r.cfg.Journal, r.log)
	if err != nil {
		return nil, err
	}
	defer journal.Close()

	var todo []int
	for i := range instances {
		in := &instances[i]
		if in.Status == Failed {
			continue
		}
		job := r.job(in)
		if rep, ok := journal.finished(in.ID, fingerprint(job)); ok {
			in.Report, in.Resumed, in.Status = &rep, true, statusOf(rep)
			continue
		}
		todo = append(todo, i)
	}
	r.track.start(snapshotStart(instances, len(todo)))
	for _, in := range instances {
		if in.Status == Failed {
			r.track.note(instanceLine(in.ID, Failed, "", in.Error, 0))
		}
	}

	parallel := max(r.cfg.Parallel, 1)
	p := pool.New().WithMaxGoroutines(parallel)
	for _, i := range todo {
		if ctx.Err() != nil {
			break
		}
		in := &instances[i]
		p.Go(func() {
			if ctx.Err() != nil {
				return
			}
			r.runInstance(ctx, in, journal)
		})
	}
	p.Wait()
	for _, i := range todo {
		if instances[i].Status == "" {
			instances[i].Status = NotRun
		}
	}

	res := &Result{Instances: instances, Duration: time.Since(start)}
	res.Runs, res.Cached = r.track.runCounts()
	res.Interrupted = ctx.Err() != nil
	r.track.finish()
	if res.Interrupted {
		return res, ctx.Err()
	}
	return res, nil
}

// runInstance runs one instance's job and records its outcome in place.
func (r *Runner) runInstance(ctx context.Context, in *Instance, journal *journal) {
	job := r.job(in)
	begin := time.Now()
	rep, err := r.cfg.Selector.Select(ctx, job)
	switch {
	case err != nil && ctx.Err() != nil:
		// Interrupted: neither a failure nor a result; the next run redoes it.
		r.log.Info("instance interrupted", "instance", in.ID)
		return
	case err != nil:
		r.track.instanceDone(instanceLine(in.ID, Failed, "", err.Error(), time.Since(begin)), true)
		in.Status, in.Error = Failed, err.Error()
		// The display reports it; the log keeps it for -log-level info.
		r.log.Info("instance failed", "instance", in.ID, "err", err)
		return
	}
	if why := rep.Verdict.Abstained; why != "" && !rep.Verdict.SampleMore {
		// No evidence, no answer: a failure to be retried, never journaled.
		msg := "abstained: " + why
		r.track.instanceDone(instanceLine(in.ID, Failed, "", msg, time.Since(begin)), true)
		in.Status, in.Error = Failed, msg
		r.log.Info("instance abstained", "instance", in.ID, "why", why)
		return
	}
	in.Report, in.Status = &rep, statusOf(rep)
	if err := journal.append(in.ID, fingerprint(job), rep); err != nil {
		r.log.Warn("journal write failed: this instance will be selected again on resume", "instance", in.ID, "err", err)
	}
	r.track.instanceDone(instanceLine(in.ID, in.Status, rep.Verdict.Chosen, "", time.Since(begin)), false)
}

func statusOf(rep selector.Report) Status {
	if rep.Verdict.Chosen == "" {
		return NoneChosen
	}
	return Selected
}

func (r *Runner) job(in *Instance) selector.Job {
	i := slices.IndexFunc(r.cfg.Tasks, func(t selector.Task) bool { return t.ID == in.ID })
	job := selector.Job{Task: r.cfg.Tasks[i], Candidates: in.Candidates, Options: r.cfg.Options}
	job.ID = jobID(in.ID, fingerprint(job))
	return job
}

// jobID names an instance's job by its content: the instance ID (in the
// letters a daemon accepts in a job ID) and a prefix of the job's
// fingerprint. A resumed batch resubmits the same job under the same ID (a
// daemon then answers from the job it already has), and a changed job gets
// a new one instead of clashing with the old.
func jobID(instance, fp string) string {
	name := []byte(instance)
	for i, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			name[i] = '_'
		}
	}
	if len(name) > 100 {
		name = name[:100]
	}
	return string(name) + "-" + fp[:min(len(fp), 16)]
}

// instances lists every instance of the batch: each task with its
// candidates, then the prediction instance IDs without a task. Instances
// that cannot run at all are Failed from the start.
func (r *Runner) instances() []Instance {
	var out []Instance
	for _, t := range r.cfg.Tasks {
		in := Instance{ID: t.ID, Repo: scoring.RepoOf(t.ID), Candidates: r.cfg.Predictions[t.ID]}
		if len(in.Candidates) == 0 {
			in.Status = Failed
			in.Error = fmt.Sprintf("no predictions for instance %q: no --preds file has a line with this instance_id", t.ID)
		}
		out = append(out, in)
	}
	var orphans []string
	for id := range r.cfg.Predictions {
		if !slices.ContainsFunc(r.cfg.Tasks, func(t selector.Task) bool { return t.ID == id }) {
			orphans = append(orphans, id)
		}
	}
	sort.Strings(orphans)
	for _, id := range orphans {
		out = append(out, Instance{
			ID: id, Repo: scoring.RepoOf(id), Candidates: r.cfg.Predictions[id], Status: Failed,
			Error: fmt.Sprintf("no task for instance %q: the predictions name it but the tasks file does not; add its task or drop its predictions", id),
		})
	}
	return out
}

// tracker counts progress and hands snapshots to the display.
type tracker struct {
	display Display

	mu   sync.Mutex
	snap Snapshot
}

func snapshotStart(instances []Instance, todo int) Snapshot {
	s := Snapshot{Instances: len(instances), ToRun: todo, Start: time.Now()}
	for _, in := range instances {
		switch {
		case in.Resumed:
			s.Resumed++
		case in.Status == Failed:
			s.Failed++
		}
	}
	return s
}

func (t *tracker) start(s Snapshot) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.snap = s
	t.display.Start(t.snap)
}

func (t *tracker) observe(e selector.Event) {
	if e.Kind != selector.EventRunFinished {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.snap.Runs++
	if e.Cached {
		t.snap.Cached++
	}
	t.display.Update(t.snap, "")
}

func (t *tracker) instanceDone(line string, failed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.snap.Done++
	if failed {
		t.snap.Failed++
	}
	t.display.Update(t.snap, line)
}

func (t *tracker) note(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.display.Update(t.snap, line)
}

func (t *tracker) runCounts() (runs, cached int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.snap.Runs, t.snap.Cached
}

func (t *tracker) finish() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.display.Finish(t.snap)
}

func instanceLine(id string, st Status, chosen, errMsg string, took time.Duration) string {
	took = took.Round(100 * time.Millisecond)
	switch st {
	case Selected:
		return fmt.Sprintf("%s: chose %s (%s)", id, chosen, took)
	case NoneChosen:
		return fmt.Sprintf("%s: no candidate could be chosen (%s)", id, took)
	default:
		return fmt.Sprintf("%s: FAILED: %s", id, errMsg)
	}
}
