// Package service is the bestpatch daemon: a NATS micro service that takes
// selection jobs and shares their runs with every other daemon on the same
// NATS server or cluster through JetStream.
//
// How a job flows (docs/DAEMON.md has the subjects and schemas):
//
//  1. A submit request stores the job in a key-value bucket and queues the
//     runs its plan needs first (selector.Plan.Needed) on a work-queue
//     stream that every daemon pulls from through one shared durable
//     consumer, one message per free worker slot.
//  2. A daemon runs a run (or finds it in its result cache), stores the
//     result first-writer-wins (kv.Create): a redelivered run can neither
//     overwrite nor double-count a result. Only then is the message acked.
//  3. It replays the plan from the job and the stored results up to its own
//     result's revision, queues the runs that this result made necessary,
//     and, when its result is the one that completed the plan, claims the
//     scoring (kv.Create again) and publishes the verdict on the job's
//     result subject, kept in a stream.
//
// Every step after a run is idempotent and keyed by the stored result's
// revision, so whichever daemon gets a redelivered message (the first one
// died) redoes exactly the same step.
//
// A job that needs nothing from the queue (execution-free, or every run in
// this daemon's result cache) skips steps 1-3: the submit request answers
// it (fast.go).
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/nats-io/nuid"
	"github.com/sourcegraph/conc"

	"github.com/bestpatch/bestpatch/generator"
	"github.com/bestpatch/bestpatch/internal/metrics"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/client"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// Defaults of Config.
const (
	DefaultAckWait     = 30 * time.Second
	DefaultMaxAttempts = 5
	DefaultRetention   = 7 * 24 * time.Hour
)

// Timings of the daemon's own housekeeping; none of them bounds a run.
const (
	// pullWait is how long one pull waits for a message (Shutdown ends a
	// pull at once).
	pullWait = 5 * time.Second
	// defaultOpTimeout bounds one JetStream operation (store, publish,
	// claim) or a short series of them.
	defaultOpTimeout = 30 * time.Second
	// queuePoll is how often the queue-depth gauge is refreshed.
	queuePoll = 5 * time.Second
	// viewIdle is how long a job's view (its results, watched) is kept by a
	// daemon that has no run of the job in hand.
	viewIdle = 2 * time.Minute
	// maxConcurrentRequests bounds the requests handled at once.
	maxConcurrentRequests = 64
)

// Config configures a daemon.
type Config struct {
	// Conn is the daemon's NATS connection. The caller owns it: drain it
	// after Shutdown.
	Conn *nats.Conn
	// Exec runs runs (local.Executor, docker.Executor).
	Exec selector.Executor
	// Cache, if set, serves runs already done on this host (by content).
	Cache selector.Cache
	// Slots is how many runs this daemon runs at once; 0 means the number
	// of cores.
	Slots int
	// Name identifies the daemon in stored results, events and logs; empty
	// means host-pid-random.
	Name string
	// Version is reported by the micro service (semver); empty means 0.1.0.
	Version string
	// ExecutorName is reported in the service metadata (docker, local).
	ExecutorName string
	// AckWait is how long a run's message may go without an
	// acknowledgement before JetStream hands it to another daemon; the
	// daemon signals progress every third of it. All daemons should agree:
	// the consumer is shared and the last daemon to start sets it.
	AckWait time.Duration
	// MaxAttempts is how many deliveries a run gets before an executor
	// error (or a daemon dying on it each time) is stored as an
	// infrastructure result rather than retried.
	MaxAttempts int
	// Retention is how long jobs, results and verdicts are kept.
	Retention time.Duration
	// Replicas of the streams and buckets (1 on a single server; 3 in a
	// cluster for fault tolerance).
	Replicas int
	// ShutdownGrace is how long Shutdown lets runs in progress finish
	// before it stops them and hands them back to the queue.
	ShutdownGrace time.Duration
	Log           *slog.Logger
	// Metrics, if set, records the daemon's metrics.
	Metrics *metrics.Daemon
	// Models, if set, is the model endpoint for jobs that ask for
	// generated tests, judge scores or adversarial tests; such a job runs
	// whole on one daemon (model.go). Without it such a job is refused.
	Models *generator.Endpoint

	// maxInline, if set, replaces the largest payload sent inline (tests
	// use it to send everything through the object store).
	maxInline int
	// maxJobDocument, if set, replaces the limit on an uploaded job's size
	// (tests make it small).
	maxJobDocument int64
	// opTimeout, if set, replaces defaultOpTimeout (tests shorten it to
	// show that a run may outlast it).
	opTimeout time.Duration
}

// Daemon is a running bestpatch daemon.
type Daemon struct {
	cfg     Config
	name    string
	log     *slog.Logger
	nc      *nats.Conn
	js      jetstream.JetStream
	store   *store
	client  *client.Client
	work    jetstream.Consumer
	svc     micro.Service
	views   *views
	cancels *nats.Subscription

	// pulling is cleared when Shutdown starts: slots stop taking messages,
	// and stopPull ends the pulls in progress.
	pulling  atomic.Bool
	pullCtx  context.Context
	stopPull context.CancelFunc
	// busy counts the slots handling a run.
	busy atomic.Int64
	// runCtx is the parent of every run's context; cancelling it hands the
	// runs in progress back to the queue.
	runCtx     context.Context
	handBack   context.CancelFunc
	handedBack atomic.Bool
	// bgCtx ends the daemon's background goroutines (waiters, gauges).
	bgCtx    context.Context
	bgCancel context.CancelFunc

	slots    conc.WaitGroup
	requests conc.WaitGroup
	waiters  conc.WaitGroup
	reqSem   chan struct{}
	stats    endpointStats
	stopOnce sync.Once
	// wholePool bounds the runs of the jobs this daemon runs whole.
	wholePool *selector.Pool
}

// Start sets up the streams, buckets and consumer (idempotent: every
// daemon does it), registers the micro service and starts pulling runs.
func Start(ctx context.Context, cfg Config) (*Daemon, error) {
	if cfg.Conn == nil || cfg.Exec == nil {
		return nil, errors.New("service: Config needs Conn and Exec")
	}
	if cfg.Slots <= 0 {
		cfg.Slots = runtime.NumCPU()
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = DefaultAckWait
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.maxJobDocument <= 0 {
		cfg.maxJobDocument = wire.MaxJobDocument
	}
	if cfg.opTimeout <= 0 {
		cfg.opTimeout = defaultOpTimeout
	}
	if cfg.Cache != nil {
		cfg.Cache = newMemo(cfg.Cache, memoBytes)
	}
	if cfg.Version == "" {
		cfg.Version = "0.1.0"
	}
	if cfg.Name == "" {
		host, _ := os.Hostname()
		cfg.Name = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), nuid.Next()[:6])
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("daemon", cfg.Name)
	js, err := jetstream.New(cfg.Conn)
	if err != nil {
		return nil, fmt.Errorf("service: JetStream: %w", err)
	}
	st, err := openStore(ctx, js, cfg)
	if err != nil {
		return nil, err
	}
	work, err := js.CreateOrUpdateConsumer(ctx, wire.WorkStream, jetstream.ConsumerConfig{
		Durable:       wire.WorkConsumer,
		Description:   "bestpatch runs, shared by every daemon",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxDeliver:    -1, // the daemon counts attempts itself (MaxAttempts)
		MaxAckPending: -1,
		MaxWaiting:    4096,
	})
	if err != nil {
		return nil, fmt.Errorf("service: work consumer %s on stream %s: %w", wire.WorkConsumer, wire.WorkStream, err)
	}
	cl, err := client.New(cfg.Conn)
	if err != nil {
		return nil, err
	}
	d := &Daemon{
		cfg: cfg, name: cfg.Name, log: log, nc: cfg.Conn, js: js, store: st, client: cl, work: work,
		reqSem: make(chan struct{}, maxConcurrentRequests), wholePool: selector.NewPool(cfg.Slots),
	}
	d.runCtx, d.handBack = context.WithCancel(context.Background())
	d.pullCtx, d.stopPull = context.WithCancel(context.Background())
	d.bgCtx, d.bgCancel = context.WithCancel(context.Background())
	d.views = newViews(d)
	d.cancels, err = cfg.Conn.Subscribe(wire.CancelledSubject("*"), d.onCancelled)
	if err != nil {
		return nil, fmt.Errorf("service: subscribe to cancellations: %w", err)
	}
	if err := d.addService(); err != nil {
		d.cancels.Unsubscribe()
		return nil, err
	}
	// The server has our subscriptions once the flush returns: a request
	// sent right after Start finds the daemon.
	if err := cfg.Conn.FlushTimeout(cfg.opTimeout); err != nil {
		d.svc.Stop()
		d.cancels.Unsubscribe()
		return nil, fmt.Errorf("service: flush subscriptions: %w", err)
	}
	cfg.Metrics.Slots(cfg.Slots)
	d.pulling.Store(true)
	for range cfg.Slots {
		d.slots.Go(d.slot)
	}
	go d.pollQueue()
	go d.views.janitor(d.bgCtx)
	log.Info("daemon started", "slots", cfg.Slots, "ack_wait", cfg.AckWait, "server", cfg.Conn.ConnectedUrlRedacted())
	return d, nil
}

// Name is the daemon's name, as written in the results it stores.
func (d *Daemon) Name() string { return d.name }

// Busy is the number of worker slots handling a run right now.
func (d *Daemon) Busy() int { return int(d.busy.Load()) }

// addService registers the micro service and its endpoints.
func (d *Daemon) addService() error {
	svc, err := micro.AddService(d.nc, micro.Config{
		Name:        wire.ServiceName,
		Version:     d.cfg.Version,
		Description: "Picks the best of N candidate patches for a software issue; runs are shared by every daemon through JetStream.",
		Metadata:    d.hostMetadata(),
		ErrorHandler: func(_ micro.Service, err *micro.NATSError) {
			d.log.Warn("service error", "subject", err.Subject, "err", err.Description)
		},
		StatsHandler: func(e *micro.Endpoint) any { return d.stats.of(e.Name) },
	})
	if err != nil {
		return fmt.Errorf("service: register the micro service: %w", err)
	}
	for _, ep := range []struct {
		name, subject, doc string
		handle             func(context.Context, micro.Request)
	}{
		{"submit", wire.SubmitSubject, "submit a job (docs/wire/" + wire.Version + ".schema.json); header Bestpatch-Wait: true replies the outcome when done", d.handleSubmit},
		{"status", wire.StatusSubject, `{"job": ID}: the job's state and, once final, its outcome`, d.handleStatus},
		{"cancel", wire.CancelSubject, `{"job": ID}: cancel the job on every daemon`, d.handleCancel},
		{"open", wire.OpenSubject, "open a job that takes its candidates over time (an OpenJob); replies as submit", d.handleOpen},
		{"append", wire.AppendSubject("*"), "append candidates to the open job of the subject's last token, or close it (an Append); replies once stored", d.handleAppend},
	} {
		name, handle := ep.name, ep.handle
		err := svc.AddEndpoint(ep.name, micro.HandlerFunc(func(req micro.Request) { d.dispatch(name, req, handle) }),
			micro.WithEndpointSubject(ep.subject), micro.WithEndpointMetadata(map[string]string{"doc": ep.doc}))
		if err != nil {
			svc.Stop()
			return fmt.Errorf("service: endpoint %s: %w", ep.subject, err)
		}
	}
	d.svc = svc
	return nil
}

// dispatch handles a request of endpoint in its own goroutine: micro calls
// handlers one at a time per endpoint, and a submit stores and publishes (or
// waits for the outcome). The handler gets a detached copy of req, since
// micro's own must not be used once this call returns.
func (d *Daemon) dispatch(endpoint string, req micro.Request, handle func(context.Context, micro.Request)) {
	start := time.Now()
	detached := detach(d.nc, req, func(errDescription string) {
		d.stats.replied(endpoint, time.Since(start), errDescription)
	})
	d.reqSem <- struct{}{}
	d.requests.Go(func() {
		defer func() { <-d.reqSem }()
		ctx, cancel := context.WithTimeout(d.bgCtx, d.cfg.opTimeout)
		defer cancel()
		handle(ctx, detached)
	})
}

// hostMetadata is the daemon's capacity, published in the service info so
// that `nats micro info bestpatch` shows what each host brings.
func (d *Daemon) hostMetadata() map[string]string {
	host, _ := os.Hostname()
	md := map[string]string{
		"daemon":   d.name,
		"host":     host,
		"slots":    strconv.Itoa(d.cfg.Slots),
		"cores":    strconv.Itoa(runtime.NumCPU()),
		"executor": d.cfg.ExecutorName,
		"protocol": wire.Version,
	}
	if mem := totalMemory(); mem > 0 {
		md["memory_bytes"] = strconv.FormatUint(mem, 10)
	}
	return md
}

// pollQueue keeps the queue-depth gauge current.
func (d *Daemon) pollQueue() {
	if d.cfg.Metrics == nil {
		return
	}
	t := time.NewTicker(queuePoll)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(d.bgCtx, d.cfg.opTimeout)
		if info, err := d.work.Info(ctx); err == nil {
			d.cfg.Metrics.QueueDepth(info.NumPending)
		}
		cancel()
		select {
		case <-d.bgCtx.Done():
			return
		case <-t.C:
		}
	}
}

// Shutdown stops the daemon gracefully: it stops answering requests and
// pulling runs, lets the runs in progress finish for up to ShutdownGrace
// (or until ctx ends), then stops the rest and hands them back to the
// queue (Nak) so another daemon takes them at once. The connection stays
// open: the caller drains it.
func (d *Daemon) Shutdown(ctx context.Context) error {
	var err error
	d.stopOnce.Do(func() {
		d.log.Info("daemon stopping: no new runs; finishing or handing back the runs in progress")
		if stopErr := d.svc.Stop(); stopErr != nil {
			err = fmt.Errorf("service: stop the micro service: %w", stopErr)
		}
		d.pulling.Store(false)
		d.stopPull()
		slotsDone := make(chan struct{})
		go func() { d.slots.Wait(); close(slotsDone) }()
		grace := time.NewTimer(d.cfg.ShutdownGrace)
		defer grace.Stop()
		select {
		case <-slotsDone:
		case <-grace.C:
		case <-ctx.Done():
		}
		d.handedBack.Store(true)
		d.handBack()
		<-slotsDone
		d.requests.Wait()
		d.bgCancel()
		d.waiters.Wait()
		d.cancels.Unsubscribe()
		d.views.close()
		d.log.Info("daemon stopped")
	})
	return err
}
