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

// slot takes a slot, waiting for one, and returns its release.
func (p *Pool) slot(ctx context.Context) (func(), error) {
	if err := p.sem.Acquire(ctx, 1); err != nil {
		return nil, err
	}
	return func() { p.sem.Release(1) }, nil
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
	// AheadDropped counts the runs made ahead on idle slots (Plan.Ahead)
	// that the job did not need, cancelled or discarded: not in Runs. Wire
	// v1 (frozen) does not carry it; the daemon's workers make none.
	AheadDropped int         `json:"runs_ahead_dropped,omitempty"`
	Runs         []RunRecord `json:"runs"`
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

	records, dropped, err := s.execute(ctx, plan)
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
	rep.AheadDropped = dropped
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

// execute runs the plan's needed runs through the pool until the plan is
// done, and the runs it may need ahead on slots that would otherwise idle
// (Plan.Ahead). It returns the records of the runs whose results the plan
// took, and how many runs made ahead it dropped.
func (s *Selector) execute(ctx context.Context, plan *Plan) ([]RunRecord, int, error) {
	pool := s.pool()
	var (
		mu      sync.Mutex
		started = map[string]bool{}
		ahead   = map[string]*aheadRun{} // started ahead, not yet taken or dropped
		dropped int
		records []RunRecord
		// aheadStarted counts the runs started ahead.
		aheadStarted int
		firstErr     error
		wg           conc.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// taken is the slot of a run whose slot dispatch took: its goroutine
	// releases it after the run, also when the cache served the run.
	taken := func(context.Context) (func(), error) { return func() {}, nil }
	fail := func(err error) {
		if firstErr == nil {
			firstErr = err
			cancel()
		}
	}
	// record gives the plan a run's result; call with mu held.
	record := func(id string, rec RunRecord, res executor.Result) bool {
		records = append(records, rec)
		if err := plan.Record(id, res); err != nil {
			fail(err)
			return false
		}
		return true
	}
	// dispatch takes the finished runs made ahead that the plan now needs,
	// drops the ones it will not, starts every needed run not started yet,
	// then runs ahead on free slots; call with mu held.
	var dispatch func()
	dispatch = func() {
		if firstErr != nil {
			return
		}
		needed := plan.Needed()
		for _, r := range needed {
			if a := ahead[r.ID]; a != nil && a.key == r.Key {
				a.needed = true
				if a.done {
					delete(ahead, r.ID)
					s.emitTaken(plan.job.ID, a)
					if record(r.ID, a.rec, a.res) {
						dispatch()
					}
					return
				}
			}
		}
		guess := plan.Ahead()
		for id, a := range ahead {
			if !a.needed && !slices.ContainsFunc(guess, func(r PlannedRun) bool { return r.ID == id }) {
				delete(ahead, id)
				a.cancel()
				dropped++
				started[id] = false // a needed run of that ID (other tests) starts afresh
				s.logger().Debug("run made ahead dropped: the base showed it is not needed", "job", plan.job.ID, "run", id)
			}
		}
		for _, r := range needed {
			if started[r.ID] {
				continue
			}
			started[r.ID] = true
			// A free slot is taken now, before any run ahead can take it;
			// else the run waits for one in its goroutine.
			held := pool.sem.TryAcquire(1)
			wg.Go(func() {
				slot := func(ctx context.Context) (func(), error) {
					if held {
						return taken(ctx)
					}
					if err := pool.sem.Acquire(ctx, 1); err != nil {
						return nil, err
					}
					// A run queued for a slot may stop being needed while it
					// waits (the base showed that a generated test does not
					// compile, so the optimistic candidate run would be
					// poisoned): check again.
					mu.Lock()
					still := slices.ContainsFunc(plan.Needed(), func(n PlannedRun) bool { return n.ID == r.ID })
					mu.Unlock()
					if !still {
						pool.sem.Release(1)
						return nil, errNotNeeded
					}
					return func() { pool.sem.Release(1) }, nil
				}
				rec, res, err := s.runOne(ctx, plan.job.ID, r, slot, true)
				if held {
					pool.sem.Release(1)
				}
				mu.Lock()
				defer mu.Unlock()
				if errors.Is(err, errNotNeeded) {
					return
				}
				if err != nil {
					fail(err)
					return
				}
				if record(r.ID, rec, res) {
					dispatch()
				}
			})
		}
		for _, r := range guess {
			// At most one run ahead per slot the base leaves idle: in a job
			// whose base breaks (a generated test that does not compile),
			// that bounds the runs dropped.
			if started[r.ID] || aheadStarted >= pool.Size()-1 || !pool.sem.TryAcquire(1) {
				continue
			}
			started[r.ID] = true
			aheadStarted++
			actx, acancel := context.WithCancel(ctx)
			a := &aheadRun{key: r.Key, cancel: acancel}
			ahead[r.ID] = a
			wg.Go(func() {
				defer acancel()
				rec, res, err := s.runOne(actx, plan.job.ID, r, taken, false)
				pool.sem.Release(1)
				mu.Lock()
				defer mu.Unlock()
				if ahead[r.ID] != a {
					return // dropped meanwhile
				}
				if err != nil {
					// Not dropped, so not cancelled by the plan: the job's end
					// or a failure that the run would meet as a needed run.
					delete(ahead, r.ID)
					if ctx.Err() == nil {
						fail(err)
					}
					return
				}
				a.done, a.rec, a.res = true, rec, res
				dispatch()
			})
		}
	}
	mu.Lock()
	dispatch()
	mu.Unlock()
	if r := wg.WaitAndRecover(); r != nil {
		return nil, 0, fmt.Errorf("job %s: a run panicked: %v", plan.job.ID, r.Value)
	}
	if firstErr != nil {
		return nil, 0, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	// A run made ahead that the plan listed and then stopped needing is
	// neither taken nor dropped above: it counts as dropped.
	return records, dropped + len(ahead), nil
}

// aheadRun is a run made ahead (Plan.Ahead) until the plan takes or drops
// it.
type aheadRun struct {
	key    string
	cancel context.CancelFunc
	// needed: the plan lists it, and takes its result when it is done.
	needed, done bool
	rec          RunRecord
	res          executor.Result
}

// emitTaken reports a run made ahead once the plan takes it: its events
// are held until then, so that a run dropped leaves no trace in a job's
// progress.
func (s *Selector) emitTaken(jobID string, a *aheadRun) {
	s.emit(Event{Kind: EventRunStarted, Job: jobID, Run: a.rec.ID})
	s.emit(Event{Kind: EventRunFinished, Job: jobID, Run: a.rec.ID, Status: string(a.res.Status), Seconds: a.rec.Duration.Seconds(), Cached: a.rec.Cached})
}

// errNotNeeded: the run was dropped from the plan before it got a slot.
var errNotNeeded = errors.New("run no longer needed")

// runOne runs one planned run: from the cache if it has it (and the run is
// not Fresh), else through the executor in a slot that slot takes (it
// returns the slot's release). With events, it reports the run's start and
// finish as they happen.
func (s *Selector) runOne(ctx context.Context, jobID string, r PlannedRun, slot func(context.Context) (func(), error), events bool) (RunRecord, executor.Result, error) {
	rec := RunRecord{ID: r.ID, Candidates: r.Candidates}
	cache := RunCache{Cache: s.Cache, Log: s.logger().With("run", r.ID)}
	res, cached, err := cache.Do(ctx, r, func(ctx context.Context) (executor.Result, error) {
		release, err := slot(ctx)
		if err != nil {
			return executor.Result{}, err
		}
		defer release()
		if s.Exec == nil {
			return executor.Result{}, fmt.Errorf("job %s: run %s: no executor configured (only execution-free jobs run without one)", jobID, r.ID)
		}
		if events {
			s.emit(Event{Kind: EventRunStarted, Job: jobID, Run: r.ID})
		}
		begin := time.Now()
		res, err := s.Exec.Run(ctx, r.Run)
		if err != nil {
			return res, fmt.Errorf("job %s: run %s: %w", jobID, r.ID, err)
		}
		rec.Duration = time.Since(begin)
		if events {
			s.emit(Event{Kind: EventRunFinished, Job: jobID, Run: r.ID, Status: string(res.Status), Seconds: rec.Duration.Seconds()})
		}
		s.logger().Debug("run finished", "job", jobID, "run", r.ID, "status", res.Status, "applied", res.Applied, "cases", len(res.Cases), "seconds", rec.Duration.Seconds(), "ahead", !events)
		return res, nil
	})
	if err != nil {
		return rec, res, err
	}
	rec.Status, rec.Applied, rec.Reason, rec.Cached = res.Status, res.Applied, res.Reason, cached
	if cached && events {
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
