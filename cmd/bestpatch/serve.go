package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/bestpatch/bestpatch/internal/metrics"
	"github.com/bestpatch/bestpatch/internal/natsserver"
	"github.com/bestpatch/bestpatch/internal/runcache"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/service"
)

// serveFlags are the flags of `bestpatch serve`.
type serveFlags struct {
	runtime runtimeFlags
	// Joining a NATS server.
	natsURL, creds, nkey, user, password, tlsCA, tlsCert, tlsKey string
	// The embedded server.
	listen, storeDir string
	// The daemon.
	name          string
	metricsAddr   string
	ackWait       time.Duration
	maxAttempts   int
	retention     time.Duration
	replicas      int
	shutdownGrace time.Duration
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon: a NATS service that takes jobs and shares their runs with other daemons",
		Long: `serve runs the bestpatch daemon, a NATS micro service named "bestpatch"
(see docs/DAEMON.md for its subjects and messages).

Without --nats-url it starts an embedded NATS server with JetStream (state
in --store-dir), so this one command is the whole service on one machine.
With --nats-url it joins an existing NATS server or cluster; every daemon on
the same server shares the work: each pulls runs for its free workers.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return f.run(cmd.Context()) },
	}
	fl := cmd.Flags()
	f.runtime.register(fl)
	fl.Lookup("log-level").DefValue = "info"
	fl.Set("log-level", "info")
	fl.StringVar(&f.natsURL, "nats-url", "", "join this NATS server or cluster (comma-separated URLs) instead of starting an embedded one")
	fl.StringVar(&f.creds, "creds", "", "NATS credentials file (JWT and NKey seed)")
	fl.StringVar(&f.nkey, "nkey", "", "NATS NKey seed file")
	fl.StringVar(&f.user, "user", "", "NATS user")
	fl.StringVar(&f.password, "password", "", "NATS password (or set BESTPATCH_NATS_PASSWORD)")
	fl.StringVar(&f.tlsCA, "tls-ca", "", "CA certificate to verify the NATS server")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "client certificate for NATS (with --tls-key)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "client key for NATS (with --tls-cert)")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:4222", "embedded NATS server: client address (port 0 picks one)")
	fl.StringVar(&f.storeDir, "store-dir", defaultStoreDir(), "embedded NATS server: JetStream directory (queued runs, results and verdicts survive restarts)")
	fl.StringVar(&f.name, "name", "", "daemon name in results, events and logs (default host-pid-random)")
	fl.StringVar(&f.metricsAddr, "metrics-addr", "", "serve Prometheus metrics on this address at /metrics (e.g. :9090)")
	fl.DurationVar(&f.ackWait, "ack-wait", service.DefaultAckWait, "a run silent this long goes to another daemon (all daemons should agree)")
	fl.IntVar(&f.maxAttempts, "max-attempts", service.DefaultMaxAttempts, "deliveries of a run before an executor error is recorded as an infrastructure failure")
	fl.DurationVar(&f.retention, "retention", service.DefaultRetention, "how long jobs, results and verdicts are kept")
	fl.IntVar(&f.replicas, "replicas", 1, "replicas of the streams and buckets (3 in a JetStream cluster)")
	fl.DurationVar(&f.shutdownGrace, "shutdown-grace", 0, "on SIGTERM, let runs in progress finish this long before handing them back to the queue")
	return cmd
}

func defaultStoreDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "bestpatch-nats")
	}
	return filepath.Join(dir, "bestpatch", "nats")
}

func (f *serveFlags) run(ctx context.Context) error {
	log := f.runtime.logger(os.Stderr)
	var embedded *natsserver.Server
	url := f.natsURL
	if url == "" {
		var err error
		embedded, err = natsserver.Start(ctx, natsserver.Config{Listen: f.listen, StoreDir: f.storeDir, Log: log})
		if err != nil {
			return err
		}
		defer embedded.Shutdown()
		url = embedded.ClientURL()
		log.Info("embedded NATS server started", "url", url, "store_dir", f.storeDir)
	}
	opts, err := f.natsOptions(log)
	if err != nil {
		return err
	}
	closed := make(chan struct{})
	opts = append(opts, nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return fmt.Errorf("connect to NATS at %s: %w (check --nats-url and the credentials)", url, err)
	}
	defer func() {
		if err := nc.Drain(); err == nil {
			<-closed
		}
	}()

	exec, closeExec, err := f.runtime.newExecutor(ctx, log)
	if err != nil {
		return err
	}
	defer closeExec()
	var cache selector.Cache
	if !f.runtime.noCache {
		if cache, err = runcache.Open(f.runtime.cacheDir); err != nil {
			return err
		}
	}
	var m *metrics.Daemon
	if f.metricsAddr != "" {
		m = metrics.New()
		addr, err := m.Serve(ctx, f.metricsAddr)
		if err != nil {
			return err
		}
		log.Info("metrics served", "url", fmt.Sprintf("http://%s/metrics", addr))
	}
	d, err := service.Start(ctx, service.Config{
		Conn: nc, Exec: exec, Cache: cache, Slots: f.runtime.workers, Name: f.name,
		ExecutorName: f.runtime.executor, AckWait: f.ackWait, MaxAttempts: f.maxAttempts,
		Retention: f.retention, Replicas: f.replicas, ShutdownGrace: f.shutdownGrace,
		Log: log, Metrics: m,
	})
	if err != nil {
		return err
	}
	<-ctx.Done()
	return d.Shutdown(context.Background())
}

// natsOptions turns the connection flags into nats.go options.
func (f *serveFlags) natsOptions(log *slog.Logger) ([]nats.Option, error) {
	opts := []nats.Option{
		nats.Name("bestpatch serve"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn("disconnected from NATS; reconnecting", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("reconnected to NATS", "url", nc.ConnectedUrlRedacted()) }),
	}
	if f.creds != "" {
		opts = append(opts, nats.UserCredentials(f.creds))
	}
	if f.nkey != "" {
		opt, err := nats.NkeyOptionFromSeed(f.nkey)
		if err != nil {
			return nil, fmt.Errorf("--nkey %s: %w", f.nkey, err)
		}
		opts = append(opts, opt)
	}
	password := f.password
	if password == "" {
		password = os.Getenv("BESTPATCH_NATS_PASSWORD")
	}
	if f.user != "" {
		opts = append(opts, nats.UserInfo(f.user, password))
	}
	if f.tlsCA != "" {
		opts = append(opts, nats.RootCAs(f.tlsCA))
	}
	switch {
	case f.tlsCert != "" && f.tlsKey != "":
		opts = append(opts, nats.ClientCert(f.tlsCert, f.tlsKey))
	case f.tlsCert != "" || f.tlsKey != "":
		return nil, errors.New("--tls-cert and --tls-key go together: give both")
	}
	return opts, nil
}

// executor builds the daemon's executor: auto routes each run by its
// environment (Docker when an engine answers, Local for checkouts).
