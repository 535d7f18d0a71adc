package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/nats-io/nuid"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// requestError is an error reply: a wire code and a message for people.
type requestError struct {
	code string
	err  error
}

func (e *requestError) Error() string { return e.err.Error() }
func (e *requestError) Unwrap() error { return e.err }

func invalid(err error) error { return &requestError{wire.CodeInvalid, err} }

// replyError sends an error reply: the code and message in the micro error
// headers, and an ErrorReply body for clients that only read bodies.
func (d *Daemon) replyError(req micro.Request, err error) {
	code := wire.CodeInternal
	if re, ok := errors.AsType[*requestError](err); ok {
		code = re.code
	}
	body, _ := json.Marshal(wire.ErrorReply{Code: code, Error: err.Error()})
	if rerr := req.Error(code, oneLine(err.Error()), body); rerr != nil {
		d.log.Warn("error reply not sent", "subject", req.Subject(), "err", rerr)
	}
}

// oneLine makes a message fit in a header value.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func (d *Daemon) respondJSON(req micro.Request, v any) {
	if err := req.RespondJSON(v); err != nil {
		d.log.Warn("reply not sent", "subject", req.Subject(), "err", err)
	}
}

// handleSubmit accepts a job: it validates and stores it, queues its first
// runs, and replies the job ID (or, with WaitHeader, the outcome).
func (d *Daemon) handleSubmit(ctx context.Context, req micro.Request) {
	job, plan, err := d.decodeJob(ctx, req, false)
	if err != nil {
		d.cfg.Metrics.Job("invalid")
		d.log.Info("job refused", "err", err)
		d.replyError(req, err)
		return
	}
	reply, outcome, err := d.accept(ctx, job, plan, req.Headers().Get(wire.JobObjectHeader))
	if err != nil {
		if _, ok := errors.AsType[*requestError](err); !ok {
			d.log.Error("job not accepted", "job", job.ID, "err", err)
		}
		d.replyError(req, err)
		return
	}
	switch {
	case !strings.EqualFold(req.Headers().Get(wire.WaitHeader), "true"):
		d.respondJSON(req, reply)
	case outcome != nil:
		// Answered already (the fast path, or a job that had ended).
		if err := req.Respond(outcome); err != nil {
			d.log.Warn("reply not sent", "subject", req.Subject(), "err", err)
		}
	default:
		d.waiters.Go(func() { d.replyWhenDone(req, job.ID) })
	}
}

// replyWhenDone answers a waiting submit with the job's outcome.
func (d *Daemon) replyWhenDone(req micro.Request, id string) {
	out, err := d.client.Outcome(d.bgCtx, id)
	if err != nil {
		if d.bgCtx.Err() != nil {
			err = &requestError{wire.CodeUnavailable, fmt.Errorf("job %s: the daemon that was waiting is shutting down; the job goes on: ask %s for its outcome", id, wire.StatusSubject)}
		}
		d.replyError(req, err)
		return
	}
	d.respondJSON(req, out)
}

// decodeJob reads a job from a submit request (a wire.Job), or from an
// open request (a wire.OpenJob: open), body or object, and plans it.
func (d *Daemon) decodeJob(ctx context.Context, req micro.Request, open bool) (selector.Job, *selector.Plan, error) {
	job, err := d.readJob(ctx, req, open)
	if err != nil {
		return job, nil, err
	}
	plan, err := selector.NewPlan(job)
	if err != nil {
		return job, nil, invalid(err)
	}
	if err := d.runnable(job); err != nil {
		return job, nil, invalid(err)
	}
	if err := d.checkModelWork(job); err != nil {
		return job, nil, err
	}
	return job, plan, nil
}

// readJob reads a job from a submit request (a wire.Job), or from an open
// request (a wire.OpenJob: open), body or object.
func (d *Daemon) readJob(ctx context.Context, req micro.Request, open bool) (selector.Job, error) {
	data := req.Data()
	if name := req.Headers().Get(wire.JobObjectHeader); name != "" {
		info, err := d.store.objects.GetInfo(ctx, name)
		if errors.Is(err, jetstream.ErrObjectNotFound) {
			return selector.Job{}, invalid(fmt.Errorf("%w: header %s names object %q, which is not in object store %s: upload the job there first", selector.ErrInvalidJob, wire.JobObjectHeader, name, wire.ObjectBucket))
		}
		if err != nil {
			return selector.Job{}, fmt.Errorf("read job object %s: %w", name, err)
		}
		// Refused before it is read into memory.
		if int64(info.Size) > d.cfg.maxJobDocument {
			return selector.Job{}, invalid(fmt.Errorf("%w: job object %q is %d bytes, over the limit of %d for a job document (%d MiB of patches, JSON-escaped): split the candidates into several jobs", selector.ErrInvalidJob, name, info.Size, d.cfg.maxJobDocument, selector.MaxJobPatchBytes>>20))
		}
		if data, err = d.store.objects.GetBytes(ctx, name); err != nil {
			return selector.Job{}, fmt.Errorf("read job object %s: %w", name, err)
		}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return selector.Job{}, invalid(fmt.Errorf("%w: the request is empty: send a job (JSON: task, candidates, options), see docs/DAEMON.md", selector.ErrInvalidJob))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var job selector.Job
	var err error
	if open {
		var o wire.OpenJob
		if err := dec.Decode(&o); err != nil {
			return selector.Job{}, invalid(fmt.Errorf("%w: %w", selector.ErrInvalidJob, jsonProblem("open job", data, err)))
		}
		job, err = o.ToSelector() // a SWE-bench row in place of the task
	} else {
		var sub wire.Job
		if err := dec.Decode(&sub); err != nil {
			return selector.Job{}, invalid(fmt.Errorf("%w: %w", selector.ErrInvalidJob, jsonProblem("job", data, err)))
		}
		job, err = sub.ToSelector()
	}
	if err != nil {
		return selector.Job{}, invalid(err)
	}
	if job.ID == "" {
		job.ID = nuid.Next()
	}
	if err := wire.CheckJobID(job.ID); err != nil {
		return selector.Job{}, invalid(err)
	}
	return job, nil
}

// environments is what an executor that runs some environments only
// (selector.Router) tells about them.
type environments interface {
	Supports(executor.Environment) error
}

// runnable refuses a job whose environment this daemon will not run: a
// local checkout when the unsandboxed local executor is off (its
// test_command would run on the daemon's host), an image without Docker.
// What to do is the remedy of the missing backend's route, which the
// command that made the executor wrote (serve's flags).
func (d *Daemon) runnable(job selector.Job) error {
	envs, ok := d.cfg.Exec.(environments)
	if !ok {
		return nil
	}
	if err := envs.Supports(job.Task.Env); err != nil {
		return fmt.Errorf("%w: task %q: %w", selector.ErrInvalidJob, job.Task.ID, err)
	}
	return nil
}

// jsonProblem names what is wrong in a JSON document, as the input files'
// errors do.
func jsonProblem(what string, data []byte, err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return &selector.InputError{File: what, Field: te.Field, Err: fmt.Errorf("has a %s value, want %s", te.Value, te.Type)}
	case errors.As(err, &se):
		return &selector.InputError{File: what, Err: fmt.Errorf("not valid JSON at byte %d: %w", se.Offset, se)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &selector.InputError{File: what, Field: field, Err: errors.New("unknown field: check its spelling against docs/DAEMON.md")}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &selector.InputError{File: what, Err: fmt.Errorf("the JSON ends too early (%d bytes received)", len(data))}
	}
	return &selector.InputError{File: what, Err: err}
}

// accept stores a valid job and queues its first runs, or, when the job
// needs nothing from the queue (fast.go), answers it at once: outcome is
// then its outcome's JSON, as published. Submitting the same job under the same ID again is accepted
// and queues its first runs again (de-duplicated), which makes a submit
// that lost its reply safe to retry.
func (d *Daemon) accept(ctx context.Context, job selector.Job, plan *selector.Plan, object string) (reply wire.SubmitReply, outcome []byte, err error) {
	reply = wire.SubmitReply{Job: job.ID, State: wire.Queued}
	canonical, err := json.Marshal(job)
	if err != nil {
		return reply, nil, fmt.Errorf("job %s: encode: %w", job.ID, err)
	}
	sum := sha256.Sum256(canonical)
	hash := hex.EncodeToString(sum[:])
	fast := d.fastPlan(ctx, job, plan)
	env, _, err := d.store.wrap(ctx, "jobs/"+job.ID, canonical)
	if err != nil {
		return reply, nil, fmt.Errorf("job %s: store: %w", job.ID, err)
	}
	rec := jobRecord{Submitted: time.Now().UTC(), Hash: hash, Job: env, Fast: fast.ok}
	data, err := json.Marshal(rec)
	if err != nil {
		return reply, nil, err
	}
	if _, err := d.store.jobs.Create(ctx, job.ID, data); err != nil {
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return reply, nil, fmt.Errorf("job %s: store: %w", job.ID, err)
		}
		e, old, err := d.readJobRecord(ctx, job.ID)
		if err != nil {
			return reply, nil, err
		}
		if old.Hash != hash {
			return reply, nil, &requestError{wire.CodeConflict, fmt.Errorf("job id %q is taken by a different job: choose another id, or leave it empty to get one", job.ID)}
		}
		reply.Existing = true
		if old.Fast {
			return d.resubmitFast(ctx, job, plan, e.Revision(), old, fast)
		}
		st, err := d.status(ctx, job.ID)
		if err == nil {
			reply.State = st.State
		}
		if reply.State.Final() {
			if st.Outcome == nil {
				return reply, nil, nil // ending: the outcome is on its way
			}
			outcome, err := json.Marshal(st.Outcome)
			return reply, outcome, err
		}
	} else {
		d.cfg.Metrics.Job("submitted")
		if object != "" {
			// The upload was only the vehicle; the job is stored on its own.
			if err := d.store.objects.Delete(ctx, object); err != nil {
				d.log.Debug("uploaded job object not deleted", "object", object, "err", err)
			}
		}
		d.event(selector.Event{Kind: selector.EventAccepted, Job: job.ID, Candidates: len(job.Candidates), Distinct: plan.Distinct()}, false)
		d.log.Info("job accepted", "job", job.ID, "task", job.Task.ID, "candidates", len(job.Candidates), "distinct", plan.Distinct(), "fast", fast.ok)
		if fast.ok {
			reply.State, outcome, err = d.answer(ctx, job.ID, fast, rec.Submitted, 0)
			return reply, outcome, err
		}
	}
	first := firstWork(job, plan)
	if job.Options.Stream != nil && len(first) == 0 {
		// An open job opened with candidates that need no run: their
		// standing verdict.
		v, err := d.views.get(ctx, job.ID)
		if err != nil {
			return reply, nil, err
		}
		return reply, nil, d.publishStanding(ctx, v, 0, 0, v.replay(0, false), d.log.With("job", job.ID))
	}
	if err := d.enqueue(ctx, job.ID, first, 0); err != nil {
		return reply, nil, err
	}
	return reply, nil, nil
}

// readJobRecord reads a job's record from the jobs bucket.
func (d *Daemon) readJobRecord(ctx context.Context, id string) (jetstream.KeyValueEntry, jobRecord, error) {
	var rec jobRecord
	e, err := d.store.jobs.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, rec, &requestError{wire.CodeNotFound, fmt.Errorf("job %s: %w: it was never submitted, or has expired", id, errJobGone)}
	}
	if err != nil {
		return nil, rec, fmt.Errorf("job %s: read: %w", id, err)
	}
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		return nil, rec, fmt.Errorf("job %s: stored record unreadable: %w", id, err)
	}
	return e, rec, nil
}

// loadJob reads a stored job.
func (d *Daemon) loadJob(ctx context.Context, id string) (selector.Job, jobRecord, error) {
	var job selector.Job
	_, rec, err := d.readJobRecord(ctx, id)
	if err != nil {
		return job, rec, err
	}
	data, err := d.store.unwrap(ctx, rec.Job)
	if err != nil {
		return job, rec, fmt.Errorf("job %s: %w", id, err)
	}
	if err := json.Unmarshal(data, &job); err != nil {
		return job, rec, fmt.Errorf("job %s: stored job unreadable: %w", id, err)
	}
	job.ID = id
	return job, rec, nil
}

// enqueue queues runs of a job. The message ID makes the same request from
// the same plan state (a redelivered step redone) a duplicate.
func (d *Daemon) enqueue(ctx context.Context, job string, runs []string, rev uint64) error {
	futures := make([]jetstream.PubAckFuture, 0, len(runs))
	for _, run := range runs {
		item := wire.WorkItem{Job: job, Run: run, Revision: rev}
		data, err := json.Marshal(item)
		if err != nil {
			return err
		}
		msg := &nats.Msg{Subject: wire.WorkSubject(job), Data: data, Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, item.MsgID())
		f, err := d.js.PublishMsgAsync(msg)
		if err != nil {
			return fmt.Errorf("job %s: queue run %s: %w", job, run, err)
		}
		futures = append(futures, f)
	}
	for i, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("job %s: queue run %s: %w", job, runs[i], err)
		case <-ctx.Done():
			return fmt.Errorf("job %s: queue runs: %w", job, ctx.Err())
		}
	}
	if len(runs) > 0 {
		d.log.Debug("runs queued", "job", job, "runs", runs, "revision", rev)
	}
	return nil
}
