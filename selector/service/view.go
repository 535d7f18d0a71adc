package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// watchStall bounds how long a daemon waits for its watch of a job's
// results to deliver a revision it knows is stored; past it, the view is
// rebuilt from scratch.
const watchStall = 30 * time.Second

// maxIdleViews bounds the views a daemon keeps with no run of their job in
// hand: past it, the least recently used are dropped (a later run of the
// job loads its view again). With viewIdle and the views of ended jobs
// dropped at once, it bounds the memory of jobs passing through.
const maxIdleViews = 64

// errJobGone: the job is not in the jobs bucket (never submitted, expired).
var errJobGone = errors.New("job not found")

// view is one daemon's picture of one job: the job, its plan without
// results, and every stored result with its revision, kept current by a
// key-value watch. The watch delivers results in revision order, so once
// it has delivered revision v, the view holds every result up to v: the
// exact prefix that the plan is replayed from.
type view struct {
	id        string
	submitted time.Time
	plan      *selector.Plan // no results; shared by every replay
	// open is true for an open job (wire.OpenJob): its candidates come in
	// batches (stream.go), and plans[e] is its plan after e of them (no
	// results; plans[0] is plan).
	open bool
	log  *slog.Logger

	ready chan struct{} // closed once loaded
	err   error         // why loading failed

	mu       sync.Mutex
	results  map[string]stored
	batches  []batch
	plans    []*selector.Plan
	seen     uint64        // highest revision delivered
	changed  chan struct{} // closed and replaced when seen grows
	inFlight map[string]context.CancelFunc
	lastUse  time.Time
	// ended: the job has ended (scored here, cancelled); the view is
	// dropped once no run of it is in hand.
	ended   bool
	watcher jetstream.KeyWatcher
	stop    context.CancelFunc
}

// stored is a result with its revision in the results bucket.
type stored struct {
	rev uint64
	res wire.RunResult
}

// views are the job views of one daemon, loaded on first use.
type views struct {
	d  *Daemon
	mu sync.Mutex
	m  map[string]*view
}

func newViews(d *Daemon) *views { return &views{d: d, m: map[string]*view{}} }

// get returns the view of a job, loading it (and starting its watch) if
// this daemon has none.
func (vs *views) get(ctx context.Context, id string) (*view, error) {
	vs.mu.Lock()
	v, ok := vs.m[id]
	var evicted []*view
	if !ok {
		evicted = vs.leastUsed(len(vs.m) + 1 - maxIdleViews)
		v = &view{id: id, ready: make(chan struct{}), results: map[string]stored{},
			changed: make(chan struct{}), inFlight: map[string]context.CancelFunc{}}
		vs.m[id] = v
	}
	v.mu.Lock()
	v.lastUse = time.Now()
	v.mu.Unlock()
	vs.mu.Unlock()
	for _, old := range evicted {
		vs.drop(old)
	}
	if !ok {
		v.err = vs.load(ctx, v)
		close(v.ready)
		if v.err != nil {
			vs.drop(v)
		}
	}
	select {
	case <-v.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return v, v.err
}

// leastUsed returns up to n loaded views with no run in hand, least
// recently used first. vs.mu is held.
func (vs *views) leastUsed(n int) []*view {
	if n <= 0 {
		return nil
	}
	type idle struct {
		v       *view
		lastUse time.Time
	}
	var all []idle
	for _, v := range vs.m {
		select {
		case <-v.ready:
		default:
			continue
		}
		v.mu.Lock()
		if len(v.inFlight) == 0 {
			all = append(all, idle{v, v.lastUse})
		}
		v.mu.Unlock()
	}
	slices.SortFunc(all, func(a, b idle) int { return a.lastUse.Compare(b.lastUse) })
	out := make([]*view, 0, min(n, len(all)))
	for _, i := range all[:min(n, len(all))] {
		out = append(out, i.v)
	}
	return out
}

// sortedRuns returns the run IDs of results in order.
func sortedRuns(m map[string]stored) []string {
	return slices.Sorted(maps.Keys(m))
}

// drop forgets a view and stops its watch; the next get loads it afresh.
func (vs *views) drop(v *view) {
	vs.mu.Lock()
	if vs.m[v.id] == v {
		delete(vs.m, v.id)
	}
	vs.mu.Unlock()
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.stop != nil {
		v.stop()
	}
	if v.watcher != nil {
		v.watcher.Stop()
	}
}

// load reads the job and starts watching its results.
func (vs *views) load(ctx context.Context, v *view) error {
	d := vs.d
	job, rec, err := d.loadJob(ctx, v.id)
	if err != nil {
		return err
	}
	plan, err := selector.NewPlan(job)
	if err != nil {
		return fmt.Errorf("job %s: stored job no longer plans: %w", v.id, err)
	}
	v.plan, v.submitted = plan, rec.Submitted
	v.open, v.log = job.Options.Stream != nil, d.log.With("job", v.id)
	v.mu.Lock()
	v.plans = []*selector.Plan{plan}
	v.mu.Unlock()
	watchCtx, stop := context.WithCancel(context.Background())
	w, err := d.store.results.Watch(watchCtx, v.id+".*")
	if err != nil {
		stop()
		return fmt.Errorf("job %s: watch its results: %w", v.id, err)
	}
	v.watcher, v.stop = w, stop
	go vs.pump(watchCtx, v, w)
	return nil
}

// pump moves the watch's results (and an open job's batches) into the
// view. It publishes the revision it has seen only once the initial values
// are all in (their order is the server's), and then with each live
// update, which come in revision order.
func (vs *views) pump(ctx context.Context, v *view, w jetstream.KeyWatcher) {
	initial := true
	var top uint64
	for e := range w.Updates() {
		if e == nil {
			initial = false
		} else if e.Operation() == jetstream.KeyValuePut {
			vs.take(ctx, v, e)
			top = max(top, e.Revision())
		}
		if initial {
			continue
		}
		v.mu.Lock()
		if top > v.seen {
			v.seen = top
			close(v.changed)
			v.changed = make(chan struct{})
		}
		v.mu.Unlock()
	}
}

// take puts one stored entry of the job into the view: a run's result, or
// a batch of an open job's candidates.
func (vs *views) take(ctx context.Context, v *view, e jetstream.KeyValueEntry) {
	run, err := runOfKey(e.Key())
	if err != nil {
		vs.d.log.Error("result key without a run ID; ignored", "key", e.Key())
		return
	}
	if n, ok := batchOf(run); ok {
		if rec, ok := vs.readBatch(ctx, v.id, e); ok {
			v.addBatch(n, e.Revision(), rec)
		}
		return
	}
	rr := vs.readResult(ctx, v.id, e)
	rr.Run = run
	// Neither the replay nor the report reads a run's output excerpt; a
	// view holds every result of its job.
	rr.Result.Output = ""
	v.mu.Lock()
	if _, dup := v.results[run]; !dup {
		v.results[run] = stored{rev: e.Revision(), res: rr}
	}
	v.mu.Unlock()
}

// readResult decodes a stored result, reading its object if it has one
// (retrying: the server may be restarting). A result that cannot be read
// fails closed: it counts as an infrastructure failure of that run
// (unknown, never a pass), so the job can still end.
func (vs *views) readResult(ctx context.Context, job string, e jetstream.KeyValueEntry) wire.RunResult {
	var rr wire.RunResult
	var err error
	for attempt := 1; ; attempt++ {
		var data []byte
		if data, err = vs.d.store.unwrap(ctx, e.Value()); err == nil {
			if err = json.Unmarshal(data, &rr); err == nil {
				return rr
			}
			break // stored wrong: reading again will not help
		}
		if attempt == 5 {
			break
		}
		select {
		case <-ctx.Done():
			return wire.RunResult{Job: job, Result: executor.Result{Status: executor.Infra, Reason: "view closed"}}
		case <-time.After(time.Duration(attempt) * time.Second):
		}
	}
	vs.d.log.Error("stored result unreadable; counting the run as an infrastructure failure", "job", job, "key", e.Key(), "err", err)
	return wire.RunResult{Job: job, Result: executor.Result{Status: executor.Infra, Reason: "stored result unreadable: " + err.Error()}}
}

// readBatch decodes a stored batch of an open job (retrying its object,
// as readResult does). A batch that cannot be read is left out, and logged:
// the plan goes on without its candidates.
func (vs *views) readBatch(ctx context.Context, job string, e jetstream.KeyValueEntry) (appendRecord, bool) {
	var rec appendRecord
	var err error
	for attempt := 1; attempt <= 5; attempt++ {
		var data []byte
		if data, err = vs.d.store.unwrap(ctx, e.Value()); err == nil {
			if err = json.Unmarshal(data, &rec); err == nil {
				return rec, true
			}
			break
		}
		select {
		case <-ctx.Done():
			return rec, false
		case <-time.After(time.Duration(attempt) * time.Second):
		}
	}
	vs.d.log.Error("stored append unreadable; its candidates are left out", "job", job, "key", e.Key(), "err", err)
	return rec, false
}

// waitSeen waits until the view holds every result up to revision rev.
func (v *view) waitSeen(ctx context.Context, rev uint64) error {
	stall := time.NewTimer(watchStall)
	defer stall.Stop()
	for {
		v.mu.Lock()
		seen, ch := v.seen, v.changed
		v.mu.Unlock()
		if seen >= rev {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-stall.C:
			return fmt.Errorf("job %s: the watch of its results has not delivered revision %d (at %d after %s)", v.id, rev, seen, watchStall)
		}
	}
}

// replay returns the plan holding the batches and the results with
// revision <= upTo (and < upTo when below is set).
func (v *view) replay(upTo uint64, below bool) *selector.Plan {
	v.mu.Lock()
	plan := v.planAt(v.batchesAt(upTo, below))
	v.mu.Unlock()
	return v.replayPlan(plan, upTo, below)
}

// replayPlan returns plan holding the results with revision <= upTo (and
// < upTo when below is set).
func (v *view) replayPlan(plan *selector.Plan, upTo uint64, below bool) *selector.Plan {
	v.mu.Lock()
	defer v.mu.Unlock()
	res := make(map[string]executor.Result, len(v.results))
	for run, s := range v.results {
		if s.rev < upTo || (!below && s.rev == upTo) {
			res[run] = s.res.Result
		}
	}
	return plan.WithResults(res)
}

// current is the plan with every result seen so far.
func (v *view) current() *selector.Plan {
	v.mu.Lock()
	seen := v.seen
	v.mu.Unlock()
	return v.replay(seen, false)
}

// records are the stored results of a plan's runs, for the report.
func (v *view) records(plan *selector.Plan) []selector.RunRecord {
	v.mu.Lock()
	defer v.mu.Unlock()
	var recs []selector.RunRecord
	for _, run := range sortedRuns(v.results) {
		if _, ok := plan.Result(run); !ok {
			continue
		}
		s := v.results[run]
		pr, _ := plan.Planned(run)
		r := s.res.Result
		recs = append(recs, selector.RunRecord{ID: run, Candidates: pr.Candidates, Status: r.Status,
			Applied: r.Applied, Reason: r.Reason, Cached: s.res.Cached, Duration: r.Duration})
	}
	return recs
}

// has reports whether the view holds a result for the run.
func (v *view) has(run string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	_, ok := v.results[run]
	return ok
}

// hasRevision reports whether the view holds a result with revision rev.
func (v *view) hasRevision(rev uint64) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, s := range v.results {
		if s.rev == rev {
			return true
		}
	}
	for _, b := range v.batches {
		if b.rev == rev {
			return true
		}
	}
	return false
}

// track registers the cancel function of a run in progress; the returned
// function unregisters it, and drops the view if its job has ended and no
// other run of it is in hand.
func (vs *views) track(v *view, run string, cancel context.CancelFunc) func() {
	v.mu.Lock()
	v.inFlight[run] = cancel
	v.mu.Unlock()
	return func() {
		v.mu.Lock()
		delete(v.inFlight, run)
		v.lastUse = time.Now()
		gone := v.ended && len(v.inFlight) == 0
		v.mu.Unlock()
		if gone {
			vs.drop(v)
		}
	}
}

// end notes that a view's job has ended: nothing of it is needed once no
// run of it is in hand, so the view is dropped then (now, if none is).
func (vs *views) end(v *view) {
	v.mu.Lock()
	v.ended = true
	gone := len(v.inFlight) == 0
	v.mu.Unlock()
	if gone {
		vs.drop(v)
	}
}

// cancelRuns stops this daemon's runs of the job.
func (v *view) cancelRuns() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, cancel := range v.inFlight {
		cancel()
	}
	return len(v.inFlight)
}

// lookup returns the loaded view of a job, if this daemon has one.
func (vs *views) lookup(id string) (*view, bool) {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	v, ok := vs.m[id]
	if !ok {
		return nil, false
	}
	select {
	case <-v.ready:
		return v, v.err == nil
	default:
		return nil, false
	}
}

// janitor drops views that have been idle for viewIdle.
func (vs *views) janitor(ctx context.Context) {
	t := time.NewTicker(viewIdle / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var idle []*view
		vs.mu.Lock()
		for _, v := range vs.m {
			select {
			case <-v.ready:
			default:
				continue
			}
			v.mu.Lock()
			if len(v.inFlight) == 0 && time.Since(v.lastUse) > viewIdle {
				idle = append(idle, v)
			}
			v.mu.Unlock()
		}
		vs.mu.Unlock()
		for _, v := range idle {
			vs.drop(v)
		}
	}
}

// close drops every view.
func (vs *views) close() {
	vs.mu.Lock()
	all := make([]*view, 0, len(vs.m))
	for _, v := range vs.m {
		all = append(all, v)
	}
	vs.mu.Unlock()
	for _, v := range all {
		<-v.ready
		vs.drop(v)
	}
}
