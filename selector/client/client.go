// Package client submits selection jobs to bestpatch daemons over NATS,
// streams their progress and returns their verdicts.
//
//	nc, _ := nats.Connect(url)
//	c, _ := client.New(nc)
//	report, err := c.Run(ctx, job, func(e selector.Event) { log.Println(e.Kind, e.Run) })
//
// A job too big for one NATS message (thousands of candidates) is uploaded
// through the JetStream object store; the verdict comes back the same way
// when it is big. Progress and verdicts are kept in streams, so Wait works
// for a job submitted long ago, and survives the server restarting.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/nats-io/nuid"

	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// requestTimeout bounds a request whose context has no deadline.
const requestTimeout = 30 * time.Second

// headroom is left below the server's maximum message size for headers.
const headroom = 16 << 10

// Errors a daemon replies, matched with errors.Is.
var (
	// ErrNotFound: no such job (never submitted, or expired).
	ErrNotFound = errors.New("job not found")
	// ErrConflict: the job ID is taken by a different job.
	ErrConflict = errors.New("job id taken by a different job")
	// ErrCancelled: the job was cancelled.
	ErrCancelled = errors.New("job cancelled")
	// ErrNoDaemon: no daemon answers on the NATS server.
	ErrNoDaemon = errors.New("no bestpatch daemon answers")
)

// ServiceError is an error reply from a daemon. It matches
// selector.ErrInvalidJob, ErrNotFound or ErrConflict by its code.
type ServiceError struct {
	Code    string
	Message string
}

func (e *ServiceError) Error() string { return e.Message }

// Unwrap maps the reply's code to the package's errors.
func (e *ServiceError) Unwrap() error {
	switch e.Code {
	case wire.CodeInvalid:
		return selector.ErrInvalidJob
	case wire.CodeNotFound:
		return ErrNotFound
	case wire.CodeConflict:
		return ErrConflict
	}
	return nil
}

// FailedError is a job that ended without a verdict.
type FailedError struct {
	Job     string
	State   wire.State
	Message string
}

func (e *FailedError) Error() string { return fmt.Sprintf("job %s %s: %s", e.Job, e.State, e.Message) }

// Unwrap makes a cancelled job match ErrCancelled.
func (e *FailedError) Unwrap() error {
	if e.State == wire.Cancelled {
		return ErrCancelled
	}
	return nil
}

// Client talks to bestpatch daemons over one NATS connection. It is safe
// for concurrent use.
type Client struct {
	nc *nats.Conn
	js jetstream.JetStream
}

// New returns a client on an open connection (the caller closes it).
func New(nc *nats.Conn) (*Client, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("bestpatch client: JetStream: %w", err)
	}
	return &Client{nc: nc, js: js}, nil
}

// Run submits a job and waits for its report, passing progress events to
// onEvent (nil: none) from one goroutine, in order.
func (c *Client) Run(ctx context.Context, job selector.Job, onEvent func(selector.Event)) (selector.Report, error) {
	sub, err := c.Submit(ctx, job)
	if err != nil {
		return selector.Report{}, err
	}
	return c.Wait(ctx, sub.Job, onEvent)
}

// Submit submits a job and returns at once with its ID (assigned by the
// daemon when job.ID is empty). A job that is invalid comes back as an
// error matching selector.ErrInvalidJob, saying what to fix.
func (c *Client) Submit(ctx context.Context, job selector.Job) (wire.SubmitReply, error) {
	data, err := encodeJob(job)
	if err != nil {
		return wire.SubmitReply{}, err
	}
	return c.SubmitDocument(ctx, data)
}

// SubmitDocument submits a job given as its JSON document (a wire.Job), as
// it is: the daemon decodes and checks it. It is Submit for gateways that
// pass on what their clients sent.
func (c *Client) SubmitDocument(ctx context.Context, doc []byte) (wire.SubmitReply, error) {
	var reply wire.SubmitReply
	msg, cleanup, err := c.submitMsg(ctx, doc)
	if err != nil {
		return reply, err
	}
	defer cleanup()
	err = c.request(ctx, msg, &reply)
	return reply, err
}

// SubmitAndWait submits a job and has the daemon reply with the outcome
// once the job is done (header Bestpatch-Wait): one request, no streams.
// ctx should allow for the whole job.
func (c *Client) SubmitAndWait(ctx context.Context, job selector.Job) (selector.Report, error) {
	data, err := encodeJob(job)
	if err != nil {
		return selector.Report{}, err
	}
	out, err := c.SubmitDocumentAndWait(ctx, data)
	if err != nil {
		return selector.Report{}, err
	}
	return c.report(ctx, out)
}

// SubmitDocumentAndWait is SubmitAndWait for a job given as its JSON
// document, returning the outcome as the daemon published it.
func (c *Client) SubmitDocumentAndWait(ctx context.Context, doc []byte) (wire.Outcome, error) {
	var out wire.Outcome
	msg, cleanup, err := c.submitMsg(ctx, doc)
	if err != nil {
		return out, err
	}
	defer cleanup()
	msg.Header.Set(wire.WaitHeader, "true")
	err = c.request(ctx, msg, &out)
	return out, err
}

// encodeJob is a job's JSON document, in its wire form.
func encodeJob(job selector.Job) ([]byte, error) {
	data, err := json.Marshal(wire.FromJob(job))
	if err != nil {
		return nil, fmt.Errorf("encode job %s: %w", job.ID, err)
	}
	return data, nil
}

// submitMsg builds a submit request, uploading the job to the object store
// when it is too big for one message. cleanup removes an upload that the
// daemon did not take (the daemon deletes it once the job is stored).
func (c *Client) submitMsg(ctx context.Context, data []byte) (*nats.Msg, func(), error) {
	msg := &nats.Msg{Subject: wire.SubmitSubject, Header: nats.Header{}}
	if len(data) <= int(c.nc.MaxPayload())-headroom {
		msg.Data = data
		return msg, func() {}, nil
	}
	objects, err := c.js.ObjectStore(ctx, wire.ObjectBucket)
	if err != nil {
		return nil, nil, fmt.Errorf("the job is %d bytes, more than one message holds, and object store %s is not there to upload it to (%w): start a bestpatch daemon on this server first", len(data), wire.ObjectBucket, err)
	}
	name := "submit/" + nuid.Next()
	if _, err := objects.PutBytes(ctx, name, data); err != nil {
		return nil, nil, fmt.Errorf("upload job (%d bytes) to object store %s: %w", len(data), wire.ObjectBucket, err)
	}
	msg.Header.Set(wire.JobObjectHeader, name)
	cleanup := func() {
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		defer cancel()
		// Gone already when the daemon took it; this only removes leftovers.
		_ = objects.Delete(ctx, name)
	}
	return msg, cleanup, nil
}

// Status returns where a job is; once it is final, Status.Outcome holds
// its outcome.
func (c *Client) Status(ctx context.Context, id string) (wire.Status, error) {
	var st wire.Status
	err := c.jobRequest(ctx, wire.StatusSubject, id, &st)
	return st, err
}

// Cancel cancels a job on every daemon. A job already being scored or
// ended is not changed: the returned status says where it is.
func (c *Client) Cancel(ctx context.Context, id string) (wire.Status, error) {
	var st wire.Status
	err := c.jobRequest(ctx, wire.CancelSubject, id, &st)
	return st, err
}

func (c *Client) jobRequest(ctx context.Context, subject, id string, into any) error {
	data, err := json.Marshal(wire.JobRequest{Job: id})
	if err != nil {
		return err
	}
	return c.request(ctx, &nats.Msg{Subject: subject, Data: data}, into)
}

// request sends a request and decodes its reply, turning error replies
// into errors.
func (c *Client) request(ctx context.Context, msg *nats.Msg, into any) error {
	if _, ok := ctx.Deadline(); !ok && msg.Header.Get(wire.WaitHeader) == "" {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, requestTimeout)
		defer cancel()
	}
	resp, err := c.nc.RequestMsgWithContext(ctx, msg)
	if errors.Is(err, nats.ErrNoResponders) {
		return fmt.Errorf("%w on %s at %s: start one with `bestpatch serve`", ErrNoDaemon, msg.Subject, c.nc.ConnectedUrlRedacted())
	}
	if err != nil {
		return fmt.Errorf("request %s: %w", msg.Subject, err)
	}
	if code := resp.Header.Get(micro.ErrorCodeHeader); code != "" {
		var er wire.ErrorReply
		if json.Unmarshal(resp.Data, &er) != nil || er.Error == "" {
			er.Error = resp.Header.Get(micro.ErrorHeader)
		}
		return &ServiceError{Code: code, Message: er.Error}
	}
	if err := json.Unmarshal(resp.Data, into); err != nil {
		return fmt.Errorf("reply of %s unreadable: %w", msg.Subject, err)
	}
	return nil
}
