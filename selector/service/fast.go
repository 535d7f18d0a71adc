package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// The fast path. A job that needs nothing from the work queue is answered
// in the submit request itself: an execution-free job ("execution":
// "none"), a job whose plan has nothing to run, or one whose every run
// (follow-ups included) this daemon's result cache answers. Such a job is
// stored (the jobs bucket, marked fast), its end claimed, its terminal
// event and outcome published, as any job's; what it skips is the queue,
// the results bucket and the per-job view with its watch, which cost a job
// of cached runs tens of milliseconds and kept its results in memory.
// Its report lists the cached runs, and its status counts them.
//
// A daemon that stops between claiming such a job's scoring and
// publishing its outcome leaves the claim behind; a resubmission of the
// job takes it over once the request that made it has timed out
// (resubmitFast).

// fastJob is a job completed without the queue, when fastPlan could.
type fastJob struct {
	ok bool
	// plan holds every result the job needs.
	plan *selector.Plan
	// runs are the runs the result cache answered, for the report.
	runs []selector.RunRecord
}

// fastPlan completes a copy of plan without the queue, from this daemon's
// result cache, when it can: not for a job with model work, nor when a
// needed run is not in the cache or must run afresh (a repeated base run).
func (d *Daemon) fastPlan(ctx context.Context, job selector.Job, plan *selector.Plan) fastJob {
	if len(job.Options.ModelWork()) > 0 || job.Options.Stream != nil {
		// An open job's candidates come later, through the results bucket.
		return fastJob{}
	}
	done := plan.WithResults(nil)
	var runs []selector.RunRecord
	for need := done.Needed(); len(need) > 0; need = done.Needed() {
		if d.cfg.Cache == nil {
			return fastJob{}
		}
		for _, r := range need {
			if r.Fresh {
				return fastJob{}
			}
			res, ok, err := d.cfg.Cache.Get(ctx, r.Key)
			if err != nil {
				d.log.Warn("result cache read failed; the job goes through the queue", "job", job.ID, "run", r.ID, "err", err)
				return fastJob{}
			}
			if !ok {
				return fastJob{}
			}
			if err := done.Record(r.ID, res); err != nil {
				return fastJob{}
			}
			runs = append(runs, selector.RunRecord{ID: r.ID, Candidates: r.Candidates, Status: res.Status,
				Applied: res.Applied, Reason: res.Reason, Cached: true, Duration: res.Duration})
		}
	}
	slices.SortFunc(runs, func(a, b selector.RunRecord) int { return strings.Compare(a.ID, b.ID) })
	return fastJob{ok: true, plan: done, runs: runs}
}

// taken reports whether a conditional write lost to another writer.
func taken(err error) bool {
	return errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch)
}

// answer claims the end of a fast job (replacing the stale claim at
// revision takeOver, if not 0), scores it and publishes its outcome. A
// claim that someone else holds (a cancellation, another daemon answering
// the same job) leaves the job to them: the state returned is theirs.
func (d *Daemon) answer(ctx context.Context, id string, f fastJob, submitted time.Time, takeOver uint64) (wire.State, []byte, error) {
	claim, _ := json.Marshal(endClaim{State: wire.Scoring, Daemon: d.name, Time: time.Now().UTC(), Fast: true})
	var err error
	if takeOver == 0 {
		_, err = d.store.ends.Create(ctx, id, claim)
	} else {
		_, err = d.store.ends.Update(ctx, id, claim, takeOver)
	}
	if taken(err) {
		c, _, err := d.claim(ctx, id)
		return c.State, nil, err
	}
	if err != nil {
		return wire.Queued, nil, fmt.Errorf("job %s: claim the scoring: %w", id, err)
	}
	for _, r := range f.runs {
		d.cfg.Metrics.Run("cached")
		d.event(selector.Event{Kind: selector.EventRunFinished, Job: id, Run: r.ID, Status: string(r.Status),
			Cached: true, Seconds: r.Duration.Seconds()}, false)
	}
	out := wire.Outcome{Job: id, State: wire.Done}
	rep, err := selector.Score(f.plan)
	if err != nil {
		out.State, out.Error = wire.Failed, err.Error()
	} else {
		rep.Runs = f.runs
		rep.Duration = time.Since(submitted)
		r := wire.FromReport(rep)
		out.Report = &r
	}
	out, data, err := d.finish(ctx, out)
	if err != nil {
		return wire.Scoring, nil, err
	}
	return out.State, data, nil
}

// resubmitFast answers the resubmission of a job that the fast path took:
// with its outcome once it is published. A scoring claim without an
// outcome is left alone while the daemon that made it may still publish
// (for as long as its request may last, opTimeout); past that, that daemon
// stopped before publishing, and this one takes the job over, on its own
// fast path when its result cache answers the job, else through the queue
// (the job's record says so first, so that no daemon answers it fast
// again).
func (d *Daemon) resubmitFast(ctx context.Context, job selector.Job, plan *selector.Plan, jobRev uint64, rec jobRecord, f fastJob) (wire.SubmitReply, []byte, error) {
	reply := wire.SubmitReply{Job: job.ID, State: wire.Queued, Existing: true}
	out, published, err := d.lastOutcome(ctx, job.ID)
	if err != nil {
		return reply, nil, err
	}
	if published {
		reply.State = out.State
		data, err := json.Marshal(out)
		return reply, data, err
	}
	c, claimRev, err := d.claimRevision(ctx, job.ID)
	if err != nil {
		return reply, nil, err
	}
	if claimRev > 0 {
		reply.State = c.State
		if c.State != wire.Scoring || time.Since(c.Time) < d.cfg.opTimeout {
			return reply, nil, nil // its outcome is on its way
		}
		d.log.Warn("taking over a job whose fast scoring never published", "job", job.ID, "claimed_by", c.Daemon, "claimed", c.Time)
	}
	if f.ok {
		var data []byte
		reply.State, data, err = d.answer(ctx, job.ID, f, rec.Submitted, claimRev)
		return reply, data, err
	}
	rec.Fast = false
	data, err := json.Marshal(rec)
	if err != nil {
		return reply, nil, err
	}
	if _, err := d.store.jobs.Update(ctx, job.ID, data, jobRev); taken(err) {
		return reply, nil, nil // another resubmission took it over
	} else if err != nil {
		return reply, nil, fmt.Errorf("job %s: hand it to the queue: %w", job.ID, err)
	}
	if claimRev > 0 {
		if err := d.store.ends.Delete(ctx, job.ID, jetstream.LastRevision(claimRev)); err != nil && !taken(err) {
			return reply, nil, fmt.Errorf("job %s: drop the stale scoring claim: %w", job.ID, err)
		}
	}
	reply.State = wire.Queued
	return reply, nil, d.enqueue(ctx, job.ID, firstWork(job, plan), 0)
}
