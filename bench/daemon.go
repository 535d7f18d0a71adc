package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/sync/errgroup"

	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/client"
)

// DaemonConfig configures Daemon.
type DaemonConfig struct {
	// Dir holds a generated set; its first task supplies the job.
	Dir string
	// Binary is the bestpatch binary whose `serve` is started and measured
	// (embedded NATS server, local executor, a fresh store and cache).
	Binary string
	// URL, when Binary is empty, is the NATS server of a daemon already
	// running (its executor must reach the task's repository), and PID the
	// process whose peak memory is reported (0: none).
	URL string
	PID int
	// Candidates per job (40 when zero).
	Candidates int
	// Jobs are submitted one at a time for the latency (200 when zero).
	Jobs int
	// Burst jobs are submitted InFlight at a time for the throughput (200
	// and 32 when zero).
	Burst, InFlight int
	Log             *slog.Logger
}

// DaemonResult is the daemon's latency and throughput for jobs that need no
// execution, and its peak memory.
type DaemonResult struct {
	Task       string `json:"instance_id"`
	Policy     string `json:"policy"`
	Candidates int    `json:"candidates"`
	Distinct   int    `json:"distinct"`
	// RunsPerJob are the runs each job's plan holds, every one answered by
	// the daemon's result cache.
	RunsPerJob int           `json:"runs_per_job"`
	Jobs       int           `json:"jobs"`
	P50        time.Duration `json:"p50"`
	P99        time.Duration `json:"p99"`
	Burst      int           `json:"burst"`
	InFlight   int           `json:"in_flight"`
	// JobsPerSecond is the throughput of the burst.
	JobsPerSecond float64 `json:"jobs_per_second"`
	// PeakRSS is the daemon process's peak resident memory (VmHWM), bytes:
	// the daemon and its embedded NATS server.
	PeakRSS int64 `json:"peak_rss_bytes"`
}

// DaemonJob is the job the daemon benchmark submits: n candidates drawn
// (seeded, with repeats) from a catalog task's entries, under the
// execution-free policy consensus, without generated tests, with one base
// run: a repeated base run (base/2...) always executes, for flaky
// detection, and the benchmark measures jobs the result cache answers.
func DaemonJob(task selector.Task, c CatalogTask, n int) selector.Job {
	task.GeneratedTests = nil
	task.Env.Image = "" // the daemon runs this job on its local executor
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	samples := samplePool(rng, ProfileFlat, c.Entries, n).Samples
	job := selector.Job{Task: task, Options: selector.Options{Policy: scoring.PolicyConsensus, BaseRuns: 1}}
	for i, name := range samples {
		e, _ := c.Entry(name)
		job.Candidates = append(job.Candidates, scoring.Candidate{ID: fmt.Sprintf("c%02d", i+1), Patch: e.Patch, Model: e.Name, Sample: i})
	}
	return job
}

// Daemon measures `bestpatch serve` (embedded NATS server, local executor)
// as a client sees it over NATS: after one warm-up job fills the daemon's
// result cache, jobs with the same content (other IDs) need no execution;
// their submit-to-verdict latency is measured one at a time, then the
// throughput of a burst, then the daemon's peak memory is read from /proc.
func Daemon(ctx context.Context, cfg DaemonConfig) (DaemonResult, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.Candidates = orDefault(cfg.Candidates, 40)
	cfg.Jobs = orDefault(cfg.Jobs, 200)
	cfg.Burst = orDefault(cfg.Burst, 200)
	cfg.InFlight = orDefault(cfg.InFlight, 32)
	tasks, err := selector.LoadTasks(filepath.Join(cfg.Dir, TasksFile))
	if err != nil {
		return DaemonResult{}, err
	}
	cat, err := LoadCatalog(filepath.Join(cfg.Dir, CatalogFile))
	if err != nil {
		return DaemonResult{}, err
	}
	if len(tasks) == 0 || len(cat) == 0 {
		return DaemonResult{}, fmt.Errorf("%s holds no task: run bestpatch bench gen first", cfg.Dir)
	}
	job := DaemonJob(tasks[0], cat[0], cfg.Candidates)
	plan, err := selector.NewPlan(job)
	if err != nil {
		return DaemonResult{}, err
	}
	res := DaemonResult{Task: job.Task.ID, Policy: job.Options.Policy, Candidates: len(job.Candidates), Distinct: plan.Distinct(), Jobs: cfg.Jobs, Burst: cfg.Burst, InFlight: cfg.InFlight}

	nc, pid, stop, err := connectDaemon(ctx, cfg)
	if err != nil {
		return res, err
	}
	defer stop()
	c, err := client.New(nc)
	if err != nil {
		return res, err
	}

	cfg.Log.Info("daemon: warm-up job (runs its tests once)", "candidates", len(job.Candidates), "distinct", res.Distinct)
	if err := retryNoDaemon(ctx, func() error {
		job.ID = "warm"
		rep, err := c.Run(ctx, job, nil)
		res.RunsPerJob = len(rep.Runs)
		return err
	}); err != nil {
		return res, fmt.Errorf("daemon: warm-up job: %w", err)
	}

	cfg.Log.Info("daemon: latency", "jobs", cfg.Jobs)
	lat := make([]time.Duration, 0, cfg.Jobs)
	for i := range cfg.Jobs {
		job.ID = fmt.Sprintf("lat-%d", i)
		start := time.Now()
		rep, err := c.Run(ctx, job, nil)
		if err != nil {
			return res, fmt.Errorf("daemon: job %s: %w", job.ID, err)
		}
		lat = append(lat, time.Since(start))
		if err := allCached(rep); err != nil {
			return res, err
		}
	}
	slices.Sort(lat)
	res.P50, res.P99 = quantile(lat, 0.5), quantile(lat, 0.99)

	cfg.Log.Info("daemon: throughput", "jobs", cfg.Burst, "in_flight", cfg.InFlight)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.InFlight)
	start := time.Now()
	for i := range cfg.Burst {
		j := job
		j.ID = fmt.Sprintf("burst-%d", i)
		g.Go(func() error {
			rep, err := c.Run(gctx, j, nil)
			if err != nil {
				return fmt.Errorf("daemon: job %s: %w", j.ID, err)
			}
			return allCached(rep)
		})
	}
	if err := g.Wait(); err != nil {
		return res, err
	}
	res.JobsPerSecond = float64(cfg.Burst) / time.Since(start).Seconds()
	if pid > 0 {
		if res.PeakRSS, err = peakRSS(pid); err != nil {
			return res, err
		}
	}
	return res, nil
}

// connectDaemon starts cfg.Binary's serve, or connects to cfg.URL, and
// returns the connection, the daemon's process and how to stop.
func connectDaemon(ctx context.Context, cfg DaemonConfig) (*nats.Conn, int, func(), error) {
	if cfg.Binary == "" {
		if cfg.URL == "" {
			return nil, 0, nil, fmt.Errorf("daemon: no binary to start and no NATS URL to reach a daemon")
		}
		nc, err := nats.Connect(cfg.URL, nats.Name("bestpatch-bench"))
		if err != nil {
			return nil, 0, nil, fmt.Errorf("daemon: connect to %s: %w", cfg.URL, err)
		}
		return nc, cfg.PID, nc.Close, nil
	}
	tmp, err := os.MkdirTemp("", "bestpatch-daemon-bench-")
	if err != nil {
		return nil, 0, nil, err
	}
	d, err := startServe(ctx, cfg.Binary, tmp)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, 0, nil, err
	}
	return d.nc, d.cmd.Process.Pid, func() { d.stop(); os.RemoveAll(tmp) }, nil
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// quantile of sorted durations, nearest rank below.
func quantile(sorted []time.Duration, q float64) time.Duration {
	return sorted[int(q*float64(len(sorted)-1))]
}

// allCached checks that a job needed no execution.
func allCached(rep selector.Report) error {
	for _, r := range rep.Runs {
		if !r.Cached {
			return fmt.Errorf("daemon: job %s executed run %s: the benchmark wants jobs that need no execution", rep.Job, r.ID)
		}
	}
	return nil
}

// retryNoDaemon retries f while no daemon answers yet (the service
// registers a moment after the server accepts connections).
func retryNoDaemon(ctx context.Context, f func() error) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := f()
		if err == nil || !errors.Is(err, client.ErrNoDaemon) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// serveProcess is a `bestpatch serve` child process and a connection to it.
type serveProcess struct {
	cmd  *exec.Cmd
	nc   *nats.Conn
	done chan error
}

// startServe starts `binary serve` with an embedded NATS server on a free
// port, its store and result cache under dir, and connects to it.
func startServe(ctx context.Context, binary, dir string) (*serveProcess, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, "serve", "--listen", addr, "--store-dir", filepath.Join(dir, "store"),
		"--executor", "local", "--unsafe-local-executor", "--cache-dir", filepath.Join(dir, "cache"), "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s serve: %w", binary, err)
	}
	p := &serveProcess{cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); logf.Close() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		nc, err := nats.Connect("nats://"+addr, nats.Name("bestpatch-bench"))
		if err == nil {
			p.nc = nc
			return p, nil
		}
		select {
		case err := <-p.done:
			log, _ := os.ReadFile(filepath.Join(dir, "serve.log"))
			return nil, fmt.Errorf("%s serve exited before accepting clients: %v\n%s", binary, err, log)
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("%s serve did not accept clients on %s within 30s", binary, addr)
		}
	}
}

// stop closes the connection and stops the daemon (SIGTERM, then SIGKILL).
func (p *serveProcess) stop() {
	if p.nc != nil {
		p.nc.Close()
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// peakRSS reads a process's peak resident set size (VmHWM) from /proc.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read the daemon's peak memory: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read the daemon's peak memory: %q: %w", line, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("read the daemon's peak memory: no VmHWM in /proc/%d/status", pid)
}

// WriteDaemon prints a daemon result.
func WriteDaemon(w io.Writer, r DaemonResult) error {
	_, err := fmt.Fprintf(w, `Daemon (bestpatch serve, embedded NATS, over NATS from a client): jobs of %d candidates (%d distinct), policy %s, task %s,
every run (%d per job) answered by the daemon's result cache: no execution
  latency, submit to verdict, %d jobs one at a time   p50 %s   p99 %s
  throughput, %d jobs, %d in flight                   %.1f jobs/s
  peak memory of the daemon process (VmHWM)           %.0f MiB
`, r.Candidates, r.Distinct, r.Policy, r.Task, r.RunsPerJob,
		r.Jobs, r.P50.Round(100*time.Microsecond), r.P99.Round(100*time.Microsecond),
		r.Burst, r.InFlight, r.JobsPerSecond, float64(r.PeakRSS)/(1<<20))
	return err
}
