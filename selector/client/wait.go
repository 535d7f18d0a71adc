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
// as published (a big report stays in the object store: see
// ResolveReport).
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

// Wait waits for a job's report, passing its progress events (all of
// them, from the first) to onEvent, if not nil, from one goroutine. A job
// that failed or was cancelled is a *FailedError.
func (c *Client) Wait(ctx context.Context, id string, onEvent func(selector.Event)) (selector.Report, error) {
	var out wire.Outcome
	var err error
	if onEvent == nil {
		out, err = c.Outcome(ctx, id)
	} else {
		out, err = c.Follow(ctx, id, 0, func(_ uint64, e wire.Event) { onEvent(e.ToSelector()) })
	}
	if err != nil {
		return selector.Report{}, err
	}
	return c.report(ctx, out)
}

// Follow passes a job's progress events to onEvent, from one goroutine, in
// order, with their sequence numbers in stream BESTPATCH_EVENTS: every event
// after sequence after (0: from the first). It returns the job's outcome
// once the events stored before it have all been delivered.
func (c *Client) Follow(ctx context.Context, id string, after uint64, onEvent func(seq uint64, e wire.Event)) (wire.Outcome, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	progress, err := c.follow(ctx, id, after, onEvent)
	if err != nil {
		return wire.Outcome{}, err
	}
	out, err := c.Outcome(ctx, id)
	if err != nil {
		progress.stop()
		return out, err
	}
	// Every event is stored before the outcome is published: deliver the
	// ones up to the last stored, then stop.
	progress.finish(ctx)
	return out, nil
}

// ResolveReport reads an outcome's report from the object store when it
// was too big to publish (Outcome.ReportObject), so that out.Report holds
// it.
func (c *Client) ResolveReport(ctx context.Context, out *wire.Outcome) error {
	if out.Report != nil || out.ReportObject == "" {
		return nil
	}
	objects, err := c.js.ObjectStore(ctx, wire.ObjectBucket)
	if err != nil {
		return fmt.Errorf("job %s: open object store %s for the report: %w", out.Job, wire.ObjectBucket, err)
	}
	data, err := objects.GetBytes(ctx, out.ReportObject)
	if err != nil {
		return fmt.Errorf("job %s: read report object %s: %w", out.Job, out.ReportObject, err)
	}
	var rep wire.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return fmt.Errorf("job %s: report object %s unreadable: %w", out.Job, out.ReportObject, err)
	}
	out.Report, out.ReportObject = &rep, ""
	return nil
}

// report returns the report of an outcome, reading it from the object
// store when it was too big to publish.
func (c *Client) report(ctx context.Context, out wire.Outcome) (selector.Report, error) {
	switch out.State {
	case wire.Done:
	case wire.Failed, wire.Cancelled:
		return selector.Report{}, &FailedError{Job: out.Job, State: out.State, Message: out.Error}
	default:
		return selector.Report{}, fmt.Errorf("job %s: outcome in unknown state %q", out.Job, out.State)
	}
	if err := c.ResolveReport(ctx, &out); err != nil {
		return selector.Report{}, err
	}
	if out.Report == nil {
		return selector.Report{}, fmt.Errorf("job %s: outcome has no report", out.Job)
	}
	rep, err := out.Report.ToSelector()
	if err != nil {
		return selector.Report{}, fmt.Errorf("job %s: report unreadable: %w", out.Job, err)
	}
	return rep, nil
}

// progress delivers a job's events as they are stored.
type progress struct {
	id     string
	stream jetstream.Stream
	msgs   jetstream.MessagesContext
	// last is the stream sequence of the last delivered event; tick is
	// signalled when it grows.
	last atomic.Uint64
	tick chan struct{}
	done chan struct{}
}

// follow starts delivering a job's events after sequence after to onEvent.
func (c *Client) follow(ctx context.Context, id string, after uint64, onEvent func(uint64, wire.Event)) (*progress, error) {
	if err := wire.CheckJobID(id); err != nil {
		return nil, err
	}
	stream, err := c.js.Stream(ctx, wire.EventsStream)
	if err != nil {
		return nil, fmt.Errorf("job %s: events stream %s: %w (is a bestpatch daemon running on this server?)", id, wire.EventsStream, err)
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{wire.EventsSubject(id)}}
	if after > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, after+1
	}
	cons, err := stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("job %s: follow its events: %w", id, err)
	}
	msgs, err := cons.Messages()
	if err != nil {
		return nil, fmt.Errorf("job %s: follow its events: %w", id, err)
	}
	p := &progress{id: id, stream: stream, msgs: msgs, tick: make(chan struct{}, 1), done: make(chan struct{})}
	p.last.Store(after)
	go func() {
		defer close(p.done)
		for {
			msg, err := msgs.Next()
			if err != nil {
				return // stopped
			}
			meta, err := msg.Metadata()
			if err != nil {
				continue
			}
			var ev wire.Event
			if json.Unmarshal(msg.Data(), &ev) == nil {
				onEvent(meta.Sequence.Stream, ev)
			}
			p.last.Store(meta.Sequence.Stream)
			select {
			case p.tick <- struct{}{}:
			default:
			}
		}
	}()
	return p, nil
}

// stop stops following at once.
func (p *progress) stop() { p.msgs.Stop(); <-p.done }

// finish waits until every event stored so far has been delivered, then
// stops following.
func (p *progress) finish(ctx context.Context) {
	defer p.stop()
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
