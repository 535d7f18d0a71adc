package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"

	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// Open jobs (wire.OpenJob) keep their candidates as appends: each append
// is stored in the results bucket, under the job's key prefix like a run's
// result, as the batch "append/N", created first-writer-wins in order
// (append/N is only tried by a daemon that has seen append/N-1). So the
// job's results and its appends are one log, ordered by revision: the plan
// at any revision holds exactly the candidates and the results stored up
// to it, whichever daemon replays it, and the steps after an append are
// those after a result (afterResult): queue the runs it made necessary,
// publish a standing verdict once they are done, score the job once it is
// closed and done. An append is acknowledged only once stored, and the
// step after it is a work item, done by whichever daemon takes it: a
// daemon that dies holding an open job loses no candidate and no verdict.

// appendPrefix starts the name of an open job's batches.
const appendPrefix = "append/"

// appendRun names batch n of an open job (in the results bucket and in
// the work item of the step after it).
func appendRun(n int) string { return fmt.Sprintf("%s%d", appendPrefix, n) }

// batchOf is the number of a batch's name; ok is false for a run's.
func batchOf(run string) (int, bool) {
	s, ok := strings.CutPrefix(run, appendPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n > 0
}

// appendRecord is a stored batch. Internal: between daemons of one
// release.
type appendRecord struct {
	Candidates []scoring.Candidate `json:"candidates,omitempty"`
	Close      bool                `json:"close,omitempty"`
	Daemon     string              `json:"daemon"`
	Stored     time.Time           `json:"stored"`
}

// batch is a stored batch, as a view holds it.
type batch struct {
	rev uint64
	appendRecord
}

// handleOpen opens a job: it is submitted as any job (stored, its first
// runs queued: the base starts at once), and marked open by its stop rule.
func (d *Daemon) handleOpen(ctx context.Context, req micro.Request) {
	job, plan, err := d.decodeJob(ctx, req, true)
	if err != nil {
		d.cfg.Metrics.Job("invalid")
		d.log.Info("open job refused", "err", err)
		d.replyError(req, err)
		return
	}
	reply, _, err := d.accept(ctx, job, plan, req.Headers().Get(wire.JobObjectHeader))
	if err != nil {
		if _, ok := errors.AsType[*requestError](err); !ok {
			d.log.Error("open job not accepted", "job", job.ID, "err", err)
		}
		d.replyError(req, err)
		return
	}
	d.respondJSON(req, reply)
}

// handleAppend stores a batch of candidates of an open job, queues the
// step after it, and replies once both are stored.
func (d *Daemon) handleAppend(ctx context.Context, req micro.Request) {
	reply, err := d.appendBatch(ctx, req)
	if err != nil {
		if _, ok := errors.AsType[*requestError](err); !ok {
			d.log.Error("append not stored", "subject", req.Subject(), "err", err)
		}
		d.replyError(req, err)
		return
	}
	d.respondJSON(req, reply)
}

func (d *Daemon) appendBatch(ctx context.Context, req micro.Request) (wire.AppendReply, error) {
	id := strings.TrimPrefix(req.Subject(), wire.AppendSubject(""))
	if err := wire.CheckJobID(id); err != nil {
		return wire.AppendReply{}, invalid(err)
	}
	var app wire.Append
	dec := json.NewDecoder(bytes.NewReader(req.Data()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&app); err != nil {
		return wire.AppendReply{}, invalid(fmt.Errorf("%w: %w", selector.ErrInvalidJob, jsonProblem("append", req.Data(), err)))
	}
	if len(app.Candidates) == 0 && !app.Close {
		return wire.AppendReply{}, invalid(fmt.Errorf("%w: job %s: the append has no candidate and does not close the job: send candidates, or \"close\": true", selector.ErrInvalidJob, id))
	}
	cands := wire.CandidatesToSelector(app.Candidates)
	v, err := d.views.get(ctx, id)
	if err != nil {
		return wire.AppendReply{}, err
	}
	if !v.open {
		return wire.AppendReply{}, invalid(fmt.Errorf("%w: job %s was submitted with all its candidates: only a job opened on %s takes appends", selector.ErrInvalidJob, id, wire.OpenSubject))
	}
	for {
		if c, ended, err := d.claim(ctx, id); err != nil {
			return wire.AppendReply{}, err
		} else if ended && c.State != wire.Scoring {
			return wire.AppendReply{}, invalid(fmt.Errorf("%w: job %s has ended (%s): it takes no more candidates", selector.ErrInvalidJob, id, c.State))
		}
		n, plan, rec, done := v.latest(cands, app.Close)
		if done != nil {
			// Stored before (a client retrying an append whose reply it
			// lost): queue its step again, which is de-duplicated.
			if err := d.enqueue(ctx, id, []string{appendRun(done.n)}, done.rev); err != nil {
				return wire.AppendReply{}, err
			}
			return wire.AppendReply{Job: id, Batch: done.n, Samples: done.samples, Closed: done.closed, Existing: true}, nil
		}
		if plan.Closed() {
			return wire.AppendReply{}, invalid(fmt.Errorf("%w: job %s is closed: it takes no more candidates", selector.ErrInvalidJob, id))
		}
		samples := len(plan.Job().Candidates)
		if len(cands) > 0 {
			next, err := plan.Extend(cands)
			if err != nil {
				return wire.AppendReply{}, invalid(err)
			}
			samples = len(next.Job().Candidates)
		}
		rec.Daemon, rec.Stored = d.name, time.Now().UTC()
		data, err := json.Marshal(rec)
		if err != nil {
			return wire.AppendReply{}, err
		}
		key := resultKey(id, appendRun(n))
		env, object, err := d.store.wrap(ctx, "appends/"+id+"/"+strconv.Itoa(n)+"/"+d.name, data)
		if err != nil {
			return wire.AppendReply{}, fmt.Errorf("job %s: store append %d: %w", id, n, err)
		}
		rev, err := d.store.results.Create(ctx, key, env)
		if errors.Is(err, jetstream.ErrKeyExists) {
			// Another append took this number: catch up with it, and try
			// the next one.
			if object != "" {
				d.store.objects.Delete(ctx, object)
			}
			e, err := d.store.results.Get(ctx, key)
			if err != nil {
				return wire.AppendReply{}, fmt.Errorf("job %s: read append %d: %w", id, n, err)
			}
			if err := v.waitSeen(ctx, e.Revision()); err != nil {
				d.views.drop(v)
				return wire.AppendReply{}, err
			}
			continue
		}
		if err != nil {
			return wire.AppendReply{}, fmt.Errorf("job %s: store append %d: %w", id, n, err)
		}
		if err := d.enqueue(ctx, id, []string{appendRun(n)}, rev); err != nil {
			return wire.AppendReply{}, err
		}
		d.log.Info("candidates appended", "job", id, "batch", n, "candidates", len(cands), "samples", samples, "close", app.Close)
		return wire.AppendReply{Job: id, Batch: n, Samples: samples, Closed: app.Close}, nil
	}
}

// storedBatch is a batch found stored already.
type storedBatch struct {
	n       int
	rev     uint64
	samples int
	closed  bool
}

// latest returns, for an append of cands (and close), the number the next
// batch would take, the plan of every batch the view holds (no results),
// and the record to store; or, when these candidates were appended before
// (the same IDs, the same patches: a retry) or the job is closed and the
// append only closes it, that batch.
func (v *view) latest(cands []scoring.Candidate, close bool) (int, *selector.Plan, appendRecord, *storedBatch) {
	v.mu.Lock()
	defer v.mu.Unlock()
	plan := v.planAt(len(v.batches))
	samples := 0
	for i, b := range v.batches {
		samples += len(b.Candidates)
		if len(cands) > 0 && sameCandidates(b.Candidates, cands) {
			total := len(v.plans[0].Job().Candidates) + samples
			return 0, nil, appendRecord{}, &storedBatch{n: i + 1, rev: b.rev, samples: total, closed: b.Close}
		}
		if len(cands) == 0 && close && b.Close {
			return 0, nil, appendRecord{}, &storedBatch{n: i + 1, rev: b.rev, samples: len(plan.Job().Candidates), closed: true}
		}
	}
	return len(v.batches) + 1, plan, appendRecord{Candidates: cands, Close: close}, nil
}

// sameCandidates reports whether two batches hold the same candidates.
func sameCandidates(a, b []scoring.Candidate) bool {
	return slices.EqualFunc(a, b, func(x, y scoring.Candidate) bool { return x.ID == y.ID && x.Patch == y.Patch })
}

// planAt is the plan after the first e batches, without results, built
// once. Call with v.mu held.
func (v *view) planAt(e int) *selector.Plan {
	for i := len(v.plans); i <= e; i++ {
		prev, b := v.plans[i-1], v.batches[i-1]
		p := prev
		if len(b.Candidates) > 0 {
			next, err := prev.Extend(b.Candidates)
			if err != nil {
				// Stored by no daemon of this release (each checks an append
				// before storing it): left out.
				v.log.Error("stored append does not extend the job; left out", "batch", i, "err", err)
			} else {
				p = next
			}
		}
		if b.Close {
			p = p.Close()
		}
		v.plans = append(v.plans, p)
	}
	return v.plans[e]
}

// batchesAt counts the batches stored up to revision upTo (below it when
// below is set). Call with v.mu held.
func (v *view) batchesAt(upTo uint64, below bool) int {
	n := 0
	for _, b := range v.batches {
		if b.rev < upTo || (!below && b.rev == upTo) {
			n++
		}
	}
	return n
}

// addBatch takes a stored batch into the view; batches come in order.
func (v *view) addBatch(n int, rev uint64, rec appendRecord) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if n != len(v.batches)+1 {
		if n > len(v.batches) {
			v.log.Error("append out of order; left out", "batch", n, "have", len(v.batches))
		}
		return
	}
	v.batches = append(v.batches, batch{rev: rev, appendRecord: rec})
}

// standing publishes an open job's standing verdict when the state at
// revision rev is done and the state below it was not (or held fewer
// batches): after each append whose runs are done, one verdict. A step
// redone publishes the same verdict under the same message ID.
func (d *Daemon) standing(ctx context.Context, v *view, rev uint64, now, before *selector.Plan, log *slog.Logger) error {
	v.mu.Lock()
	eNow, eBefore := v.batchesAt(rev, false), v.batchesAt(rev, true)
	v.mu.Unlock()
	if !now.Done() || (before.Done() && eNow == eBefore) {
		return nil
	}
	return d.publishStanding(ctx, v, rev, eNow, now, log)
}

// publishStanding scores the plan after e batches (done) and publishes
// its standing verdict: the stop rule reads it and the verdict before the
// last batch that added candidates.
func (d *Daemon) publishStanding(ctx context.Context, v *view, rev uint64, e int, plan *selector.Plan, log *slog.Logger) error {
	n := len(plan.Job().Candidates)
	if n == 0 {
		return nil
	}
	rep, err := selector.Score(plan)
	if err != nil {
		return fmt.Errorf("job %s: score batch %d: %w", v.id, e, err)
	}
	prev := v.previous(rev, e, n)
	rule := scoring.StopRule{}
	if r := plan.Job().Options.Stream; r != nil {
		rule = *r
	}
	st := rule.Recommend(rep.Verdict, prev, n)
	msg := wire.FromStanding(v.id, e, plan.Closed(), st, rep.Verdict)
	msg.Time = time.Now().UTC()
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if len(data) > d.store.maxInline {
		// The ranking of a thousand candidates: the standing verdict goes
		// out without it (the outcome, once closed, has it all).
		msg.Verdict.Ranking = nil
		msg.Verdict.Notes = append(msg.Verdict.Notes, "ranking left out: too big for one message")
		if data, err = json.Marshal(msg); err != nil {
			return err
		}
	}
	m := &nats.Msg{Subject: wire.StandingSubject(v.id), Data: data, Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s/standing/%d", v.id, e))
	m.Header.Set(wire.DaemonHeader, d.name)
	if _, err := d.js.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("job %s: publish the standing verdict of batch %d: %w", v.id, e, err)
	}
	log.Info("standing verdict", "batch", e, "samples", n, "choice", st.Choice, "recommendation", st.Recommendation, "final", plan.Closed())
	return nil
}

// previous is the verdict before the last batch that added candidates to
// the state after e batches (at revision rev): nil when there is none, or
// its runs are not all in.
func (v *view) previous(rev uint64, e, n int) *scoring.Verdict {
	for i := e - 1; i >= 0; i-- {
		v.mu.Lock()
		plan := v.planAt(i)
		v.mu.Unlock()
		if len(plan.Job().Candidates) == n {
			continue
		}
		if len(plan.Job().Candidates) == 0 {
			return nil
		}
		p := v.replayPlan(plan, rev, false)
		if !p.Done() {
			return nil
		}
		rep, err := selector.Score(p)
		if err != nil {
			return nil
		}
		return &rep.Verdict
	}
	return nil
}
