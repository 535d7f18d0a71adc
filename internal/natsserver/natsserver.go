// Package natsserver runs an embedded NATS server with JetStream, so that
// `bestpatch serve` alone is the whole service on one machine: the daemon
// and its message broker in one process, with the broker's state (queued
// runs, results, verdicts) in a directory on disk.
//
// Every client of the server may submit jobs, and a job runs code. So the
// server refuses to listen beyond loopback unless clients must
// authenticate (Auth).
package natsserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// readyTimeout bounds how long Start waits for the server to accept clients
// (JetStream recovers its streams from disk before that). A server that
// cannot start at all (the port is taken) says so at once and Start returns
// its reason without waiting.
const readyTimeout = 2 * time.Minute

// readyPoll is how long one ask of ReadyForConnections lasts: how long the
// wait goes on after Start has returned.
const readyPoll = 50 * time.Millisecond

// ErrOpen means the server would listen beyond loopback with no
// authentication: anyone who reaches the address could submit jobs.
var ErrOpen = errors.New("listening beyond loopback without authentication")

// Config configures an embedded server.
type Config struct {
	// Listen is the client address, host:port; port 0 picks a free port.
	// Empty means 127.0.0.1:4222.
	Listen string
	// StoreDir holds JetStream's files. Restarting on the same directory
	// recovers every stream, bucket and un-acknowledged message.
	StoreDir string
	// Name is the server's name; empty lets the server choose.
	Name string
	// Auth is who may connect. Without it, Start listens on loopback
	// addresses only.
	Auth Auth
	// Log receives the server's messages; nil discards them. Its startup
	// banner (version, ASCII art, JetStream's settings: two dozen notices)
	// goes at debug level, so that a JSON log at info holds none of it;
	// the caller logs one line once the server is ready.
	Log *slog.Logger
	// Cluster, if set, makes the server one of a cluster with clustered
	// JetStream (streams and buckets replicated over its servers). Name
	// must then be set, and differ from every other server's.
	Cluster *Cluster
}

// Cluster is how an embedded server joins a NATS cluster. Routes carry
// every client's messages between the servers and are not authenticated
// here, so they listen on loopback only: several servers on one host (a
// test, or several daemons sharing one machine). Across hosts, run
// nats-server with route authentication and TLS, and join it with
// --nats-url.
type Cluster struct {
	// Name is the cluster's name, the same on every server of it.
	Name string
	// Listen is the route address, host:port on loopback.
	Listen string
	// Routes are the route URLs of the cluster's servers
	// (nats-route://127.0.0.1:6222), this one's among them or not: every
	// server lists the same, and they find each other whatever the order
	// they start in. JetStream starts only with routes to solicit.
	Routes []string
}

// apply sets the server's cluster options.
func (c *Cluster) apply(opts *server.Options) error {
	if c.Name == "" {
		return errors.New("a cluster needs a name, the same on every server")
	}
	if opts.ServerName == "" {
		return errors.New("a server of a cluster needs a name of its own (JetStream tells the servers apart by name)")
	}
	host, port, err := hostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("route address: %w", err)
	}
	if !Loopback(host) {
		return fmt.Errorf("route address %s: the embedded server's routes are not authenticated and listen on loopback only: across hosts, run nats-server with route authentication and TLS and join it with --nats-url", c.Listen)
	}
	if len(c.Routes) == 0 {
		return errors.New("no route to the other servers: give the route URLs of the cluster's servers")
	}
	opts.Cluster = server.ClusterOpts{Name: c.Name, Host: host, Port: port}
	for _, r := range c.Routes {
		u, err := url.Parse(r)
		if err != nil || u.Host == "" {
			return fmt.Errorf("route %q: want a URL such as nats-route://127.0.0.1:6222", r)
		}
		opts.Routes = append(opts.Routes, u)
	}
	return nil
}

// hostPort splits a listen address; port 0 becomes the server's "pick a
// free port".
func hostPort(listen string) (string, int, error) {
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return "", 0, fmt.Errorf("listen address %q: %w (want host:port, e.g. 127.0.0.1:4222)", listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("listen address %q: port %q is not a port number", listen, portText)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return host, port, nil
}

// Auth is how clients authenticate to the embedded server: one token, or
// users with passwords and users with NKeys (which may be combined).
type Auth struct {
	// Token is a shared secret every client presents.
	Token string
	// User and Password are one user's name and password.
	User, Password string
	// NKeys are the public user NKeys (starting with U) allowed in; each
	// client proves it holds the seed of one.
	NKeys []string
}

// Configured reports whether clients must authenticate.
func (a Auth) Configured() bool { return a.Token != "" || a.User != "" || len(a.NKeys) > 0 }

// apply sets the server's authentication options.
func (a Auth) apply(opts *server.Options) error {
	if a.Token != "" && (a.User != "" || len(a.NKeys) > 0) {
		return errors.New("a token cannot be combined with users or NKeys: choose one way to authenticate")
	}
	if (a.User == "") != (a.Password == "") {
		return errors.New("a user needs a password, and a password a user: give both")
	}
	opts.Authorization = a.Token
	if a.User != "" {
		opts.Users = []*server.User{{Username: a.User, Password: a.Password}}
	}
	for _, k := range a.NKeys {
		if !nkeys.IsValidPublicUserKey(k) {
			return fmt.Errorf("NKey %q is not a public user key (it starts with U, 56 characters; `nk -inkey SEED -pubout` prints it)", k)
		}
		opts.Nkeys = append(opts.Nkeys, &server.NkeyUser{Nkey: k})
	}
	return nil
}

// Server is a running embedded NATS server.
type Server struct {
	ns *server.Server
}

// Start starts a server with JetStream and waits until it accepts clients.
// It fails at once when the server cannot start (the address is in use,
// the store directory is locked), naming the reason.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.StoreDir == "" {
		return nil, errors.New("embedded NATS server: no store directory: give one (--store-dir) so that queued work survives a restart")
	}
	listen := cfg.Listen
	if listen == "" {
		listen = "127.0.0.1:4222"
	}
	host, port, err := hostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS server: %w", err)
	}
	if !cfg.Auth.Configured() && !Loopback(host) {
		return nil, fmt.Errorf("embedded NATS server: %s: %w", listen, ErrOpen)
	}
	opts := &server.Options{
		ServerName: cfg.Name,
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		// The process's own signal handling stops the server, in order.
		NoSigs: true,
	}
	if err := cfg.Auth.apply(opts); err != nil {
		return nil, fmt.Errorf("embedded NATS server: authentication: %w", err)
	}
	if cfg.Cluster != nil {
		if err := cfg.Cluster.apply(opts); err != nil {
			return nil, fmt.Errorf("embedded NATS server: cluster: %w", err)
		}
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS server: %w", err)
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// The server reports what stops it from serving (a port in use) as a
	// fatal log line and then waits; the logger turns that into an error.
	fatal := make(chan string, 1)
	lg := &logger{log: log.With("component", "nats-server"), fatal: fatal}
	ns.SetLoggerV2(lg, false, false, false)
	// ReadyForConnections does not notice a Shutdown: it is asked in short
	// slices, so that the wait ends soon after Start returns, whatever ends
	// Start (a fatal line, ctx).
	ready := make(chan bool, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		ns.Start()
		deadline := time.Now().Add(readyTimeout)
		for {
			if ns.ReadyForConnections(readyPoll) {
				ready <- true
				return
			}
			select {
			case <-stop:
				return
			default:
			}
			if time.Now().After(deadline) {
				ready <- false
				return
			}
		}
	}()
	select {
	case ok := <-ready:
		if ok {
			lg.ready.Store(true)
			return &Server{ns: ns}, nil
		}
		ns.Shutdown()
		return nil, fmt.Errorf("embedded NATS server on %s did not become ready within %s: is the store directory %s locked by another server?", listen, readyTimeout, cfg.StoreDir)
	case why := <-fatal:
		ns.Shutdown()
		return nil, fmt.Errorf("embedded NATS server on %s cannot start: %s", listen, why)
	case <-ctx.Done():
		ns.Shutdown()
		return nil, ctx.Err()
	}
}

// Loopback reports whether a listen host reaches this machine only: a
// loopback IP or "localhost". An empty host, 0.0.0.0 or :: listen on every
// interface.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ClientURL is the URL clients connect to.
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// RouteURL is the URL other servers of the cluster route to; empty when
// the server is not clustered.
func (s *Server) RouteURL() string {
	addr := s.ns.ClusterAddr()
	if addr == nil {
		return ""
	}
	return "nats-route://" + addr.String()
}

// Shutdown stops the server and waits until it has stopped and flushed its
// store.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// logger routes the server's log lines to slog, and the first fatal one to
// Start. Notices before the server is ready are its banner: debug level.
type logger struct {
	log   *slog.Logger
	fatal chan<- string
	ready atomic.Bool
}

func (l *logger) Noticef(format string, v ...any) {
	if l.ready.Load() {
		l.log.Info(fmt.Sprintf(format, v...))
	} else {
		l.log.Debug(fmt.Sprintf(format, v...))
	}
}

func (l *logger) Warnf(format string, v ...any)  { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l *logger) Errorf(format string, v ...any) { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *logger) Debugf(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *logger) Tracef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }

func (l *logger) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.log.Error(msg)
	select {
	case l.fatal <- msg:
	default:
	}
}
