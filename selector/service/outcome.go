package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"

	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// event publishes a progress event on the job's events subject, which a
// stream keeps. Run events go out without waiting for JetStream's ack
// (progress is best-effort, runs must not wait for it); the terminal
// events are acked, so they are stored before the outcome is published.
func (d *Daemon) event(ev selector.Event, acked bool) {
	ev.Time = time.Now().UTC()
	data, err := json.Marshal(wire.FromEvent(ev))
	if err != nil {
		return
	}
	msg := &nats.Msg{Subject: wire.EventsSubject(ev.Job), Data: data, Header: nats.Header{}}
	msg.Header.Set(wire.DaemonHeader, d.name)
	if acked {
		// The terminal event, once per job: a scoring redone after a
		// failure (a server lost) publishes it again, and the stream keeps
		// one.
		msg.Header.Set(jetstream.MsgIDHeader, "end/"+ev.Job)
		ctx, cancel := context.WithTimeout(context.Background(), d.cfg.opTimeout)
		defer cancel()
		_, err = d.js.PublishMsg(ctx, msg)
	} else {
		err = d.nc.PublishMsg(msg)
	}
	if err != nil {
		d.log.Warn("progress event not published", "job", ev.Job, "kind", ev.Kind, "err", err)
	}
}

// finish publishes a job's outcome: the terminal event first, then the
// outcome on the job's verdict subject (de-duplicated by job ID: a redone
// scoring publishes once). A report too big for one message goes to the
// object store and the outcome names it. A verdict that abstained for want
// of evidence ends the job failed, with the reason; one that asks for more
// samples (below the job's min_confidence) ends it done: that is its answer.
func (d *Daemon) finish(ctx context.Context, out wire.Outcome) (wire.Outcome, []byte, error) {
	out.Finished = time.Now().UTC()
	if out.State == wire.Done && out.Report != nil && out.Report.Verdict.Abstained != "" && !out.Report.Verdict.SampleMore {
		// No evidence, no confident answer: the job failed, and its report
		// (what ran, what came of it) goes with the outcome.
		out.State, out.Error = wire.Failed, "abstained: "+out.Report.Verdict.Abstained
	}
	ev := selector.Event{Job: out.Job, Message: out.Error}
	switch out.State {
	case wire.Done:
		ev.Kind, ev.Chosen = selector.EventSelected, out.Report.Verdict.Chosen
	case wire.Cancelled:
		ev.Kind = selector.EventCancelled
	default:
		ev.Kind = selector.EventFailed
	}
	d.event(ev, true)
	data, err := json.Marshal(out)
	if err != nil {
		return out, nil, fmt.Errorf("job %s: encode outcome: %w", out.Job, err)
	}
	if len(data) > d.store.maxInline && out.Report != nil {
		rep, err := json.Marshal(out.Report)
		if err != nil {
			return out, nil, fmt.Errorf("job %s: encode report: %w", out.Job, err)
		}
		name := "verdicts/" + out.Job
		if _, err := d.store.objects.PutBytes(ctx, name, rep); err != nil {
			return out, nil, fmt.Errorf("job %s: store the report (%d bytes) as object %s: %w", out.Job, len(rep), name, err)
		}
		out.Report, out.ReportObject = nil, name
		if data, err = json.Marshal(out); err != nil {
			return out, nil, err
		}
	}
	msg := &nats.Msg{Subject: wire.VerdictSubject(out.Job), Data: data, Header: nats.Header{}}
	msg.Header.Set(jetstream.MsgIDHeader, out.Job)
	msg.Header.Set(wire.DaemonHeader, d.name)
	if _, err := d.js.PublishMsg(ctx, msg); err != nil {
		return out, nil, fmt.Errorf("job %s: publish the outcome: %w", out.Job, err)
	}
	d.cfg.Metrics.Job(string(out.State))
	d.observeJobSeconds(ctx, out)
	d.log.Info("job ended", "job", out.Job, "state", out.State, "chosen", ev.Chosen, "error", out.Error)
	return out, data, nil
}

// observeJobSeconds records a job's submit-to-outcome time, from its
// record's submission time. It reads the record only when metrics are on,
// after the outcome is out, so the client never waits for it.
func (d *Daemon) observeJobSeconds(ctx context.Context, out wire.Outcome) {
	if d.cfg.Metrics == nil {
		return
	}
	_, rec, err := d.readJobRecord(ctx, out.Job)
	if err != nil {
		d.log.Debug("job time not observed: its record is unreadable", "job", out.Job, "err", err)
		return
	}
	d.cfg.Metrics.JobSeconds(string(out.State), out.Finished.Sub(rec.Submitted).Seconds())
}

// lastOutcome returns a job's published outcome, if there is one.
func (d *Daemon) lastOutcome(ctx context.Context, id string) (wire.Outcome, bool, error) {
	var out wire.Outcome
	m, err := d.store.verdicts.GetLastMsgForSubject(ctx, wire.VerdictSubject(id))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return out, false, nil
	}
	if err != nil {
		return out, false, fmt.Errorf("job %s: read the outcome: %w", id, err)
	}
	if err := json.Unmarshal(m.Data, &out); err != nil {
		return out, false, fmt.Errorf("job %s: outcome unreadable: %w", id, err)
	}
	return out, true, nil
}

// claim reads a job's end claim, if any.
func (d *Daemon) claim(ctx context.Context, id string) (endClaim, bool, error) {
	c, rev, err := d.claimRevision(ctx, id)
	return c, rev > 0, err
}

// claimRevision reads a job's end claim and its revision in the ends
// bucket (0: no claim).
func (d *Daemon) claimRevision(ctx context.Context, id string) (endClaim, uint64, error) {
	var c endClaim
	e, err := d.store.ends.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return c, 0, nil
	}
	if err != nil {
		return c, 0, fmt.Errorf("job %s: read its end claim: %w", id, err)
	}
	if err := json.Unmarshal(e.Value(), &c); err != nil {
		return c, 0, fmt.Errorf("job %s: end claim unreadable: %w", id, err)
	}
	return c, e.Revision(), nil
}

// status reports where a job is.
func (d *Daemon) status(ctx context.Context, id string) (wire.Status, error) {
	_, rec, err := d.readJobRecord(ctx, id)
	if err != nil {
		return wire.Status{}, err
	}
	st := wire.Status{Job: id, Submitted: rec.Submitted, State: wire.Queued}
	if !rec.Fast {
		keys, err := d.store.results.ListKeysFiltered(ctx, id+".*")
		if err != nil {
			return st, fmt.Errorf("job %s: list its results: %w", id, err)
		}
		for key := range keys.Keys() {
			if run, err := runOfKey(key); err == nil {
				if _, isBatch := batchOf(run); !isBatch {
					st.RunsDone++
				}
			}
		}
		if st.RunsDone > 0 {
			st.State = wire.Running
		}
	}
	if c, ok, err := d.claim(ctx, id); err != nil {
		return st, err
	} else if ok {
		st.State = c.State
	}
	out, ok, err := d.lastOutcome(ctx, id)
	if err != nil {
		return st, err
	}
	if ok {
		st.State, st.Outcome = out.State, &out
		if rec.Fast && out.Report != nil {
			// A fast job stores no result: its runs are in its report.
			st.RunsDone = len(out.Report.Runs)
		}
	}
	return st, nil
}

// decodeJobRequest reads {"job": ID}.
func decodeJobRequest(req micro.Request) (string, error) {
	var jr wire.JobRequest
	if err := json.Unmarshal(req.Data(), &jr); err != nil {
		return "", invalid(fmt.Errorf(`request: want {"job": "ID"}: %w`, err))
	}
	if err := wire.CheckJobID(jr.Job); err != nil {
		return "", invalid(err)
	}
	return jr.Job, nil
}

// handleStatus answers a status request.
func (d *Daemon) handleStatus(ctx context.Context, req micro.Request) {
	id, err := decodeJobRequest(req)
	if err != nil {
		d.replyError(req, err)
		return
	}
	st, err := d.status(ctx, id)
	if err != nil {
		d.replyError(req, err)
		return
	}
	d.respondJSON(req, st)
}

// handleCancel cancels a job: it claims the job's end (so no daemon scores
// it), tells every daemon to stop its runs, drops its queued runs, and
// publishes the cancelled outcome. A job already scoring or ended is left
// as it is; the reply's state says which.
func (d *Daemon) handleCancel(ctx context.Context, req micro.Request) {
	id, err := decodeJobRequest(req)
	if err != nil {
		d.replyError(req, err)
		return
	}
	if _, _, err := d.readJobRecord(ctx, id); err != nil {
		d.replyError(req, err)
		return
	}
	if err := d.endEarly(ctx, id, wire.Cancelled, "cancelled on request"); err != nil {
		d.replyError(req, err)
		return
	}
	st, err := d.status(ctx, id)
	if err != nil {
		d.replyError(req, err)
		return
	}
	d.respondJSON(req, st)
}

// endEarly ends a job before it is scored, cancelled or failed: it claims
// the job's end (so no daemon scores it), tells every daemon to stop its
// runs, drops its queued runs, and publishes the outcome. A job whose end
// was claimed already (scoring, or ended) is left as it is.
func (d *Daemon) endEarly(ctx context.Context, id string, state wire.State, why string) error {
	claim, _ := json.Marshal(endClaim{State: state, Daemon: d.name, Time: time.Now().UTC()})
	if _, err := d.store.ends.Create(ctx, id, claim); errors.Is(err, jetstream.ErrKeyExists) {
		return nil
	} else if err != nil {
		return fmt.Errorf("job %s: claim its end: %w", id, err)
	}
	if err := d.nc.Publish(wire.CancelledSubject(id), nil); err != nil {
		d.log.Warn("stop broadcast failed; runs stop when their daemons next look", "job", id, "err", err)
	}
	if err := d.store.work.Purge(ctx, jetstream.WithPurgeSubject(wire.WorkSubject(id))); err != nil {
		d.log.Warn("queued runs of an ended job not purged; daemons will drop them", "job", id, "err", err)
	}
	_, _, err := d.finish(ctx, wire.Outcome{Job: id, State: state, Error: why})
	return err
}

// onCancelled stops this daemon's runs of a cancelled job.
func (d *Daemon) onCancelled(msg *nats.Msg) {
	id := msg.Subject[len(wire.CancelledSubject("")):]
	if v, ok := d.views.lookup(id); ok {
		if n := v.cancelRuns(); n > 0 {
			d.log.Info("cancelled job: runs stopped", "job", id, "runs", n)
		}
		d.views.end(v)
	}
}
