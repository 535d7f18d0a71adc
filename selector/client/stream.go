package client

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// Open opens a job that takes its candidates over time (docs/DAEMON.md,
// "Open jobs"): job.Options.Stream is its stop rule (nil: the default
// target confidence, no budget), job.Candidates its first candidates, if
// any. The daemon starts the base runs at once. It returns the job's ID
// (assigned by the daemon when job.ID is empty).
func (c *Client) Open(ctx context.Context, job selector.Job) (wire.SubmitReply, error) {
	if job.Options.Stream == nil {
		job.Options.Stream = &scoring.StopRule{}
	}
	data, err := json.Marshal(wire.FromOpenJob(job))
	if err != nil {
		return wire.SubmitReply{}, fmt.Errorf("encode open job %s: %w", job.ID, err)
	}
	return c.OpenDocument(ctx, data)
}

// OpenDocument opens a job given as its JSON document (a wire.OpenJob), as
// it is: Open for gateways that pass on what their clients sent.
func (c *Client) OpenDocument(ctx context.Context, doc []byte) (wire.SubmitReply, error) {
	var reply wire.SubmitReply
	msg, cleanup, err := c.submitMsg(ctx, doc)
	if err != nil {
		return reply, err
	}
	defer cleanup()
	msg.Subject = wire.OpenSubject
	err = c.request(ctx, msg, &reply)
	return reply, err
}

// Append adds candidates to an open job; it returns once the daemon has
// stored them. Appending the same candidates again (a retry after a lost
// reply) is answered with Existing and stores nothing.
func (c *Client) Append(ctx context.Context, id string, cands ...scoring.Candidate) (wire.AppendReply, error) {
	return c.appendMsg(ctx, id, wire.Append{Candidates: wire.FromCandidates(cands)})
}

// CloseJob closes an open job: it takes no more candidates, and its
// outcome follows once their runs are done (Wait, Outcome).
func (c *Client) CloseJob(ctx context.Context, id string) (wire.AppendReply, error) {
	return c.appendMsg(ctx, id, wire.Append{Close: true})
}

func (c *Client) appendMsg(ctx context.Context, id string, a wire.Append) (wire.AppendReply, error) {
	data, err := json.Marshal(a)
	if err != nil {
		return wire.AppendReply{}, err
	}
	return c.AppendDocument(ctx, id, data)
}

// AppendDocument sends an append given as its JSON document (a
// wire.Append), as it is, to the open job id.
func (c *Client) AppendDocument(ctx context.Context, id string, data []byte) (wire.AppendReply, error) {
	var reply wire.AppendReply
	if err := wire.CheckJobID(id); err != nil {
		return reply, &ServiceError{Code: wire.CodeInvalid, Message: err.Error()}
	}
	if len(data) > int(c.nc.MaxPayload())-headroom {
		return reply, &ServiceError{Code: wire.CodeInvalid, Message: fmt.Sprintf("job %s: the append is %d bytes, more than one message holds (%d): append fewer candidates at a time", id, len(data), c.nc.MaxPayload())}
	}
	err := c.request(ctx, &nats.Msg{Subject: wire.AppendSubject(id), Data: data}, &reply)
	return reply, err
}

// Standings passes an open job's standing verdicts to onStanding, from
// one goroutine, in the order they were published, from the first; it
// returns when onStanding returns false, after the final one (the job was
// closed), or when ctx ends.
func (c *Client) Standings(ctx context.Context, id string, onStanding func(wire.Standing) bool) error {
	if err := wire.CheckJobID(id); err != nil {
		return err
	}
	cons, err := c.js.OrderedConsumer(ctx, wire.StandingStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{wire.StandingSubject(id)},
	})
	if err != nil {
		return fmt.Errorf("job %s: follow its standing verdicts: %w (is a bestpatch daemon running on this server?)", id, err)
	}
	msgs, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("job %s: follow its standing verdicts: %w", id, err)
	}
	defer msgs.Stop()
	for {
		msg, err := msgs.Next(jetstream.NextContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("job %s: waiting for a standing verdict: %w", id, ctx.Err())
			}
			return fmt.Errorf("job %s: waiting for a standing verdict: %w", id, err)
		}
		var s wire.Standing
		if err := json.Unmarshal(msg.Data(), &s); err != nil {
			return fmt.Errorf("job %s: standing verdict unreadable: %w", id, err)
		}
		if !onStanding(s) || s.Final {
			return nil
		}
	}
}

// StandingAfter waits for the first standing verdict of an open job on at
// least samples candidates (the verdict after an append whose reply said
// Samples), and returns it.
func (c *Client) StandingAfter(ctx context.Context, id string, samples int) (wire.Standing, error) {
	var got wire.Standing
	err := c.Standings(ctx, id, func(s wire.Standing) bool {
		if s.Samples >= samples {
			got = s
			return false
		}
		return true
	})
	return got, err
}
