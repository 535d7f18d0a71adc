package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// Jobs that ask for model work (generated tests, judge scores, adversarial
// tests) interleave model requests with runs: a generated test is kept
// only once a base run shows it fails there, and an adversarial round runs
// the test the model wrote after the verdict. Such a job is not spread
// over the queue run by run: it is queued as one work item
// (wire.SelectRun) that one daemon runs whole with the selector, its
// executor, result cache and model endpoint (Config.Models), holding the
// message as it holds a run's. A daemon that dies during it hands the item
// to another, which runs the job again (finished runs come from its result
// cache, answers from the endpoint's cache when one is configured).

// checkModelWork refuses a job that asks for model work when this daemon
// has no model endpoint: it would run without the evidence it asked for.
func (d *Daemon) checkModelWork(job selector.Job) error {
	work := job.Options.ModelWork()
	if len(work) == 0 || d.cfg.Models != nil {
		return nil
	}
	return invalid(fmt.Errorf("%w: job %s asks for %s, but this daemon has no model endpoint: start bestpatch serve with --llm-url URL --llm-model NAME (docs/GENERATOR.md), or drop %s from the job's options",
		selector.ErrInvalidJob, job.ID, strings.Join(work, " and "), strings.Join(work, " and ")))
}

// firstWork is what accepting a job queues: the plan's first runs, or the
// one item that runs a job with model work whole.
func firstWork(job selector.Job, plan *selector.Plan) []string {
	if len(job.Options.ModelWork()) > 0 {
		return []string{wire.SelectRun}
	}
	var first []string
	for _, r := range plan.Needed() {
		first = append(first, r.ID)
	}
	return first
}

// runWhole runs a job with model work from start to verdict on this
// daemon, publishes its outcome and acks the item. A failure without a
// verdict (the executor's, or this daemon having no endpoint) is retried
// as a run's is, up to MaxAttempts deliveries; then the job fails.
func (d *Daemon) runWhole(runCtx context.Context, dl delivery) {
	msg, log := dl.msg, dl.log
	ctx, cancel := context.WithTimeout(runCtx, d.cfg.opTimeout)
	job, _, err := d.loadJob(ctx, dl.item.Job)
	var published bool
	if err == nil {
		// Redelivered after its outcome was out: nothing is left to do.
		_, published, err = d.lastOutcome(ctx, dl.item.Job)
	}
	cancel()
	switch {
	case err != nil:
		d.retry(dl, retryDelay, "job not loaded", err)
		return
	case published:
		d.ack(msg)
		return
	case len(job.Options.ModelWork()) == 0 || dl.item.Revision != 0:
		// Only accepting a job with model work queues this item.
		d.refuse(msg, log, "whole-job item for a job without model work")
		return
	case d.cfg.Models == nil:
		// Another daemon accepted it; one with an endpoint may take it.
		d.retry(dl, retryDelay, "no model endpoint on this daemon", fmt.Errorf("the job asks for %s: start every daemon with the same --llm-url", strings.Join(job.Options.ModelWork(), " and ")))
		return
	}
	sel := &selector.Selector{
		Exec: d.cfg.Exec, Cache: d.cfg.Cache, Pool: d.wholePool, Log: log, Models: d.cfg.Models,
		OnEvent: func(e selector.Event) {
			// Accepted was published at submit; the end is finish's.
			if e.Kind == selector.EventRunStarted || e.Kind == selector.EventRunFinished {
				d.event(e, false)
			}
		},
	}
	log.Info("job with model work runs whole on this daemon", "asks", strings.Join(job.Options.ModelWork(), ","))
	out := wire.Outcome{Job: job.ID, State: wire.Done}
	rep, err := sel.Select(runCtx, job)
	switch {
	case runCtx.Err() != nil && d.handedBack.Load():
		log.Info("daemon stopping: job handed back")
		d.cfg.Metrics.Run("handed_back")
		d.nak(msg, 0, "daemon stopping")
		return
	case runCtx.Err() != nil:
		log.Info("job stopped: cancelled")
		d.cfg.Metrics.Run("cancelled")
		d.ack(msg)
		return
	case errors.Is(err, selector.ErrInvalidJob):
		out.State, out.Error = wire.Failed, err.Error()
	case err != nil:
		d.retry(dl, retryDelay, "job failed", err)
		return
	default:
		r := wire.FromReport(rep)
		out.Report = &r
	}
	ctx, cancel = context.WithTimeout(context.Background(), d.cfg.opTimeout)
	defer cancel()
	if err := d.endWhole(ctx, out); err != nil {
		d.retry(dl, retryDelay, "outcome not published", err)
		return
	}
	d.ack(msg)
}

// endWhole claims the end of a job run whole and publishes its outcome,
// unless it was cancelled or its outcome is out already (a redelivery
// after the daemon that claimed it died).
func (d *Daemon) endWhole(ctx context.Context, out wire.Outcome) error {
	claim, _ := json.Marshal(endClaim{State: wire.Scoring, Daemon: d.name, Time: time.Now().UTC()})
	if _, err := d.store.ends.Create(ctx, out.Job, claim); err != nil {
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("claim the end: %w", err)
		}
		c, _, err := d.claim(ctx, out.Job)
		if err != nil {
			return err
		}
		if c.State != wire.Scoring {
			return nil // cancelled
		}
		if _, published, err := d.lastOutcome(ctx, out.Job); err != nil || published {
			return err
		}
	}
	_, _, err := d.finish(ctx, out)
	return err
}
