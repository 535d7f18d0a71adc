package service

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/bestpatch/bestpatch/selector/wire"
)

// request is a micro.Request that outlives micro's call of its handler.
// micro reads what a request's reply did once the handler returns (for its
// stats), so a reply that dispatch's goroutine sends later through micro's
// own request would race with that read. request carries a copy of what
// the handler reads and replies by publishing on the daemon's connection;
// its outcome goes to the daemon's endpoint statistics instead.
type request struct {
	nc             *nats.Conn
	subject, reply string
	data           []byte
	headers        micro.Headers
	// replied is called once per reply sent, with the error reply's
	// description ("" for a normal reply).
	replied func(errDescription string)
}

// detach copies what handlers read of req.
func detach(nc *nats.Conn, req micro.Request, replied func(string)) *request {
	return &request{nc: nc, subject: req.Subject(), reply: req.Reply(), data: req.Data(), headers: req.Headers(), replied: replied}
}

// Respond sends data as the reply.
func (r *request) Respond(data []byte, opts ...micro.RespondOpt) error {
	msg := &nats.Msg{Data: data}
	for _, opt := range opts {
		opt(msg)
	}
	if err := r.publish(msg); err != nil {
		return err
	}
	r.replied("")
	return nil
}

// RespondJSON sends v, marshalled, as the reply.
func (r *request) RespondJSON(v any, opts ...micro.RespondOpt) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: %w", micro.ErrMarshalResponse, err)
	}
	return r.Respond(b, opts...)
}

// Error sends an error reply as micro does: code and description in the
// micro error headers, data as the body.
func (r *request) Error(code, description string, data []byte, opts ...micro.RespondOpt) error {
	if code == "" || description == "" {
		return fmt.Errorf("%w: error code and description", micro.ErrArgRequired)
	}
	msg := &nats.Msg{Header: nats.Header{micro.ErrorHeader: {description}, micro.ErrorCodeHeader: {code}}}
	for _, opt := range opts {
		opt(msg)
	}
	msg.Data = data
	if err := r.publish(msg); err != nil {
		return err
	}
	r.replied(code + ": " + description)
	return nil
}

func (r *request) publish(msg *nats.Msg) error {
	if r.reply == "" {
		return fmt.Errorf("%w: %w", micro.ErrRespond, nats.ErrMsgNoReply)
	}
	msg.Subject = r.reply
	if err := r.nc.PublishMsg(msg); err != nil {
		return fmt.Errorf("%w: %w", micro.ErrRespond, err)
	}
	return nil
}

// Data returns the request's body.
func (r *request) Data() []byte { return r.data }

// Headers returns the request's headers.
func (r *request) Headers() micro.Headers { return r.headers }

// Subject returns the subject the request came on.
func (r *request) Subject() string { return r.subject }

// Reply returns the request's reply subject.
func (r *request) Reply() string { return r.reply }

// endpointStats are the statistics of the daemon's endpoints that micro
// cannot keep, since dispatch replies after micro's handler call returns.
type endpointStats struct {
	mu sync.Mutex
	by map[string]*wire.EndpointStats
}

// replied records a reply of endpoint that took d since its request came.
func (s *endpointStats) replied(endpoint string, d time.Duration, errDescription string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.by == nil {
		s.by = map[string]*wire.EndpointStats{}
	}
	e := s.by[endpoint]
	if e == nil {
		e = &wire.EndpointStats{}
		s.by[endpoint] = e
	}
	e.Replies++
	e.ProcessingTime += d
	e.AverageProcessingTime = e.ProcessingTime / time.Duration(e.Replies)
	if errDescription != "" {
		e.Errors++
		e.LastError = errDescription
	}
}

// of returns a copy of endpoint's statistics.
func (s *endpointStats) of(endpoint string) wire.EndpointStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.by[endpoint]; e != nil {
		return *e
	}
	return wire.EndpointStats{}
}

var _ micro.Request = (*request)(nil)
