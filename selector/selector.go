package selector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/sourcegraph/conc"
	"golang.org/x/sync/semaphore"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/generator"
	"github.com/bestpatch/bestpatch/scoring"
)

// Cache stores run results by content key (RunKey).
type Cache interface {
	Get(ctx context.Context, key string) (executor.Result, bool, error)
	Put(ctx context.Context, key string, res executor.Result) error
}

// Pool is a shared budget of worker slots: every job that runs through the
// same Pool shares its slots, so a batch of many jobs or a daemon serving
// many clients never runs more than Size runs at once.
type Pool struct {
	sem  *semaphore.Weighted
	size int
}

// NewPool returns a pool of n worker slots; n <= 0 means the number of cores.
func NewPool(n int) *Pool {
	if n <= 0 {
		n = runtime.NumCPU()
	}
	return &Pool{sem: semaphore.NewWeighted(int64(n)), size: n}
}

// Size is the number of worker slots.
func (p *Pool) Size() int { return p.size }

// Selector runs jobs: it plans their runs, executes them through a shared
// pool, and scores the outcome matrix.
type Selector struct {
	Exec Executor
	Pool *Pool
	// Cache, if set, serves runs already done (by content) and stores new ones.
	Cache Cache
	Log   *slog.Logger
	// OnEvent, if set, receives progress events. It must not block.
	OnEvent func(Event)
	// Models, if set, is the model endpoint for jobs that ask for generated
	// tests, judge scores or adversarial tests.
	Models *generator.Endpoint

	noModelOnce sync.Once
	poolOnce    sync.Once
}

// pool returns the Selector's pool, making one of NumCPU slots on first use
// when none was given.
func (s *Selector) pool() *Pool {
	s.poolOnce.Do(func() {
		if s.Pool == nil {
			s.Pool = NewPool(0)
		}
	})
	return s.Pool
}

// Report is a finished job: the verdict and the evidence behind it.
type Report struct {
	Job     string          `json:"job"`
	Task    string          `json:"instance_id"`
	Verdict scoring.Verdict `json:"verdict"`
	Matrix  scoring.Matrix  `json:"matrix"`
	// Dropped lists generated tests left out, with the reason.
	Dropped map[string]string `json:"dropped_tests,omitempty"`
	Runs    []RunRecord       `json:"runs"`
	// Distinct is the number of distinct normalized candidates.
	Distinct int `json:"distinct"`
	// NotRun counts the distinct candidates whose runs were not made
	// because nothing they could show would change the choice or the ties
	// (adaptive execution; the verdict's basis.not_run names the
	// candidates in play among them).
	NotRun   int           `json:"not_run,omitempty"`
	Duration time.Duration `json:"duration"`
	// Generation is what the model endpoint contributed, when the job asked.
	Generation *Generation `json:"generation,omitempty"`
	// Results are the runs' results by run ID, for replaying the plan on
	// them (Simulate); not written out.
	Results map[string]executor.Result `json:"-"`
	// TestFiles are the test-file patterns the runs stripped and scoring
	// flagged (Task.TestFileMatcher), so that a later re-ranking of this
	// report (batch's summary) sees the same test files.
	TestFiles []string `json:"test_files,omitempty"`
	// Standing is an open job's standing verdict (Stream): its choice, its
	// confidence, and whether another sample is worth drawing.
	Standing *scoring.Standing `json:"standing,omitempty"`
}

// Evidence is the matrix to score the report's candidates on again (with
// another policy, say): nil when the job ran nothing (execution-free), so
// that scoring treats it as the execution-free choice it was asked to be.
func (r *Report) Evidence() *scoring.Matrix {
	if r.Verdict.Basis.Execution == scoring.EvidenceExecutionFree {
		return nil
	}
	return &r.Matrix
}

// RunRecord summarises one executed run.
type RunRecord struct {
	ID         string          `json:"id"`
	Candidates []string        `json:"candidates,omitempty"`
	Status     executor.Status `json:"status"`
	Applied    string          `json:"applied,omitempty"`
	Reason     string          `json:"reason,omitempty"`
	Cached     bool            `json:"cached,omitempty"`
	Duration   time.Duration   `json:"duration"`
}

// Select runs a job to its verdict. A job whose runs produced no evidence
// ends with a report whose verdict abstains (Verdict.Abstained) and a
// failed event; the error is for jobs that could not run at all.
func (s *Selector) Select(ctx context.Context, job Job) (Report, error) {
	start := time.Now()
	log := s.logger().With("job", job.ID, "task", job.Task.ID)
	// The one validation and policy parse of the job; the tests the model
	// adds below are valid by construction (generate).
	pol, err := job.validate()
	if err != nil {
		s.emit(Event{Kind: EventFailed, Job: job.ID, Message: err.Error()})
		return Report{}, err
	}
	sess, skipped := s.session(job)
	var gen *Generation
	var mctx generator.Context
	if sess != nil {
		gen = &Generation{}
		job, mctx = s.generate(ctx, sess, job, gen)
	}
	plan, err := newPlan(job, pol)
	if err != nil {
		s.emit(Event{Kind: EventFailed, Job: job.ID, Message: err.Error()})
		return Report{}, err
	}
	s.emit(Event{Kind: EventAccepted, Job: job.ID, Candidates: len(job.Candidates), Distinct: plan.Distinct()})
	log.Info("job accepted", "candidates", len(job.Candidates), "distinct", plan.Distinct(), "generated_tests", len(job.Task.GeneratedTests))

	records, err := s.execute(ctx, plan)
	if err != nil {
		kind := EventFailed
		if errors.Is(err, context.Canceled) {
			kind = EventCancelled
		}
		s.emit(Event{Kind: kind, Job: job.ID, Message: err.Error()})
		return Report{}, err
	}
	if sess != nil && job.Options.Judge {
		s.judge(ctx, sess, plan, gen)
	}
	rep, err := Score(plan)
	if err != nil {
		s.emit(Event{Kind: EventFailed, Job: job.ID, Message: err.Error()})
		return Report{}, err
	}
	if sess != nil && job.Options.AdversarialRounds > 0 {
		rep.Verdict.Reopen()
		s.adversarial(ctx, sess, plan, mctx, &rep, gen)
		job.Options.settle(&rep.Verdict)
	}
	if skipped != "" {
		rep.Verdict.Notes = append(rep.Verdict.Notes, skipped)
	}
	if gen != nil {
		gen.Spent = sess.Spent()
		rep.Generation = gen
	}
	rep.Runs = records
	rep.Results = plan.results
	rep.Duration = time.Since(start)
	if why := rep.Verdict.Abstained; why != "" && !rep.Verdict.SampleMore {
		s.emit(Event{Kind: EventFailed, Job: job.ID, Message: "abstained: " + why})
		log.Info("job abstained", "why", why, "runs", len(records), "seconds", rep.Duration.Seconds())
		return rep, nil
	}
	// A verdict that asks for more samples is a finished job: its answer is
	// that the candidates do not settle it.
	s.emit(Event{Kind: EventSelected, Job: job.ID, Chosen: rep.Verdict.Chosen, Message: rep.Verdict.Abstained})
	log.Info("job done", "chosen", rep.Verdict.Chosen, "ties", len(rep.Verdict.Ties), "runs", len(records), "seconds", rep.Duration.Seconds(), "evidence", rep.Verdict.Basis.Execution)
	return rep, nil
}

// Score scores a finished plan. It is exported for runners that execute a
// plan's runs elsewhere (the daemon's work queue).
func Score(plan *Plan) (Report, error) {
	if !plan.Done() {
		return Report{}, fmt.Errorf("job %s: %d runs still missing, cannot score yet", plan.job.ID, len(plan.Needed()))
	}
	// The one place where a job's evidence meets the rule "no evidence, no
	// confident answer": scoring abstains on a matrix without evidence; only
	// an execution-free job, which asked for it, is scored without one.
	var m scoring.Matrix
	in := &m
	if plan.job.Options.executionFree() {
		in = nil
	} else {
		m = plan.Matrix()
	}
	v, err := scoreMatrix(plan.job, plan.policy, in)
	if err != nil {
		return Report{}, fmt.Errorf("job %s: scoring: %w", plan.job.ID, err)
	}
	if in == nil {
		v.Notes = append(v.Notes, fmt.Sprintf("execution-free, as the job asked (options.execution %q): nothing was run; the choice rests on the patches alone", ExecutionNone))
	} else {
		for _, note := range []string{plan.testArgsNote(), plan.p2p.note(m.Base)} {
			if note != "" {
				v.Notes = append(v.Notes, note)
			}
		}
	}
	for _, res := range plan.results {
		if st, _ := rowStatus(res); st == scoring.RunUnknown {
			v.Basis.UnknownRuns++
		}
	}
	plan.job.Options.settle(&v)
	if n := len(v.Basis.NotRun); n > 0 && v.Features != nil {
		what := "features"
		if v.Confidence != nil {
			what = "confidence and its features"
		}
		v.Notes = append(v.Notes, fmt.Sprintf("the %s describe the candidates that ran: %d candidate(s) were not run (adaptive execution), so a full run (options.execution %q) may count more candidates, another margin and another confidence; the choice and the ties are the same", what, n, ExecutionAll))
	}
	return Report{
		Job: plan.job.ID, Task: plan.job.Task.ID, Verdict: v, Matrix: m,
		Dropped: plan.Dropped(), Distinct: plan.Distinct(), NotRun: plan.runsNotMade(),
		TestFiles: plan.job.Task.TestFileMatcher().Patterns(),
	}, nil
}

// execute runs the plan's needed runs through the pool until the plan is done.
func (s *Selector) execute(ctx context.Context, plan *Plan) ([]RunRecord, error) {
	pool := s.pool()
	var (
		mu       sync.Mutex
		started  = map[string]bool{}
		records  []RunRecord
		firstErr error
		wg       conc.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// dispatch starts every needed run not started yet; call with mu held.
	var dispatch func()
	dispatch = func() {
		for _, r := range plan.Needed() {
			if started[r.ID] {
				continue
			}
			started[r.ID] = true
			wg.Go(func() {
				// A run queued for a slot may stop being needed while it waits
				// (the base showed that a generated test does not compile, so
				// the optimistic candidate run would be poisoned): check again.
				stillNeeded := func() bool {
					mu.Lock()
					defer mu.Unlock()
					return slices.ContainsFunc(plan.Needed(), func(n PlannedRun) bool { return n.ID == r.ID })
				}
				rec, res, err := s.runOne(ctx, pool, plan.job.ID, r, stillNeeded)
				mu.Lock()
				defer mu.Unlock()
				if errors.Is(err, errNotNeeded) {
					return
				}
				if err != nil {
					if firstErr == nil {
						firstErr = err
						cancel()
					}
					return
				}
				records = append(records, rec)
				if err := plan.Record(r.ID, res); err != nil && firstErr == nil {
					firstErr = err
					cancel()
					return
				}
				if firstErr == nil {
					dispatch()
				}
			})
		}
	}
	mu.Lock()
	dispatch()
	mu.Unlock()
	if r := wg.WaitAndRecover(); r != nil {
		return nil, fmt.Errorf("job %s: a run panicked: %v", plan.job.ID, r.Value)
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return records, nil
}

// errNotNeeded: the run was dropped from the plan before it got a slot.
var errNotNeeded = errors.New("run no longer needed")

// runOne runs one planned run: from the cache if it has it (and the run is
// not Fresh), else through the executor in a pool slot.
func (s *Selector) runOne(ctx context.Context, pool *Pool, jobID string, r PlannedRun, stillNeeded func() bool) (RunRecord, executor.Result, error) {
	rec := RunRecord{ID: r.ID, Candidates: r.Candidates}
	cache := RunCache{Cache: s.Cache, Log: s.logger().With("run", r.ID)}
	res, cached, err := cache.Do(ctx, r, func(ctx context.Context) (executor.Result, error) {
		if err := pool.sem.Acquire(ctx, 1); err != nil {
			return executor.Result{}, err
		}
		defer pool.sem.Release(1)
		if !stillNeeded() {
			return executor.Result{}, errNotNeeded
		}
		if s.Exec == nil {
			return executor.Result{}, fmt.Errorf("job %s: run %s: no executor configured (only execution-free jobs run without one)", jobID, r.ID)
		}
		s.emit(Event{Kind: EventRunStarted, Job: jobID, Run: r.ID})
		begin := time.Now()
		res, err := s.Exec.Run(ctx, r.Run)
		if err != nil {
			return res, fmt.Errorf("job %s: run %s: %w", jobID, r.ID, err)
		}
		rec.Duration = time.Since(begin)
		s.emit(Event{Kind: EventRunFinished, Job: jobID, Run: r.ID, Status: string(res.Status), Seconds: rec.Duration.Seconds()})
		s.logger().Debug("run finished", "job", jobID, "run", r.ID, "status", res.Status, "applied", res.Applied, "cases", len(res.Cases), "seconds", rec.Duration.Seconds())
		return res, nil
	})
	if err != nil {
		return rec, res, err
	}
	rec.Status, rec.Applied, rec.Reason, rec.Cached = res.Status, res.Applied, res.Reason, cached
	if cached {
		s.emit(Event{Kind: EventRunFinished, Job: jobID, Run: r.ID, Status: string(res.Status), Cached: true})
	}
	return rec, res, nil
}

// Cacheable reports whether a result may be reused by content: timeouts and
// infrastructure failures are not, they may go another way next time.
func Cacheable(res executor.Result) bool {
	return res.Status != executor.TimedOut && res.Status != executor.Infra
}

func (s *Selector) emit(e Event) {
	if s.OnEvent != nil {
		e.Time = time.Now()
		s.OnEvent(e)
	}
}

func (s *Selector) logger() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}
