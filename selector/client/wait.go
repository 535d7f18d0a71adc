package client

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// Outcome waits for a job's outcome on its verdict subject and returns it
// as published (a big report stays in the object store: see Report).
func (c *Client) Outcome(ctx context.Context, id string) (wire.Outcome, error) {
	var out wire.Outcome
	if err := wire.CheckJobID(id); err != nil {
		return out, err
	}
	cons, err := c.js.OrderedConsumer(ctx, wire.VerdictsStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{wire.VerdictSubject(id)},
		DeliverPolicy:  jetstream.DeliverLastPerSubjectPolicy,
	})
	if err != nil {
		return out, fmt.Errorf("job %s: watch its verdict subject: %w", id, err)
	}
	msgs, err := cons.Messages()
	if err != nil {
		return out, fmt.Errorf("job %s: watch its verdict subject: %w", id, err)
	}
	defer msgs.Stop()
	for {
		msg, err := msgs.Next(jetstream.NextContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				return out, fmt.Errorf("job %s: waiting for its outcome: %w", id, ctx.Err())
			}
			// The ordered consumer recreates itself after a server restart;
			// anything else that ends it is an error.
			return out, fmt.Errorf("job %s: waiting for its outcome: %w", id, err)
		}
		if err := json.Unmarshal(msg.Data(), &out); err != nil {
			return out, fmt.Errorf("job %s: outcome unreadable: %w", id, err)
		}
		return out, nil
	}
}

// Wait waits for a job's report, passing its progress events (all of
// them, from the first) to onEvent, if not nil, from one goroutine. A job
// that failed or was cancelled is a *FailedError.
func (c *Client) Wait(ctx context.Context, id string, onEvent func(selector.Event)) (selector.Report, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var progress *progress
	if onEvent != nil {
		var err error
		if progress, err = c.follow(ctx, id, onEvent); err != nil {
			return selector.Report{}, err
		}
	}
	out, err := c.Outcome(ctx, id)
	if err != nil {
		return selector.Report{}, err
	}
	if progress != nil {
		// Every event is stored before the outcome is published: deliver
		// the ones up to the last stored, then stop.
		progress.finish(ctx)
	}
	return c.report(ctx, out)
}

// Report returns the report of an outcome, reading it from the object
// store when it was too big to publish.
func (c *Client) report(ctx context.Context, out wire.Outcome) (selector.Report, error) {
	switch out.State {
	case wire.Done:
	case wire.Failed, wire.Cancelled:
		return selector.Report{}, &FailedError{Job: out.Job, State: out.State, Message: out.Error}
	default:
		return selector.Report{}, fmt.Errorf("job %s: outcome in unknown state %q", out.Job, out.State)
	}
	if out.Report != nil {
		return *out.Report, nil
	}
	if out.ReportObject == "" {
		return selector.Report{}, fmt.Errorf("job %s: outcome has no report", out.Job)
	}
	objects, err := c.js.ObjectStore(ctx, wire.ObjectBucket)
	if err != nil {
		return selector.Report{}, fmt.Errorf("job %s: open object store %s for the report: %w", out.Job, wire.ObjectBucket, err)
	}
	data, err := objects.GetBytes(ctx, out.ReportObject)
	if err != nil {
		return selector.Report{}, fmt.Errorf("job %s: read report object %s: %w", out.Job, out.ReportObject, err)
	}
	var rep selector.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return selector.Report{}, fmt.Errorf("job %s: report object %s unreadable: %w", out.Job, out.ReportObject, err)
	}
	return rep, nil
}

// progress delivers a job's events as they are stored.
type progress struct {
	c      *Client
	id     string
	stream jetstream.Stream
	msgs   jetstream.MessagesContext
	// last is the stream sequence of the last delivered event; tick is
	// signalled when it grows.
	last atomic.Uint64
	tick chan struct{}
	done chan struct{}
}

// follow starts delivering a job's events to onEvent.
func (c *Client) follow(ctx context.Context, id string, onEvent func(selector.Event)) (*progress, error) {
	stream, err := c.js.Stream(ctx, wire.EventsStream)
	if err != nil {
		return nil, fmt.Errorf("job %s: events stream %s: %w (is a bestpatch daemon running on this server?)", id, wire.EventsStream, err)
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{wire.EventsSubject(id)},
	})
	if err != nil {
		return nil, fmt.Errorf("job %s: follow its events: %w", id, err)
	}
	msgs, err := cons.Messages()
	if err != nil {
		return nil, fmt.Errorf("job %s: follow its events: %w", id, err)
	}
	p := &progress{c: c, id: id, stream: stream, msgs: msgs, tick: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for {
			msg, err := msgs.Next()
			if err != nil {
				return // stopped
			}
			var ev selector.Event
			if json.Unmarshal(msg.Data(), &ev) == nil {
				onEvent(ev)
			}
			if meta, err := msg.Metadata(); err == nil {
				p.last.Store(meta.Sequence.Stream)
				select {
				case p.tick <- struct{}{}:
				default:
				}
			}
		}
	}()
	return p, nil
}

// finish waits until every event stored so far has been delivered, then
// stops following.
func (p *progress) finish(ctx context.Context) {
	defer func() { p.msgs.Stop(); <-p.done }()
	last, err := p.stream.GetLastMsgForSubject(ctx, wire.EventsSubject(p.id))
	if err != nil {
		return // no event stored (ErrMsgNotFound), or the server is away
	}
	for p.last.Load() < last.Sequence {
		select {
		case <-p.tick:
		case <-p.done:
			return
		case <-ctx.Done():
			return
		}
	}
}
