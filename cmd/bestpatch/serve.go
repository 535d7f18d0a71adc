package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/bestpatch/bestpatch/internal/metrics"
	"github.com/bestpatch/bestpatch/internal/natsserver"
	"github.com/bestpatch/bestpatch/internal/runcache"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/client"
	"github.com/bestpatch/bestpatch/selector/gateway"
	"github.com/bestpatch/bestpatch/selector/service"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// serveFlags are the flags of `bestpatch serve`.
type serveFlags struct {
	runtime runtimeFlags
	// Joining a NATS server; token, nkey and user/password also secure the
	// embedded server.
	natsURL, creds, nkey, user, password, token, tlsCA, tlsCert, tlsKey string
	// The embedded server.
	listen, storeDir string
	clientNKeys      []string
	// unsafeLocal lets repo tasks run on this host, unsandboxed.
	unsafeLocal bool
	// The daemon.
	name          string
	metricsAddr   string
	httpListen    string
	ackWait       time.Duration
	maxAttempts   int
	retention     time.Duration
	replicas      int
	shutdownGrace time.Duration
	cpuProfile    string
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
the same server shares the work: each pulls runs for its free workers.

Safe by default: every NATS client may submit jobs, and a job runs code. The
daemon runs tasks in Docker only (a "repo" task gets a 400) unless started
with --unsafe-local-executor, and the embedded server listens beyond
loopback only when clients must authenticate (--token, --user/--password or
--nkey; see "Threat model" in docs/DAEMON.md).

Examples:
  # One machine, clients on the same machine:
  bestpatch serve --executor docker
  # One machine, clients elsewhere, who present the token:
  BESTPATCH_NATS_TOKEN=$(cat /etc/bestpatch/token) bestpatch serve --listen 0.0.0.0:4222
  # Join a cluster:
  bestpatch serve --nats-url nats://nats-1:4222 --creds /etc/bestpatch/daemon.creds
  # Also take jobs over HTTP on this machine (docs/DAEMON.md, HTTP gateway):
  bestpatch serve --http-listen 127.0.0.1:8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return f.run(cmd.Context()) },
	}
	fl := cmd.Flags()
	f.runtime.register(fl)
	fl.Lookup("log-level").DefValue = "info"
	fl.Set("log-level", "info")
	fl.StringVar(&f.natsURL, "nats-url", "", "join this NATS server or cluster (comma-separated URLs) instead of starting an embedded one")
	fl.StringVar(&f.creds, "creds", "", "NATS credentials file (JWT and NKey seed), to join a server in operator mode (--nats-url)")
	fl.StringVar(&f.nkey, "nkey", "", "NATS NKey seed file; the embedded server lets this key in")
	fl.StringVar(&f.user, "user", "", "NATS user; the embedded server has this one user (with --password)")
	fl.StringVar(&f.password, "password", "", "NATS password (or set BESTPATCH_NATS_PASSWORD)")
	fl.StringVar(&f.token, "token", "", "NATS token (or set BESTPATCH_NATS_TOKEN); the embedded server asks every client for it")
	fl.StringVar(&f.tlsCA, "tls-ca", "", "CA certificate to verify the NATS server (--nats-url)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "client certificate for NATS (with --tls-key; --nats-url)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "client key for NATS (with --tls-cert; --nats-url)")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:4222", "embedded NATS server: client address (port 0 picks one); beyond loopback only with --token, --user/--password or --nkey")
	fl.StringSliceVar(&f.clientNKeys, "client-nkey", nil, "embedded NATS server: also let in this public user NKey (U...), so that a client need not hold the daemon's seed (repeatable)")
	fl.BoolVar(&f.unsafeLocal, "unsafe-local-executor", false, "UNSAFE: let jobs on local checkouts (\"repo\") run their patches and test_command on this host, unsandboxed, as this user; only when every NATS client is trusted")
	fl.StringVar(&f.storeDir, "store-dir", defaultStoreDir(), "embedded NATS server: JetStream directory (queued runs, results and verdicts survive restarts)")
	fl.StringVar(&f.name, "name", "", "daemon name in results, events and logs (default host-pid-random)")
	fl.StringVar(&f.metricsAddr, "metrics-addr", "", "serve Prometheus metrics on this address at /metrics (e.g. :9090)")
	fl.StringVar(&f.httpListen, "http-listen", "", "serve the HTTP gateway (POST /v1/jobs, ...) on this address, e.g. 127.0.0.1:8080 (default: off); beyond loopback only with --token or --user/--password, which HTTP clients present")
	fl.DurationVar(&f.ackWait, "ack-wait", service.DefaultAckWait, "a run silent this long goes to another daemon (all daemons should agree)")
	fl.IntVar(&f.maxAttempts, "max-attempts", service.DefaultMaxAttempts, "deliveries of a run before an executor error is recorded as an infrastructure failure")
	fl.DurationVar(&f.retention, "retention", service.DefaultRetention, "how long jobs, results and verdicts are kept")
	fl.IntVar(&f.replicas, "replicas", 1, "copies of the streams, buckets and object store: 1 on one server, 3 on a JetStream cluster (at most its servers; never fewer than the streams already have)")
	fl.DurationVar(&f.shutdownGrace, "shutdown-grace", 0, "on SIGTERM, let runs in progress finish this long before handing them back to the queue")
	fl.StringVar(&f.cpuProfile, "cpu-profile", "", "write a CPU profile of the daemon to this file, from start to stop (go tool pprof reads it)")
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
	if f.cpuProfile != "" {
		stop, err := startCPUProfile(f.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	// The endpoint first: a bad --llm-* flag stops the daemon before it
	// takes a job.
	models, err := f.runtime.models()
	if err != nil {
		return err
	}
	if cfg, fromEnv := f.runtime.llmConfig(); models != nil {
		log.Info("model endpoint configured: jobs may ask for generated tests, judge scores and adversarial tests", "url", cfg.URL, "url_from_env", fromEnv, "model", cfg.Model)
	} else {
		log.Info("no model endpoint: jobs that ask for model work are refused; " + f.runtime.noModel())
	}
	if f.password == "" {
		f.password = os.Getenv("BESTPATCH_NATS_PASSWORD")
	}
	if f.token == "" {
		f.token = os.Getenv("BESTPATCH_NATS_TOKEN")
	}
	// Check what would run where, and who may call, before anything starts.
	rt, err := f.executorChoice(log)
	if err != nil {
		return err
	}
	var httpLn net.Listener
	if f.httpListen != "" {
		if httpLn, err = f.listenHTTP(ctx); err != nil {
			return err
		}
		defer httpLn.Close()
	}
	opts, err := f.natsOptions(log)
	if err != nil {
		return err
	}
	var embedded *natsserver.Server
	url := f.natsURL
	if url == "" {
		auth, err := f.embeddedAuth()
		if err != nil {
			return err
		}
		embedded, err = natsserver.Start(ctx, natsserver.Config{Listen: f.listen, StoreDir: f.storeDir, Auth: auth, Log: log})
		switch {
		case errors.Is(err, natsserver.ErrOpen):
			return fmt.Errorf("%w: anyone who reaches --listen %s could submit jobs: add --token (or BESTPATCH_NATS_TOKEN), --user with --password, or --nkey SEED_FILE, or listen on 127.0.0.1", err, f.listen)
		case err != nil:
			return fmt.Errorf("%w: another process (another bestpatch serve?) may hold the port or the store directory %s: stop it, or choose another --listen (or --store-dir)", err, f.storeDir)
		}
		defer embedded.Shutdown()
		url = embedded.ClientURL()
		log.Info("embedded NATS server started", "url", url, "store_dir", f.storeDir, "authentication", auth.Configured())
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

	exec, closeExec, err := rt.newExecutor(ctx, log, f.remedy)
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
		ExecutorName: rt.executor, AckWait: f.ackWait, MaxAttempts: f.maxAttempts,
		Retention: f.retention, Replicas: f.replicas, ShutdownGrace: f.shutdownGrace,
		Log: log, Metrics: m, Models: models,
	})
	if err != nil {
		return err
	}
	gatewayDone := make(chan error, 1)
	if httpLn != nil {
		cl, err := client.New(nc)
		if err != nil {
			return err
		}
		gw, err := gateway.New(gateway.Config{Client: cl, Auth: f.httpAuth(), Log: log.With("component", "http")})
		if err != nil {
			return err
		}
		go func() { gatewayDone <- gw.Serve(ctx, httpLn) }()
		log.Info("HTTP gateway serving", "url", "http://"+httpLn.Addr().String()+"/"+wire.Version+"/jobs", "authentication", f.httpAuth().Configured())
	} else {
		gatewayDone <- nil
	}
	<-ctx.Done()
	// The gateway's requests end with ctx; it is a client of the daemon, so
	// it stops first.
	if err := <-gatewayDone; err != nil {
		log.Warn("HTTP gateway stopped with an error", "err", err)
	}
	return d.Shutdown(context.Background())
}

// httpAuth is what HTTP clients present: the daemon's token or user and
// password, as NATS clients do.
func (f *serveFlags) httpAuth() gateway.Auth {
	return gateway.Auth{Token: f.token, User: f.user, Password: f.password}
}

// listenHTTP opens --http-listen. The gateway asks HTTP clients for the
// credentials NATS clients present; it cannot check an NKey or a
// credentials file, so a daemon whose NATS side takes only those refuses to
// open an HTTP door that would let anyone in.
func (f *serveFlags) listenHTTP(ctx context.Context) (net.Listener, error) {
	auth := f.httpAuth()
	if !auth.Configured() && (f.nkey != "" || f.creds != "" || len(f.clientNKeys) > 0) {
		return nil, errors.New("--http-listen: NATS clients authenticate with an NKey or a credentials file, which the HTTP gateway cannot check: give --user/--password (or --token) too, which HTTP clients then present, or drop --http-listen")
	}
	ln, err := gateway.Listen(ctx, f.httpListen, auth)
	switch {
	case errors.Is(err, gateway.ErrOpen):
		return nil, fmt.Errorf("--http-listen: %w: anyone who reaches %s could submit jobs: add --token (or BESTPATCH_NATS_TOKEN) or --user with --password, which HTTP clients then present, or listen on 127.0.0.1", err, f.httpListen)
	case err != nil:
		return nil, fmt.Errorf("--http-listen: %w: choose another address", err)
	}
	return ln, nil
}

// natsOptions turns the connection flags into nats.go options.
func (f *serveFlags) natsOptions(log *slog.Logger) ([]nats.Option, error) {
	opts := []nats.Option{
		nats.Name("bestpatch serve"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			// No error: the daemon closed the connection itself (shutdown).
			if err != nil {
				log.Warn("disconnected from NATS; reconnecting", "err", err)
			}
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
	if f.user != "" {
		opts = append(opts, nats.UserInfo(f.user, f.password))
	}
	if f.token != "" {
		opts = append(opts, nats.Token(f.token))
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

// executorChoice returns the runtime flags with the executor the daemon may
// use: the local executor runs a job's patches and test_command on this
// host, unsandboxed, so anyone who can submit a job could run code here;
// it is off unless --unsafe-local-executor says otherwise, and then a loud
// warning says so.
func (f *serveFlags) executorChoice(log *slog.Logger) (runtimeFlags, error) {
	r := f.runtime
	switch {
	case r.dockerReuse:
		return r, errors.New("--docker-reuse is refused by serve: a daemon runs the jobs of every NATS client, and in a reused container one job's runs see what another job's runs wrote outside the work tree; use it with select or batch on trusted candidates")
	case r.executor == "local" && !f.unsafeLocal:
		return r, errors.New("--executor local runs every job's patches and test_command on this host, unsandboxed, as this user: anyone who can submit a job could run code here. Use --executor docker, or, if every NATS client is trusted, add --unsafe-local-executor")
	case r.executor == "auto" && !f.unsafeLocal:
		// Docker only: a repo task is refused at submit (400).
		r.executor = "docker"
	case f.unsafeLocal && r.executor != "docker":
		u, _ := user.Current()
		name := "?"
		if u != nil {
			name = u.Username
		}
		log.Warn("UNSAFE: --unsafe-local-executor: jobs on local checkouts run their patches and test_command on this host, unsandboxed, as user "+name+"; anyone who can publish to the NATS server can run code here",
			"executor", r.executor, "user", name)
	}
	return r, nil
}

// remedy says how the operator gets a backend that a run pulled from the
// shared queue needs and this daemon lacks: the job was accepted by a daemon
// that has it, and daemons on one server should run with the same
// executor flags (docs/DAEMON.md). The local backend is off unless
// --unsafe-local-executor.
func (f *serveFlags) remedy(b backend) string {
	if b.name == "local" {
		return "this daemon runs Docker tasks only: if every NATS client is trusted, start every daemon on this NATS server with --unsafe-local-executor (and --executor auto, the default), else give the task an image (docs/DAEMON.md, Threat model)"
	}
	return "start every daemon on this NATS server with --executor " + b.name + " or auto, " + b.note
}

// embeddedAuth is the embedded server's authentication, from the same flags
// the daemon connects with.
func (f *serveFlags) embeddedAuth() (natsserver.Auth, error) {
	if f.creds != "" {
		return natsserver.Auth{}, errors.New("--creds holds a JWT for a NATS server in operator mode (--nats-url); the embedded server takes --token, --user/--password or --nkey")
	}
	if f.tlsCA != "" || f.tlsCert != "" || f.tlsKey != "" {
		return natsserver.Auth{}, errors.New("--tls-ca, --tls-cert and --tls-key are for joining a server with --nats-url; the embedded server does not serve TLS: run a NATS server with TLS and join it, or keep the embedded one on loopback")
	}
	auth := natsserver.Auth{Token: f.token, User: f.user, Password: f.password}
	if f.nkey != "" {
		seed, err := os.ReadFile(f.nkey)
		if err != nil {
			return auth, fmt.Errorf("--nkey: %w", err)
		}
		kp, err := nkeys.ParseDecoratedNKey(seed)
		if err != nil {
			return auth, fmt.Errorf("--nkey %s: not an NKey seed: %w", f.nkey, err)
		}
		pub, err := kp.PublicKey()
		if err != nil {
			return auth, fmt.Errorf("--nkey %s: %w", f.nkey, err)
		}
		auth.NKeys = append(auth.NKeys, pub)
	}
	if len(f.clientNKeys) > 0 && len(auth.NKeys) == 0 && f.user == "" {
		return auth, errors.New("--client-nkey lets clients in with their NKeys; the daemon needs its own way in too: add --nkey SEED_FILE or --user/--password")
	}
	auth.NKeys = append(auth.NKeys, f.clientNKeys...)
	return auth, nil
}

// startCPUProfile profiles this process's CPU into path until stop.
func startCPUProfile(path string) (stop func(), err error) {
	out, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpu-profile: %w", err)
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		out.Close()
		return nil, fmt.Errorf("--cpu-profile %s: %w", path, err)
	}
	return func() {
		pprof.StopCPUProfile()
		out.Close()
	}, nil
}
