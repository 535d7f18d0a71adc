// Package metrics holds the daemon's Prometheus metrics and serves them
// over HTTP. Each Daemon has its own registry (no global state), so tests
// and several daemons in one process do not collide.
package metrics

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bestpatch/bestpatch/executor"
)

// JobEvents are the values of bestpatch_jobs_total's event label. Each is
// present, at zero, from the start: a rate over a series that appears only
// at its first event misses that event.
var JobEvents = []string{"submitted", "invalid", "done", "failed", "cancelled"}

// JobStates are the states a job ends in, the values of
// bestpatch_job_seconds's state label.
var JobStates = []string{"done", "failed", "cancelled"}

// RunOutcomes are the values of bestpatch_runs_total's outcome label: the
// executor's statuses, then what else becomes of a run a daemon handles.
var RunOutcomes = []string{
	string(executor.Completed), string(executor.ApplyFailed), string(executor.EmptyPatch), string(executor.TimedOut), string(executor.Infra),
	"cached", "skipped", "duplicate", "cancelled", "handed_back", "error", "refused", "given_up",
}

// Daemon is the metrics of one daemon. A nil *Daemon records nothing, so
// that code paths need no checks when metrics are off.
type Daemon struct {
	reg          *prometheus.Registry
	jobs         *prometheus.CounterVec
	jobSeconds   *prometheus.HistogramVec
	runs         *prometheus.CounterVec
	runSeconds   prometheus.Histogram
	queueDepth   prometheus.Gauge
	busySlots    prometheus.Gauge
	slots        prometheus.Gauge
	redeliveries prometheus.Counter
}

// New returns a daemon's metrics, registered on a new registry together
// with the Go runtime and process collectors and bestpatch_build_info.
func New() *Daemon {
	reg := prometheus.NewRegistry()
	d := &Daemon{
		reg: reg,
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bestpatch_jobs_total",
			Help: "Jobs by event: submitted, invalid (rejected), done, failed, cancelled (counted by the daemon that saw the event).",
		}, []string{"event"}),
		jobSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bestpatch_job_seconds",
			Help:    "Time from a job's submission to its outcome (the verdict, or why it failed, or its cancellation), by the state it ended in; observed by the daemon that published the outcome.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 16), // 1s .. ~9h
		}, []string{"state"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bestpatch_runs_total",
			Help: "Runs handled by this daemon by outcome: the executor status (completed, apply_failed, empty, timeout, infra), cached, skipped (no longer needed), duplicate (already stored), cancelled, handed_back, error (retried), refused (a work item that is not in its job's plan), given_up (retried MaxAttempts times: the job failed).",
		}, []string{"outcome"}),
		runSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "bestpatch_run_seconds",
			Help:    "Wall time of runs executed by this daemon (cache hits excluded).",
			Buckets: prometheus.ExponentialBuckets(0.25, 2, 14), // 0.25s .. ~34min
		}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bestpatch_queue_depth",
			Help: "Runs waiting in the work queue, not yet handed to any daemon.",
		}),
		busySlots: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bestpatch_busy_slots",
			Help: "Worker slots of this daemon handling a run.",
		}),
		slots: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bestpatch_slots",
			Help: "Worker slots of this daemon.",
		}),
		redeliveries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bestpatch_redeliveries_total",
			Help: "Runs this daemon received that had been delivered before (a daemon died, stopped, or handed them back).",
		}),
	}
	for _, e := range JobEvents {
		d.jobs.WithLabelValues(e)
	}
	for _, s := range JobStates {
		d.jobSeconds.WithLabelValues(s)
	}
	for _, o := range RunOutcomes {
		d.runs.WithLabelValues(o)
	}
	reg.MustRegister(d.jobs, d.jobSeconds, d.runs, d.runSeconds, d.queueDepth, d.busySlots, d.slots, d.redeliveries, buildInfo(),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return d
}

// buildInfo is bestpatch_build_info: always 1, its labels say which build
// runs (the module version, the VCS revision the binary was built from, and
// whether the tree had uncommitted changes), so that a dashboard can tell
// daemons of different builds apart.
func buildInfo() prometheus.Collector {
	labels := prometheus.Labels{"version": "unknown", "revision": "unknown", "modified": "unknown", "go_version": runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			labels["version"] = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				labels["revision"] = s.Value
			case "vcs.modified":
				labels["modified"] = s.Value
			}
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "bestpatch_build_info",
		Help:        "Always 1; the labels name the build: module version, VCS revision, whether the tree was modified, Go version.",
		ConstLabels: labels,
	})
	g.Set(1)
	return g
}

// Job counts a job event.
func (d *Daemon) Job(event string) {
	if d != nil {
		d.jobs.WithLabelValues(event).Inc()
	}
}

// JobSeconds observes the time from a job's submission to its outcome,
// by the state it ended in.
func (d *Daemon) JobSeconds(state string, s float64) {
	if d != nil {
		d.jobSeconds.WithLabelValues(state).Observe(s)
	}
}

// Run counts a handled run by outcome.
func (d *Daemon) Run(outcome string) {
	if d != nil {
		d.runs.WithLabelValues(outcome).Inc()
	}
}

// RunSeconds observes the wall time of an executed run.
func (d *Daemon) RunSeconds(s float64) {
	if d != nil {
		d.runSeconds.Observe(s)
	}
}

// QueueDepth sets the number of queued runs.
func (d *Daemon) QueueDepth(n uint64) {
	if d != nil {
		d.queueDepth.Set(float64(n))
	}
}

// Busy adds delta to the busy worker slots.
func (d *Daemon) Busy(delta int) {
	if d != nil {
		d.busySlots.Add(float64(delta))
	}
}

// Slots sets the number of worker slots.
func (d *Daemon) Slots(n int) {
	if d != nil {
		d.slots.Set(float64(n))
	}
}

// Redelivered counts a redelivered run.
func (d *Daemon) Redelivered() {
	if d != nil {
		d.redeliveries.Inc()
	}
}

// Handler serves the metrics in the Prometheus text format.
func (d *Daemon) Handler() http.Handler {
	return promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{Registry: d.reg})
}

// Serve serves the metrics on addr at /metrics until ctx ends. It returns
// once the listener is open (or failed to open); errors while serving are
// logged by the http server.
func (d *Daemon) Serve(ctx context.Context, addr string) (net.Addr, error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w (choose another --metrics-addr)", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", d.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	// Serve returns ErrServerClosed on shutdown; any other error means the
	// listener is gone, and the daemon keeps working without metrics.
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	return ln.Addr(), nil
}
