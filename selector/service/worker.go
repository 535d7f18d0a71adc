package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
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
// first instead of piling up in one daemon's buffer.
func (d *Daemon) slot() {
	failures := 0
	for d.pulling.Load() {
		msg, err := d.work.Next(jetstream.FetchMaxWait(pullWait))
		if err != nil {
			if errors.Is(err, nats.ErrTimeout) || errors.Is(err, jetstream.ErrNoMessages) {
				failures = 0
				continue
			}
			// The server is away (restarting) or the consumer is being
			// recreated: wait a little and pull again.
			failures++
			if failures == 1 || failures%30 == 0 {
				d.log.Warn("pulling runs failed; retrying", "err", err, "failures", failures)
			}
			time.Sleep(min(time.Duration(failures)*200*time.Millisecond, 2*time.Second))
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

// handle takes one run from delivery to acknowledgement.
func (d *Daemon) handle(msg jetstream.Msg) {
	meta, err := msg.Metadata()
	if err != nil {
		d.log.Error("work message without metadata; dropped", "err", err)
		msg.Term()
		return
	}
	var item wire.WorkItem
	if err := json.Unmarshal(msg.Data(), &item); err != nil || item.Job == "" || item.Run == "" {
		d.log.Error("malformed work item; dropped", "subject", msg.Subject(), "data", string(msg.Data()), "err", err)
		msg.TermWithReason("malformed work item")
		return
	}
	redelivered := meta.NumDelivered > 1
	if redelivered {
		d.cfg.Metrics.Redelivered()
	}
	log := d.log.With("job", item.Job, "run", item.Run, "delivery", meta.NumDelivered)

	// Keep the message ours for as long as this takes: the run, storing
	// its result and the steps after it.
	working, stopWorking := context.WithCancel(context.Background())
	defer stopWorking()
	go d.keepAlive(working, msg)

	// ctx bounds the steps before the run; the run has its own context.
	ctx, cancel := context.WithTimeout(context.Background(), d.cfg.opTimeout)
	defer cancel()
	v, err := d.views.get(ctx, item.Job)
	if errors.Is(err, errJobGone) {
		log.Warn("run of an unknown or expired job; dropped")
		msg.TermWithReason("job not found")
		return
	}
	if err != nil {
		log.Warn("job not loaded; run handed back", "err", err)
		d.nak(msg, retryDelay, "job not loaded")
		return
	}
	runCtx, stopRun := context.WithCancel(d.runCtx)
	defer stopRun()
	untrack := v.track(item.Run, stopRun)
	defer untrack()
	if c, ended, err := d.claim(ctx, item.Job); err != nil {
		log.Warn("end claim not read; run handed back", "err", err)
		d.nak(msg, retryDelay, "claim not read")
		return
	} else if ended && c.State == wire.Cancelled {
		d.cfg.Metrics.Run("cancelled")
		d.ack(msg)
		return
	}

	// Stored already (a redelivery after the result was written): only
	// the steps after it are left.
	if e, err := d.store.results.Get(ctx, resultKey(item.Job, item.Run)); err == nil {
		d.cfg.Metrics.Run("duplicate")
		d.afterResult(msg, v, item, e.Revision(), true, log)
		return
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		log.Warn("result bucket not readable; run handed back", "err", err)
		d.nak(msg, retryDelay, "results not readable")
		return
	}

	// Still needed? The plan that asked for it may since have learned that
	// it is not (a generated test does not compile on base). Decide on a
	// view at least as new as that plan.
	if err := v.waitSeen(ctx, item.Revision); err != nil {
		log.Warn("results not caught up; run handed back", "err", err)
		d.views.drop(v)
		d.nak(msg, 0, "view stalled")
		return
	}
	// The run's definition comes from that view too: which generated
	// tests a follow-up run carries depends on the base results.
	plan := v.current()
	planned, ok := plan.Planned(item.Run)
	if !ok {
		log.Error("work item names a run the job does not have; dropped")
		msg.TermWithReason("unknown run")
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
		log.Warn("result not stored; run handed back", "err", err)
		d.nak(msg, retryDelay, "result not stored")
		return
	}
	d.afterResult(msg, v, item, rev, redelivered || !first, log)
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
	if d.cfg.Cache != nil && !r.Fresh {
		if res, ok, err := d.cfg.Cache.Get(ctx, r.Key); err != nil {
			log.Warn("result cache read failed; running instead", "err", err)
		} else if ok {
			rr.Result, rr.Cached, rr.Finished = res, true, time.Now().UTC()
			return rr, nil
		}
	}
	if int(delivery) > d.cfg.MaxAttempts {
		rr.Result = executor.Result{Status: executor.Infra, Reason: fmt.Sprintf("the run was delivered %d times without a result (executor errors, or daemons that died or stopped during it)", delivery-1)}
		rr.Finished = time.Now().UTC()
		return rr, nil
	}
	d.event(selector.Event{Kind: selector.EventRunStarted, Job: item.Job, Run: item.Run}, false)
	log.Debug("run started")
	begin := time.Now()
	res, err := d.cfg.Exec.Run(ctx, r.Run)
	if err != nil {
		if ctx.Err() != nil {
			return rr, ctx.Err()
		}
		if int(delivery) < d.cfg.MaxAttempts {
			return rr, err
		}
		res = executor.Result{Status: executor.Infra, Reason: fmt.Sprintf("executor failed %d times, the last with: %v", delivery, err)}
	}
	if ctx.Err() != nil {
		return rr, ctx.Err()
	}
	if res.Duration == 0 {
		res.Duration = time.Since(begin)
	}
	d.cfg.Metrics.RunSeconds(time.Since(begin).Seconds())
	if d.cfg.Cache != nil && !r.Fresh && selector.Cacheable(res) {
		if err := d.cfg.Cache.Put(ctx, r.Key, res); err != nil {
			log.Warn("result cache write failed", "err", err)
		}
	}
	rr.Result, rr.Finished = res, time.Now().UTC()
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
func (d *Daemon) afterResult(msg jetstream.Msg, v *view, item wire.WorkItem, rev uint64, redone bool, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*d.cfg.opTimeout)
	defer cancel()
	if err := v.waitSeen(ctx, rev); err != nil {
		log.Warn("results not caught up; step handed back", "err", err)
		d.views.drop(v)
		d.nak(msg, 0, "view stalled")
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
	if err := d.enqueue(ctx, item.Job, next, rev); err != nil {
		log.Warn("follow-up runs not queued; step handed back", "err", err)
		d.nak(msg, retryDelay, "enqueue failed")
		return
	}
	if now.Done() && !before.Done() {
		if err := d.score(ctx, v, now, rev, redone, log); err != nil {
			log.Warn("scoring not finished; step handed back", "err", err)
			d.nak(msg, retryDelay, "scoring failed")
			return
		}
	}
	d.ack(msg)
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
		out.Report = &rep
	}
	return d.finish(ctx, out)
}
