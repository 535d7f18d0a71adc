// Package gateway is the daemon's HTTP door, for clients that would
// rather call HTTP than speak NATS (synchronous Python scaffolds):
//
//	POST /v1/jobs                 submit a job (?wait=true: reply the outcome when done)
//	GET  /v1/jobs/{id}            the job's status, with its outcome once final
//	POST /v1/jobs/{id}/cancel     cancel it
//	GET  /v1/jobs/{id}/events     its progress as server-sent events, then its outcome
//	POST /v1/open                 open a job that takes its candidates over time
//	POST /v1/jobs/{id}/candidates append candidates to an open job, or close it
//	GET  /v1/jobs/{id}/standing   its standing verdict (?samples=N: once on N candidates)
//
// The gateway is a client of the daemon's NATS service (package client),
// not a second implementation of job handling: a job's JSON goes to
// bestpatch.v1.submit as it came, replies come back as they are, and an
// error reply's code is the HTTP status (400, 404, 409, 500, 503), its
// body the same wire.ErrorReply. docs/DAEMON.md has the examples.
package gateway

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bestpatch/bestpatch/internal/natsserver"
	"github.com/bestpatch/bestpatch/selector/client"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// DefaultKeepAlive is how often an event stream with nothing to say sends
// a comment, so that proxies keep it open.
const DefaultKeepAlive = 15 * time.Second

// ErrOpen means the gateway would listen beyond loopback with no
// authentication: anyone who reaches the address could submit jobs.
var ErrOpen = errors.New("listening beyond loopback without authentication")

// Auth is what HTTP clients must present: the NATS side's token as a
// bearer token, or its user and password with basic authentication.
type Auth struct {
	Token          string
	User, Password string
}

// Configured reports whether clients must authenticate.
func (a Auth) Configured() bool { return a.Token != "" || a.User != "" }

// Config configures a gateway.
type Config struct {
	// Client talks to the daemons.
	Client *client.Client
	// Auth is what clients must present; without it, Listen takes
	// loopback addresses only.
	Auth Auth
	// KeepAlive replaces DefaultKeepAlive.
	KeepAlive time.Duration
	Log       *slog.Logger
}

// Gateway is the HTTP handler of the protocol.
type Gateway struct {
	cfg Config
	log *slog.Logger
	mux *http.ServeMux
}

// New returns a gateway.
func New(cfg Config) (*Gateway, error) {
	if cfg.Client == nil {
		return nil, errors.New("gateway: Config needs a Client")
	}
	if cfg.Auth.User != "" && cfg.Auth.Password == "" {
		return nil, errors.New("gateway: a user needs a password")
	}
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = DefaultKeepAlive
	}
	g := &Gateway{cfg: cfg, log: cfg.Log, mux: http.NewServeMux()}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	v := "/" + wire.Version
	g.mux.HandleFunc("POST "+v+"/jobs", g.submit)
	g.mux.HandleFunc("GET "+v+"/jobs/{id}", g.status)
	g.mux.HandleFunc("POST "+v+"/jobs/{id}/cancel", g.cancel)
	g.mux.HandleFunc("GET "+v+"/jobs/{id}/events", g.events)
	g.mux.HandleFunc("POST "+v+"/open", g.open)
	g.mux.HandleFunc("POST "+v+"/jobs/{id}/candidates", g.appendCandidates)
	g.mux.HandleFunc("GET "+v+"/jobs/{id}/standing", g.standing)
	return g, nil
}

// unrouted answers a request no route takes, in JSON as every other
// error: 405 with the methods the path takes, or 404.
func (g *Gateway) unrouted(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		other := r.Clone(r.Context())
		other.Method = m
		if _, pattern := g.mux.Handler(other); pattern != "" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, wire.CodeNotAllowed, fmt.Sprintf("%s %s: this path takes %s", r.Method, r.URL.Path, strings.Join(allowed, " or ")))
		return
	}
	writeError(w, wire.CodeNotFound, fmt.Sprintf("no such endpoint: %s %s: see docs/DAEMON.md (HTTP gateway) for the paths of protocol %s", r.Method, r.URL.Path, wire.Version))
}

// ServeHTTP checks the client's credentials and routes the request.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !g.authorized(r) {
		if g.cfg.Auth.Token != "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="bestpatch"`)
		} else {
			w.Header().Set("WWW-Authenticate", `Basic realm="bestpatch", charset="UTF-8"`)
		}
		writeError(w, wire.CodeUnauthorized, "authentication required: send the daemon's token as \"Authorization: Bearer TOKEN\", or its user and password with basic authentication")
		return
	}
	if _, pattern := g.mux.Handler(r); pattern == "" {
		g.unrouted(w, r)
		return
	}
	g.mux.ServeHTTP(w, r)
}

// authorized compares the credentials in constant time.
func (g *Gateway) authorized(r *http.Request) bool {
	a := g.cfg.Auth
	if !a.Configured() {
		return true
	}
	if a.Token != "" {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && same(tok, a.Token) {
			return true
		}
	}
	if a.User != "" {
		if user, pass, ok := r.BasicAuth(); ok && same(user, a.User) && same(pass, a.Password) {
			return true
		}
	}
	return false
}

func same(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// submit passes a job to the daemons.
func (g *Gateway) submit(w http.ResponseWriter, r *http.Request) {
	doc, ok := readBody(w, r)
	if !ok {
		return
	}
	if wait, _ := strconv.ParseBool(r.URL.Query().Get("wait")); wait {
		out, err := g.cfg.Client.SubmitDocumentAndWait(r.Context(), doc)
		if err == nil {
			err = g.cfg.Client.ResolveReport(r.Context(), &out)
		}
		if err != nil {
			g.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	reply, err := g.cfg.Client.SubmitDocument(r.Context(), doc)
	if err != nil {
		g.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/"+wire.Version+"/jobs/"+reply.Job)
	writeJSON(w, http.StatusAccepted, reply)
}

// readBody reads a request's JSON document, up to the limit of a job's.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	doc, err := io.ReadAll(http.MaxBytesReader(w, r.Body, wire.MaxJobDocument))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, wire.CodeInvalid, fmt.Sprintf("invalid job: the request body is over the limit of %d bytes for a job document: split the candidates into several jobs", tooBig.Limit))
		return nil, false
	case err != nil:
		writeError(w, wire.CodeInvalid, "invalid job: the request body could not be read: "+err.Error())
		return nil, false
	}
	return doc, true
}

// open opens a job that takes its candidates over time.
func (g *Gateway) open(w http.ResponseWriter, r *http.Request) {
	doc, ok := readBody(w, r)
	if !ok {
		return
	}
	reply, err := g.cfg.Client.OpenDocument(r.Context(), doc)
	if err != nil {
		g.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/"+wire.Version+"/jobs/"+reply.Job)
	writeJSON(w, http.StatusAccepted, reply)
}

// appendCandidates appends to an open job; it replies once the candidates
// are stored.
func (g *Gateway) appendCandidates(w http.ResponseWriter, r *http.Request) {
	doc, ok := readBody(w, r)
	if !ok {
		return
	}
	reply, err := g.cfg.Client.AppendDocument(r.Context(), r.PathValue("id"), doc)
	if err != nil {
		g.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, reply)
}

// standing replies an open job's first standing verdict on at least
// ?samples=N candidates (default 1), waiting for it.
func (g *Gateway) standing(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	samples := 1
	if s := r.URL.Query().Get("samples"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			writeError(w, wire.CodeInvalid, fmt.Sprintf("?samples=%s: want the number of candidates the verdict is to be on, 1 or more", s))
			return
		}
		samples = n
	}
	// A job that does not exist is a 404, not an endless wait.
	if _, err := g.cfg.Client.Status(r.Context(), id); err != nil {
		g.fail(w, r, err)
		return
	}
	st, err := g.cfg.Client.StandingAfter(r.Context(), id, samples)
	if err != nil {
		g.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// status reports where a job is, with its whole report once final.
func (g *Gateway) status(w http.ResponseWriter, r *http.Request) {
	st, err := g.cfg.Client.Status(r.Context(), r.PathValue("id"))
	if err == nil && st.Outcome != nil {
		err = g.cfg.Client.ResolveReport(r.Context(), st.Outcome)
	}
	if err != nil {
		g.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// cancel cancels a job.
func (g *Gateway) cancel(w http.ResponseWriter, r *http.Request) {
	st, err := g.cfg.Client.Cancel(r.Context(), r.PathValue("id"))
	if err != nil {
		g.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// events streams a job's events as server-sent events: each event is
// "event: <kind>" with the wire.Event as data and its sequence as id (a
// client that reconnects with Last-Event-ID, or ?after=N, resumes after
// it); the last is "event: outcome" with the wire.Outcome, and the stream
// ends.
func (g *Gateway) events(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	after, err := resumeAfter(r)
	if err != nil {
		writeError(w, wire.CodeInvalid, err.Error())
		return
	}
	// A job that does not exist is a 404, not an endless stream.
	if _, err := g.cfg.Client.Status(r.Context(), id); err != nil {
		g.fail(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	var mu sync.Mutex // the keep-alive and the events write from two goroutines
	send := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, format, args...)
		_ = rc.Flush()
	}
	send(": bestpatch %s events of job %s\n\n", wire.Version, id)
	ctx, stop := context.WithCancel(r.Context())
	var keepAlive sync.WaitGroup
	defer func() { stop(); keepAlive.Wait() }()
	keepAlive.Go(func() {
		t := time.NewTicker(g.cfg.KeepAlive)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				send(": keep-alive\n\n")
			}
		}
	})
	out, err := g.cfg.Client.Follow(ctx, id, after, func(seq uint64, e wire.Event) {
		data, err := json.Marshal(e)
		if err == nil {
			send("id: %d\nevent: %s\ndata: %s\n\n", seq, e.Kind, data)
		}
	})
	if err == nil {
		err = g.cfg.Client.ResolveReport(ctx, &out)
	}
	if err != nil {
		if ctx.Err() == nil {
			g.log.Warn("event stream ended early", "job", id, "err", err)
			send("event: error\ndata: %s\n\n", errorBody(code(err), err.Error()))
		}
		return
	}
	data, err := json.Marshal(out)
	if err == nil {
		send("event: outcome\ndata: %s\n\n", data)
	}
}

// resumeAfter is the event sequence a stream resumes after: Last-Event-ID
// (a reconnecting EventSource sends it) or ?after=N; 0 is the start.
func resumeAfter(r *http.Request) (uint64, error) {
	s := r.Header.Get("Last-Event-ID")
	if s == "" {
		s = r.URL.Query().Get("after")
	}
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("event id %q (Last-Event-ID or ?after=): want the id of an event received, a whole number", s)
	}
	return n, nil
}

// fail writes the error reply for err.
func (g *Gateway) fail(w http.ResponseWriter, r *http.Request, err error) {
	c := code(err)
	msg := err.Error()
	if r.Context().Err() != nil {
		// The client went away, or the daemon is stopping: a job submitted
		// goes on.
		c, msg = wire.CodeUnavailable, "the gateway is shutting down or the request was cancelled; a job already submitted goes on: ask GET /"+wire.Version+"/jobs/{id} for it"
	}
	if c == wire.CodeInternal {
		g.log.Warn("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, c, msg)
}

// code is the error code of err: the daemon's, or 503 when none answers.
func code(err error) string {
	var se *client.ServiceError
	switch {
	case errors.As(err, &se):
		return se.Code
	case errors.Is(err, client.ErrNoDaemon):
		return wire.CodeUnavailable
	}
	return wire.CodeInternal
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		writeError(w, wire.CodeInternal, "encode the reply: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}

func errorBody(code, msg string) []byte {
	data, _ := json.Marshal(wire.ErrorReply{Code: code, Error: msg})
	return data
}

// writeError writes an error reply: the code as the status, an
// ErrorReply as the body.
func writeError(w http.ResponseWriter, code, msg string) {
	status, err := strconv.Atoi(code)
	if err != nil {
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(errorBody(code, msg), '\n'))
}

// Listen opens addr for the gateway: a loopback address, or any address
// when clients must authenticate (auth). It fails at once on a port that
// is taken.
func Listen(ctx context.Context, addr string, auth Auth) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("HTTP gateway: listen address %q: %w (want host:port, e.g. 127.0.0.1:8080)", addr, err)
	}
	if !auth.Configured() && !natsserver.Loopback(host) {
		return nil, fmt.Errorf("HTTP gateway: %s: %w", addr, ErrOpen)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("HTTP gateway: %w", err)
	}
	return ln, nil
}

// Serve serves the gateway on ln until ctx ends; then it stops at once:
// requests in progress (event streams, waiting submits) see their context
// end and get a 503 if they have not replied yet.
func (g *Gateway) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           g,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
	}
	stop, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-stop.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if srv.Shutdown(shutdownCtx) != nil {
			srv.Close()
		}
	}()
	err := srv.Serve(ln)
	cancel()
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
