package docker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/cenkalti/backoff/v5"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
)

// Default settings of the Docker backend; see Config.
const (
	DefaultMemoryMB   = 4096
	DefaultCPUs       = 1.0
	DefaultPIDs       = 1024
	DefaultWorkdir    = "/testbed"
	DefaultRetries    = 2
	DefaultSetupGrace = 3 * time.Minute
	DefaultAhead      = 2
)

// Config configures the Docker backend. The zero value is usable.
type Config struct {
	// Host is the engine's address (unix:///var/run/docker.sock,
	// tcp://host:2376); empty takes DOCKER_HOST and the other DOCKER_*
	// variables from the environment, as the docker CLI does.
	Host string
	// Limits apply to runs whose Environment leaves a limit at zero; zero
	// fields here take DefaultMemoryMB, DefaultCPUs and DefaultPIDs.
	Limits executor.Limits
	// Retries is how many times a run that failed for an engine reason
	// (unreachable, disk full, an API error) is tried again; 0 means
	// DefaultRetries, a negative value none.
	Retries int
	// SetupGrace is how long a container may live beyond the run's timeout
	// (reset, patching, copying) before the Go side kills it: the backstop
	// behind run.sh's own timeout. 0 means DefaultSetupGrace.
	SetupGrace time.Duration
	// MaxRuns caps the containers running at once; 0 derives the cap from
	// the engine's CPUs and memory and each run's limits.
	MaxRuns int
	// CreateGap spaces out container creations (0: none). For an engine
	// that chokes on bursts; Docker 20.10 here creates and starts four
	// containers 1.4x faster at once than one by one, so the default is
	// none (docs/DOCKER.md).
	CreateGap time.Duration
	// Ahead is how many containers are kept made ahead of need for each
	// environment a run used (created, started, work tree reset, each for
	// one run only; removed after 30 s unused and at Close); 0 means
	// DefaultAhead, a negative value none (every run makes its container).
	// With Reuse, it is how many idle reused containers are kept so.
	Ahead int
	// WorkdirVolume gives each container a fresh anonymous volume at the
	// run's workdir, which the engine fills with a copy of the image's
	// workdir when it creates the container and removes with the
	// container: git and the tests then read the repository from an
	// ordinary file system instead of the storage driver (on
	// fuse-overlayfs, sympy's per-run git steps 345 -> 117 ms and its test
	// command 2.9 -> 1.9 s). It costs the copy at every creation and a copy
	// of the repository on the engine's disk per live container. Off by
	// default: measured on 2 cores, the copies made creation the
	// bottleneck (5 of 10 runs waited for their container, the job took
	// 40 s instead of 18 s; docs/DOCKER.md, "The workdir on a volume"). A
	// workdir that is not a directory in the image stays in the image.
	WorkdirVolume bool
	// Reuse lets a container serve several runs of the same environment
	// one after another (its keeper reads each run on the container's
	// attach connection, keeper.go), instead of a fresh container per
	// run: no engine call per run once the container is made, and weaker
	// isolation between the runs of a container (docs/DOCKER.md, "Reused
	// containers"): the work tree is reset, every process is killed and
	// /tmp is emptied between runs, but what a run writes elsewhere
	// (the home directory, installed packages, ignored files in the
	// repository) is seen by the next. Off by default: for trusted
	// candidates only, such as a benchmark of known systems.
	Reuse bool
	// Log receives retries and clean-up failures; nil discards them.
	Log *slog.Logger
	// Observe, if set, receives where each run's time went (measurements:
	// bench speed, the benchmarks); run.sh then stamps its steps.
	Observe func(RunTiming)
}

// Executor is the Docker backend. It runs each Run in a fresh container of
// the run's image: no network, memory/CPU/PID limits, all capabilities
// dropped, no-new-privileges, and the container is removed whatever happens.
// It implements the selector's Executor. Safe for concurrent use; Close it
// when done.
type Executor struct {
	cli   *client.Client
	cfg   Config
	owner executor.Owner
	slots *slots
	log   *slog.Logger
	// driver is the engine's storage driver (StorageDriver).
	driver string
	// mounts are added to every container; only the strategy measurements
	// set them (a shared GOCACHE volume), see docs/DOCKER.md for why runs
	// share nothing by default.
	mounts []mount.Mount
	ready  *pool[*sandbox]
	ro     readOnlyCopies
	wd     workdirVolumes
	tmp    tmpDirs
	reuse  *pool[*worker]
	// stopCommand stops a cancelled run in a reused container (reuse.go);
	// tests slow it down.
	stopCommand []string
}

// Handles says whether env is the Docker backend's to run: it names an
// image.
func Handles(env executor.Environment) bool { return env.Image != "" }

// New connects to the engine, negotiating the API version (the
// engine may be as old as Docker 20.10, API 1.41), and sizes the
// concurrency from the engine's CPUs and memory. It fails, saying what to
// do, when no engine answers.
func New(ctx context.Context, cfg Config) (*Executor, error) {
	opts := []client.Opt{client.FromEnv}
	if cfg.Host != "" {
		opts = append(opts, client.WithHost(cfg.Host))
	}
	cli, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker backend: configure the engine client: %w; check DOCKER_HOST and the other DOCKER_* variables", err)
	}
	// Negotiate now: a lazy negotiation that fails would let the first real
	// request go out at the client's newest API version and come back with
	// a confusing "client version is too new".
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		cli.Close()
		return nil, unreachable(cli.DaemonHost(), err)
	}
	info, err := cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		cli.Close()
		return nil, fmt.Errorf("docker backend: read the engine's resources at %s: %w", cli.DaemonHost(), err)
	}
	own, err := executor.NewOwner()
	if err != nil {
		cli.Close()
		return nil, err
	}
	cfg.Limits = defaultLimits(cfg.Limits)
	switch {
	case cfg.Retries == 0:
		cfg.Retries = DefaultRetries
	case cfg.Retries < 0:
		cfg.Retries = 0
	}
	if cfg.SetupGrace <= 0 {
		cfg.SetupGrace = DefaultSetupGrace
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Ahead == 0 {
		cfg.Ahead = DefaultAhead
	}
	if advice := storageAdvice(info.Info.Driver); advice != "" {
		log.Warn("the engine's storage driver makes runs slower", "engine", cli.DaemonHost(), "driver", info.Info.Driver, "why", advice)
	}
	d := &Executor{
		cli:    cli,
		cfg:    cfg,
		owner:  own,
		slots:  newSlots(info.Info.NCPU, info.Info.MemTotal, cfg.MaxRuns, cfg.CreateGap),
		log:    log,
		driver: info.Info.Driver,

		stopCommand: stopCommand,
	}
	d.ready = newReady(d, cfg.Ahead)
	d.ro.byKey, d.ro.byImage = map[string]string{}, map[string][]mount.Mount{}
	d.wd.isDir = map[string]bool{}
	d.tmp.empty = map[string]bool{}
	d.reuse = newWorkers(d, cfg.Ahead)
	return d, nil
}

// Close removes the containers made ahead, waits for the removals under
// way and releases the engine connection. Runs in progress are not stopped;
// each removes its container when it ends.
func (d *Executor) Close() error {
	d.reuse.close()
	d.ready.close()
	// Then the containers of makes that close cancelled before they
	// started.
	d.removeUnstarted()
	return d.cli.Close()
}

// Settle waits for the background work started so far: the containers
// being made ahead and the removals. For measurements, which must not
// count it against the next job.
func (d *Executor) Settle() {
	d.ready.settle()
	d.reuse.settle()
}

// APIVersion is the Engine API version negotiated with the engine.
func (d *Executor) APIVersion() string { return d.cli.ClientVersion() }

// Run runs one Run in a fresh container and removes the container. An
// invalid run or a cancelled ctx is an error; every failure of the
// environment is a Result with Status Infra (engine failures retried
// first), never a test failure.
func (d *Executor) Run(ctx context.Context, run executor.Run) (executor.Result, error) {
	st, err := executor.NewStage(run)
	if err != nil {
		return executor.Result{}, err
	}
	if run.Env.Image == "" {
		return executor.Result{}, errors.New("invalid run: the environment names no image: the Docker backend runs environment.image (use the Local backend for environment.repo)")
	}
	if res, ok := st.Settled(); ok {
		return res, nil
	}
	spec := d.containerSpec(run, st)
	slotWait := time.Now()
	release, err := d.slots.acquire(ctx, spec.limits)
	if err != nil {
		return executor.Result{}, fmt.Errorf("docker backend: wait for a free slot: %w", err)
	}
	defer release()

	begin := time.Now()
	var timing RunTiming
	tries := uint(d.cfg.Retries + 1)
	// backoff rather than a hand-written loop: jittered exponential delays,
	// a try cap, permanent errors and ctx cancellation in one tested call.
	res, err := backoff.Retry(ctx, func() (executor.Result, error) {
		timing = RunTiming{Image: run.Env.Image, Slot: begin.Sub(slotWait)}
		su, err := d.imageSetup(ctx, run.Env.Image, spec.config.WorkingDir, run.Report != "")
		if err != nil {
			return executor.Result{}, err
		}
		var res executor.Result
		if d.cfg.Reuse {
			res, err = d.attemptReused(ctx, run, st, spec.with(su), &timing)
		} else {
			res, err = d.attempt(ctx, run, st, spec.with(su), &timing)
		}
		if err != nil && ctx.Err() == nil && !errors.As(err, new(*permanentError)) {
			d.log.Warn("docker run failed; retrying", "image", run.Env.Image, "err", err)
		}
		return res, err
	},
		backoff.WithBackOff(&backoff.ExponentialBackOff{
			InitialInterval:     time.Second,
			RandomizationFactor: 0.5,
			Multiplier:          2,
			MaxInterval:         15 * time.Second,
		}),
		backoff.WithMaxTries(tries),
		backoff.WithMaxElapsedTime(0), // the try cap bounds it; ctx bounds the whole
	)
	if cerr := ctx.Err(); cerr != nil {
		return executor.Result{}, fmt.Errorf("docker backend: run in %s: %w", run.Env.Image, context.Cause(ctx))
	}
	if err != nil {
		res = executor.Result{Status: executor.Infra, Reason: infraReason(err, d.cli.DaemonHost())}
	}
	res.Duration = time.Since(begin)
	if d.cfg.Observe != nil {
		timing.Total = res.Duration
		d.cfg.Observe(timing)
	}
	return res, nil
}

// permanentError marks an infrastructure failure that retrying cannot fix
// (a missing image); it is reported at once.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// permanent wraps err so that backoff.Retry stops at once and the
// classification still sees it.
func permanent(err error) error { return backoff.Permanent(&permanentError{err}) }

func defaultLimits(l executor.Limits) executor.Limits {
	if l.MemoryMB <= 0 {
		l.MemoryMB = DefaultMemoryMB
	}
	if l.CPUs <= 0 {
		l.CPUs = DefaultCPUs
	}
	if l.PIDs <= 0 {
		l.PIDs = DefaultPIDs
	}
	return l
}

// mergeLimits takes each limit from the run's environment, else from the
// backend's defaults.
func mergeLimits(env, def executor.Limits) executor.Limits {
	if env.MemoryMB <= 0 {
		env.MemoryMB = def.MemoryMB
	}
	if env.CPUs <= 0 {
		env.CPUs = def.CPUs
	}
	if env.PIDs <= 0 {
		env.PIDs = def.PIDs
	}
	return env
}
