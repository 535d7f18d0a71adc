// Package natsserver runs an embedded NATS server with JetStream, so that
// `bestpatch serve` alone is the whole service on one machine: the daemon
// and its message broker in one process, with the broker's state (queued
// runs, results, verdicts) in a directory on disk.
package natsserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// readyTimeout bounds how long Start waits for the server to accept clients
// (JetStream recovers its streams from disk before that).
const readyTimeout = 2 * time.Minute

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
	// Log receives the server's messages; nil discards them.
	Log *slog.Logger
}

// Server is a running embedded NATS server.
type Server struct {
	ns *server.Server
}

// Start starts a server with JetStream and waits until it accepts clients.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.StoreDir == "" {
		return nil, errors.New("embedded NATS server: no store directory: give one (--store-dir) so that queued work survives a restart")
	}
	listen := cfg.Listen
	if listen == "" {
		listen = "127.0.0.1:4222"
	}
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS server: listen address %q: %w (want host:port, e.g. 127.0.0.1:4222)", listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("embedded NATS server: listen address %q: port %q is not a port number", listen, portText)
	}
	if port == 0 {
		port = server.RANDOM_PORT
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
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS server: %w", err)
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ns.SetLoggerV2(&logger{log: log.With("component", "nats-server")}, false, false, false)
	ready := make(chan bool, 1)
	go func() {
		ns.Start()
		ready <- ns.ReadyForConnections(readyTimeout)
	}()
	select {
	case ok := <-ready:
		if !ok {
			ns.Shutdown()
			return nil, fmt.Errorf("embedded NATS server on %s did not become ready within %s: is the address in use, or the store directory %s locked by another server?", listen, readyTimeout, cfg.StoreDir)
		}
	case <-ctx.Done():
		ns.Shutdown()
		return nil, ctx.Err()
	}
	return &Server{ns: ns}, nil
}

// ClientURL is the URL clients connect to.
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// Shutdown stops the server and waits until it has stopped and flushed its
// store.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// logger routes the server's log lines to slog.
type logger struct{ log *slog.Logger }

func (l *logger) Noticef(format string, v ...any) { l.log.Info(fmt.Sprintf(format, v...)) }
func (l *logger) Warnf(format string, v ...any)   { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l *logger) Fatalf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *logger) Errorf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *logger) Debugf(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *logger) Tracef(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
