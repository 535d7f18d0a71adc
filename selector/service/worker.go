package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// retryDelay is how long a run whose executor failed waits before it is
// delivered again (to any daemon).
const retryDelay = 5 * time.Second

// slot is one worker slot: it pulls one run at a time, and only while it is
// free, so queued runs stay in the queue for whichever daemon is free
// first instead of piling up in one daemon's buffer. Shutdown ends a pull
// in progress at once (pullCtx).
func (d *Daemon) slot() {
	failures := 0
	for d.pulling.Load() {
		ctx, cancel := context.WithTimeout(d.pullCtx, pullWait)
		msg, err := d.work.Next(jetstream.FetchContext(ctx))
		cancel()
		if err != nil {
			if d.pullCtx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, jetstream.ErrNoMessages) {
				failures = 0
				continue
			}
			// The server is away (restarting) or the consumer is being
			// recreated: wait a little and pull again.
			failures++
			if failures == 1 || failures%30 == 0 {
				d.log.Warn("pulling runs failed; retrying", "err", err, "failures", failures)
			}
			select {
			case <-d.pullCtx.Done():
			case <-time.After(min(time.Duration(failures)*200*time.Millisecond, 2*time.Second)):
			}
			continue
		}
		failures = 0
		if !d.pulling.Load() {
			d.nak(msg, 0, "daemon stopping")
			continue
		}
		d.busy.Add(1)
		d.cfg.Metrics.Busy(1)
		d.handle(msg)
		d.cfg.Metrics.Busy(-1)
		d.busy.Add(-1)
	}
}

// nak hands a message back to the queue.
func (d *Daemon) nak(msg jetstream.Msg, delay time.Duration, why string) {
	var err error
	if delay > 0 {
		err = msg.NakWithDelay(delay)
	} else {
		err = msg.Nak()
	}
	if err != nil {
		d.log.Warn("run not handed back; it returns after the ack wait", "why", why, "err", err)
	}
}

// ack acknowledges a message and waits for the server to confirm, so that
// a step finished is not delivered again.
func (d *Daemon) ack(msg jetstream.Msg) {
	ctx, cancel := context.WithTimeout(context.Background(), d.cfg.opTimeout)
	defer cancel()
	if err := msg.DoubleAck(ctx); err != nil {
		d.log.Warn("ack not confirmed; the run may be delivered again (harmless: its result is stored)", "err", err)
	}
}

// delivery is one delivery of a work item, with what retrying it needs.
type delivery struct {
	msg  jetstream.Msg
	item wire.WorkItem
	n    uint64 // deliveries so far, this one included
	log  *slog.Logger
}

// handle takes one run from delivery to acknowledgement.
//
// A work item is checked against its job before anything waits on it: an
// item for a job that does not exist or has ended, a revision that is not
// one of the job's stored results, or a run the plan does not have is
// terminated at once (anyone who can publish to the work subjects could
// have sent it). Every other failure is retried, and every delivery counts
// against MaxAttempts.
func (d *Daemon) handle(msg jetstream.Msg) {
	meta, err := msg.Metadata()
	if err != nil {
		d.log.Error("work message without metadata; dropped", "err", err)
		msg.Term()
		return
	}
	var item wire.WorkItem
	if err := json.Unmarshal(msg.Data(), &item); err != nil || item.Job == "" || item.Run == "" ||
		wire.CheckJobID(item.Job) != nil || msg.Subject() != wire.WorkSubject(item.Job) {
		d.refuse(msg, d.log, "malformed work item", "subject", msg.Subject(), "data", truncate(msg.Data(), 200), "err", err)
		return
	}
	redelivered := meta.NumDelivered > 1
	if redelivered {
		d.cfg.Metrics.Redelivered()
	}
	log := d.log.With("job", item.Job, "run", item.Run, "delivery", meta.NumDelivered)
	dl := delivery{msg: msg, item: item, n: meta.NumDelivered, log: log}

	// Keep the message ours for as long as this takes: the run, storing
	// its result and the steps after it.
	working, stopWorking := context.WithCancel(context.Background())
	defer stopWorking()
	go d.keepAlive(working, msg)

	// ctx bounds the steps before the run; the run has its own context.
	// Both end when the daemon hands its runs back.
	ctx, cancel := context.WithTimeout(d.runCtx, d.cfg.opTimeout)
	defer cancel()
	v, err := d.views.get(ctx, item.Job)
	if errors.Is(err, errJobGone) {
		d.refuse(msg, log, "job not found")
		return
	}
	if err != nil {
		d.retry(dl, retryDelay, "job not loaded", err)
		return
	}
	runCtx, stopRun := context.WithCancel(d.runCtx)
	defer stopRun()
	untrack := d.views.track(v, item.Run, stopRun)
	defer untrack()
	c, ended, err := d.claim(ctx, item.Job)
	if err != nil {
		d.retry(dl, retryDelay, "end claim not read", err)
		return
	}
	if ended {
		d.views.end(v) // dropped once this item is done
	}
	if ended && c.State == wire.Cancelled {
		d.cfg.Metrics.Run("cancelled")
		d.ack(msg)
		return
	}
	if item.Run == wire.SelectRun {
		d.runWhole(runCtx, dl)
		return
	}
	if _, ok := batchOf(item.Run); ok {
		d.afterAppend(ctx, dl, v)
		return
	}

	// Stored already (a redelivery after the result was written): only
	// the steps after it are left.
	if e, err := d.store.results.Get(ctx, resultKey(item.Job, item.Run)); err == nil {
		d.cfg.Metrics.Run("duplicate")
		d.afterResult(dl, v, e.Revision(), true)
		return
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		d.retry(dl, retryDelay, "results not readable", err)
		return
	}
	if ended {
		d.refuse(msg, log, "job has ended", "state", c.State)
		return
	}

	// The plan that queued the run is the one after the result with the
	// item's revision: a revision that is not one of the job's results is
	// forged, and waiting for the view to reach it would never end.
	if ok, err := d.resultOf(ctx, v, item.Revision); err != nil {
		d.retry(dl, retryDelay, "revision not checked", err)
		return
	} else if !ok {
		d.refuse(msg, log, "revision is not one of the job's results", "revision", item.Revision)
		return
	}
	// Still needed? The plan that asked for it may since have learned that
	// it is not (a generated test does not compile on base). Decide on a
	// view at least as new as that plan.
	if err := v.waitSeen(ctx, item.Revision); err != nil {
		d.views.drop(v)
		d.retry(dl, 0, "results not caught up", err)
		return
	}
	// The run's definition comes from that view too: which generated
	// tests a follow-up run carries depends on the base results.
	plan := v.current()
	planned, ok := plan.Planned(item.Run)
	if !ok {
		d.refuse(msg, log, "run not in the job's plan")
		return
	}
	if !slices.ContainsFunc(plan.Needed(), func(r selector.PlannedRun) bool { return r.ID == item.Run }) {
		log.Debug("run no longer needed; skipped")
		d.cfg.Metrics.Run("skipped")
		d.ack(msg)
		return
	}

	rr, err := d.execute(runCtx, item, planned, meta.NumDelivered, log)
	switch {
	case err == nil:
	case runCtx.Err() != nil && d.handedBack.Load():
		log.Info("daemon stopping: run handed back")
		d.cfg.Metrics.Run("handed_back")
		d.nak(msg, 0, "daemon stopping")
		return
	case runCtx.Err() != nil:
		log.Info("run stopped: job cancelled")
		d.cfg.Metrics.Run("cancelled")
		d.ack(msg)
		return
	default:
		// execute stores an infrastructure result on the last attempt
		// rather than failing, so this is never the last one.
		log.Warn("run failed; it will be tried again", "err", err, "attempts_left", d.cfg.MaxAttempts-int(meta.NumDelivered))
		d.cfg.Metrics.Run("error")
		d.nak(msg, retryDelay, "executor error")
		return
	}
	// The run may have outlasted the first context by far.
	storeCtx, cancelStore := context.WithTimeout(context.Background(), d.cfg.opTimeout)
	defer cancelStore()
	rev, first, err := d.storeResult(storeCtx, rr)
	if err != nil {
		d.retry(dl, retryDelay, "result not stored", err)
		return
	}
	d.afterResult(dl, v, rev, redelivered || !first)
}

// resultOf reports whether rev is 0 (the job's first runs) or the revision
// of one of the job's stored results.
func (d *Daemon) resultOf(ctx context.Context, v *view, rev uint64) (bool, error) {
	if rev == 0 || v.hasRevision(rev) {
		return true, nil
	}
	m, err := d.store.resultLog.GetMsg(ctx, rev)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read result revision %d: %w", rev, err)
	}
	return strings.HasPrefix(m.Subject, d.store.resultSubjectPrefix(v.id)), nil
}

// refuse terminates a work item that can never be done: JetStream does not
// deliver it again.
func (d *Daemon) refuse(msg jetstream.Msg, log *slog.Logger, why string, attrs ...any) {
	log.Warn("work item refused: "+why+"; dropped", attrs...)
	d.cfg.Metrics.Run("refused")
	if err := msg.TermWithReason(why); err != nil {
		log.Warn("work item not terminated; it returns after the ack wait", "err", err)
	}
}

// retry hands a delivery back to be tried again after delay, or, once it
// has had MaxAttempts deliveries, gives up: the item is terminated and its
// job fails with the reason (never left waiting for ever). A daemon that is
// stopping hands it back at once.
func (d *Daemon) retry(dl delivery, delay time.Duration, why string, err error) {
	if d.handedBack.Load() {
		dl.log.Info("daemon stopping: step handed back", "step", why, "err", err)
		d.cfg.Metrics.Run("handed_back")
		d.nak(dl.msg, 0, "daemon stopping")
		return
	}
	if int(dl.n) < d.cfg.MaxAttempts {
		dl.log.Warn(why+"; handed back to be tried again", "err", err, "attempts_left", d.cfg.MaxAttempts-int(dl.n))
		d.cfg.Metrics.Run("error")
		d.nak(dl.msg, delay, why)
		return
	}
	reason := fmt.Sprintf("run %s: %s after %d deliveries, the last with: %v", dl.item.Run, why, dl.n, err)
	dl.log.Error("giving up: the job fails", "reason", reason)
	d.cfg.Metrics.Run("given_up")
	if err := dl.msg.TermWithReason("max attempts"); err != nil {
		dl.log.Warn("work item not terminated", "err", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.cfg.opTimeout)
	defer cancel()
	if err := d.endEarly(ctx, dl.item.Job, wire.Failed, reason); err != nil {
		dl.log.Error("the job could not be failed; it waits until it is cancelled or expires", "err", err)
	}
}

// truncate shortens data for a log line.
func truncate(data []byte, n int) string {
	if len(data) <= n {
		return string(data)
	}
	return string(data[:n]) + "..."
}

// keepAlive tells JetStream that a message is still being worked on.
func (d *Daemon) keepAlive(ctx context.Context, msg jetstream.Msg) {
	t := time.NewTicker(d.cfg.AckWait / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := msg.InProgress(); err != nil {
				d.log.Debug("in-progress signal not sent", "err", err)
			}
		}
	}
}

// execute produces a run's result: from the cache (unless the run is
// Fresh), from the executor, or, after MaxAttempts deliveries, an
// infrastructure failure. An error means no result: the run is to be tried
// again (or was stopped).
func (d *Daemon) execute(ctx context.Context, item wire.WorkItem, r selector.PlannedRun, delivery uint64, log *slog.Logger) (wire.RunResult, error) {
	rr := wire.RunResult{Job: item.Job, Run: item.Run, Key: r.Key, Daemon: d.name}
	cache := selector.RunCache{Cache: d.cfg.Cache, Log: log}
	res, cached, err := cache.Do(ctx, r, func(ctx context.Context) (executor.Result, error) {
		if int(delivery) > d.cfg.MaxAttempts {
			return executor.Result{Status: executor.Infra, Reason: fmt.Sprintf("the run was delivered %d times without a result (executor errors, or daemons that died or stopped during it)", delivery-1)}, nil
		}
		d.event(selector.Event{Kind: selector.EventRunStarted, Job: item.Job, Run: item.Run}, false)
		log.Debug("run started")
		begin := time.Now()
		res, err := d.cfg.Exec.Run(ctx, r.Run)
		if err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			if int(delivery) < d.cfg.MaxAttempts {
				return res, err
			}
			res = executor.Result{Status: executor.Infra, Reason: fmt.Sprintf("executor failed %d times, the last with: %v", delivery, err)}
		}
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if res.Duration == 0 {
			res.Duration = time.Since(begin)
		}
		d.cfg.Metrics.RunSeconds(time.Since(begin).Seconds())
		return res, nil
	})
	if err != nil {
		return rr, err
	}
	rr.Result, rr.Cached, rr.Finished = res, cached, time.Now().UTC()
	return rr, nil
}

// storeResult writes a result first-writer-wins and returns the revision
// of the stored result: ours (first), or the one that was there first.
func (d *Daemon) storeResult(ctx context.Context, rr wire.RunResult) (rev uint64, first bool, err error) {
	data, err := json.Marshal(rr)
	if err != nil {
		return 0, false, err
	}
	key := resultKey(rr.Job, rr.Run)
	env, object, err := d.store.wrap(ctx, "results/"+key+"/"+d.name, data)
	if err != nil {
		return 0, false, err
	}
	rev, err = d.store.results.Create(ctx, key, env)
	if errors.Is(err, jetstream.ErrKeyExists) {
		if object != "" {
			d.store.objects.Delete(ctx, object)
		}
		e, err := d.store.results.Get(ctx, key)
		if err != nil {
			return 0, false, fmt.Errorf("read the result stored first: %w", err)
		}
		d.cfg.Metrics.Run("duplicate")
		return e.Revision(), false, nil
	}
	if err != nil {
		return 0, false, err
	}
	outcome := string(rr.Result.Status)
	if rr.Cached {
		outcome = "cached"
	}
	d.cfg.Metrics.Run(outcome)
	d.event(selector.Event{Kind: selector.EventRunFinished, Job: rr.Job, Run: rr.Run, Status: string(rr.Result.Status),
		Cached: rr.Cached, Seconds: rr.Result.Duration.Seconds()}, false)
	return rev, true, nil
}

// afterResult does the steps that follow a stored result, then acks: it
// replays the plan up to the result's revision, queues the runs this
// result made necessary, and scores the job if this result completed it.
// Each step is idempotent, so a redelivered message redoes them safely.
func (d *Daemon) afterResult(dl delivery, v *view, rev uint64, redone bool) {
	ctx, cancel := context.WithTimeout(d.runCtx, 2*d.cfg.opTimeout)
	defer cancel()
	if err := v.waitSeen(ctx, rev); err != nil {
		d.views.drop(v)
		d.retry(dl, 0, "results not caught up", err)
		return
	}
	now, before := v.replay(rev, false), v.replay(rev, true)
	was := map[string]bool{}
	for _, r := range before.Needed() {
		was[r.ID] = true
	}
	var next []string
	for _, r := range now.Needed() {
		if !was[r.ID] && !v.has(r.ID) {
			next = append(next, r.ID)
		}
	}
	if err := d.enqueue(ctx, dl.item.Job, next, rev); err != nil {
		d.retry(dl, retryDelay, "follow-up runs not queued", err)
		return
	}
	if v.open {
		if err := d.standing(ctx, v, rev, now, before, dl.log); err != nil {
			d.retry(dl, retryDelay, "standing verdict not published", err)
			return
		}
	}
	// A job is scored once it is done and closed (an open job is closed by
	// an append; any other job is closed from the start).
	if now.Done() && now.Closed() && !(before.Done() && before.Closed()) {
		if err := d.score(ctx, v, now, rev, redone, dl.log); err != nil {
			d.retry(dl, retryDelay, "scoring not finished", err)
			return
		}
	}
	d.ack(dl.msg)
}

// afterAppend does the step after an open job's stored batch: the step
// after a result, at the batch's revision. An item whose revision is not
// that of the batch it names is refused.
func (d *Daemon) afterAppend(ctx context.Context, dl delivery, v *view) {
	// A revision that is not one of the job's is forged: waiting for the
	// view to reach it would never end.
	if ok, err := d.resultOf(ctx, v, dl.item.Revision); err != nil {
		d.retry(dl, retryDelay, "revision not checked", err)
		return
	} else if !ok || dl.item.Revision == 0 {
		d.refuse(dl.msg, dl.log, "revision is not one of the job's appends", "revision", dl.item.Revision)
		return
	}
	if err := v.waitSeen(ctx, dl.item.Revision); err != nil {
		d.views.drop(v)
		d.retry(dl, 0, "results not caught up", err)
		return
	}
	n, _ := batchOf(dl.item.Run)
	v.mu.Lock()
	ok := v.open && n <= len(v.batches) && v.batches[n-1].rev == dl.item.Revision
	v.mu.Unlock()
	if !ok {
		d.refuse(dl.msg, dl.log, "not one of the job's appends", "revision", dl.item.Revision)
		return
	}
	d.afterResult(dl, v, dl.item.Revision, dl.n > 1)
}

// score claims the job's end and publishes its verdict. The claim makes
// the result that completed the plan score it once; a step redone after
// the claimer died scores the same plan again (deterministic) and
// publishes under the same message ID.
func (d *Daemon) score(ctx context.Context, v *view, plan *selector.Plan, rev uint64, redone bool, log *slog.Logger) error {
	claim, _ := json.Marshal(endClaim{State: wire.Scoring, Daemon: d.name, Revision: rev, Time: time.Now().UTC()})
	if _, err := d.store.ends.Create(ctx, v.id, claim); err != nil {
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("claim the scoring: %w", err)
		}
		c, _, err := d.claim(ctx, v.id)
		if err != nil {
			return err
		}
		if c.State != wire.Scoring || c.Revision != rev || !redone {
			return nil // cancelled, or scored by the daemon that claimed it
		}
		if _, published, err := d.lastOutcome(ctx, v.id); err != nil || published {
			return err
		}
		log.Info("taking over the scoring of a daemon that stopped during it", "claimed_by", c.Daemon)
	}
	out := wire.Outcome{Job: v.id, State: wire.Done}
	rep, err := selector.Score(plan)
	if err != nil {
		out.State, out.Error = wire.Failed, err.Error()
	} else {
		rep.Runs = v.records(plan)
		rep.Duration = time.Since(v.submitted)
		r := wire.FromReport(rep)
		out.Report = &r
	}
	if _, _, err = d.finish(ctx, out); err == nil {
		d.views.end(v)
	}
	return err
}
