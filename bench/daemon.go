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
	"sync"
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
	// process whose memory is reported (0: none).
	URL string
	PID int
	// Candidates per job (40 when zero).
	Candidates int
	// Jobs is how many jobs are submitted after the warm-up, in all
	// (10,000 when zero): Latency of each kind one at a time, the rest
	// InFlight at a time.
	Jobs int
	// Latency jobs of each kind are submitted one at a time (200 when
	// zero).
	Latency int
	// InFlight jobs at a time for the throughput (32 when zero).
	InFlight int
	// CPUProfile, when set with Binary, is where the daemon writes its CPU
	// profile (serve --cpu-profile), from its start to its stop.
	CPUProfile string
	Log        *slog.Logger
}

// Latency is the submit-to-verdict time of a series of jobs.
type Latency struct {
	Jobs int           `json:"jobs"`
	P50  time.Duration `json:"p50"`
	P99  time.Duration `json:"p99"`
}

// latencyOf sorts lat and returns its quantiles.
func latencyOf(lat []time.Duration) Latency {
	slices.Sort(lat)
	return Latency{Jobs: len(lat), P50: quantile(lat, 0.5), P99: quantile(lat, 0.99)}
}

// DaemonResult is the daemon's latency, throughput and memory for jobs
// that need no execution.
type DaemonResult struct {
	Task       string `json:"instance_id"`
	Policy     string `json:"policy"`
	Candidates int    `json:"candidates"`
	Distinct   int    `json:"distinct"`
	// RunsPerJob are the runs each cached job's plan holds, every one
	// answered by the daemon's result cache.
	RunsPerJob int `json:"runs_per_job"`
	// Jobs submitted after the warm-up, in all.
	Jobs int `json:"jobs"`
	// Free, Cached: one job at a time through one request that waits for
	// the outcome (client.SubmitAndWait), execution-free jobs
	// ("execution": "none") and jobs whose runs are all cached. CachedRun:
	// cached jobs through client.Run (submit, then wait on the verdict
	// stream).
	Free      Latency `json:"execution_free"`
	Cached    Latency `json:"cached"`
	CachedRun Latency `json:"cached_run"`
	// Burst: the remaining jobs, InFlight at a time, alternating the two
	// kinds; JobsPerSecond is its throughput.
	Burst         Latency `json:"burst"`
	InFlight      int     `json:"in_flight"`
	JobsPerSecond float64 `json:"jobs_per_second"`
	// PeakRSS is the daemon process's peak resident memory (VmHWM), bytes:
	// the daemon and its embedded NATS server. RSS is its resident memory
	// (VmRSS) after each tenth of the jobs, the last after all of them.
	PeakRSS int64   `json:"peak_rss_bytes"`
	RSS     []int64 `json:"rss_bytes"`
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
// as a client sees it over NATS, with two kinds of jobs that need no
// execution: execution-free jobs, and, after one warm-up job fills the
// daemon's result cache, jobs with the same content (other IDs) whose
// every run the cache answers. It measures their submit-to-verdict latency
// one at a time, then the throughput of the remaining jobs (10,000 in all
// by default), and reads the daemon's memory from /proc as it goes.
func Daemon(ctx context.Context, cfg DaemonConfig) (DaemonResult, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.Candidates = orDefault(cfg.Candidates, 40)
	cfg.Jobs = orDefault(cfg.Jobs, 10000)
	cfg.Latency = orDefault(cfg.Latency, 200)
	cfg.InFlight = orDefault(cfg.InFlight, 32)
	if cfg.Jobs < 3*cfg.Latency+1 {
		return DaemonResult{}, fmt.Errorf("daemon: %d jobs leave none for the throughput after 3 x %d one at a time: give more jobs or fewer latency jobs", cfg.Jobs, cfg.Latency)
	}
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
	cached := DaemonJob(tasks[0], cat[0], cfg.Candidates)
	free := cached
	free.Options.Execution = selector.ExecutionNone
	plan, err := selector.NewPlan(cached)
	if err != nil {
		return DaemonResult{}, err
	}
	res := DaemonResult{Task: cached.Task.ID, Policy: cached.Options.Policy, Candidates: len(cached.Candidates), Distinct: plan.Distinct(), Jobs: cfg.Jobs, InFlight: cfg.InFlight}

	nc, pid, stop, err := connectDaemon(ctx, cfg)
	if err != nil {
		return res, err
	}
	defer stop()
	c, err := client.New(nc)
	if err != nil {
		return res, err
	}

	cfg.Log.Info("daemon: warm-up job (runs its tests once)", "candidates", len(cached.Candidates), "distinct", res.Distinct)
	if err := retryNoDaemon(ctx, func() error {
		job := cached
		job.ID = "warm"
		rep, err := c.Run(ctx, job, nil)
		res.RunsPerJob = len(rep.Runs)
		return err
	}); err != nil {
		return res, fmt.Errorf("daemon: warm-up job: %w", err)
	}

	done := 0
	rss := func() error {
		done++
		// At each tenth of the jobs.
		if pid <= 0 || done*10/cfg.Jobs == (done-1)*10/cfg.Jobs {
			return nil
		}
		now, err := procStatus(pid, "VmRSS:")
		res.RSS = append(res.RSS, now)
		return err
	}
	series := []struct {
		into *Latency
		job  selector.Job
		run  bool
	}{{&res.Free, free, false}, {&res.Cached, cached, false}, {&res.CachedRun, cached, true}}
	for k, s := range series {
		cfg.Log.Info("daemon: latency", "jobs", cfg.Latency, "series", k)
		lat := make([]time.Duration, 0, cfg.Latency)
		for i := range cfg.Latency {
			job := s.job
			job.ID = fmt.Sprintf("lat-%d-%d", k, i)
			start := time.Now()
			if err := submit(ctx, c, job, s.run); err != nil {
				return res, err
			}
			lat = append(lat, time.Since(start))
			if err := rss(); err != nil {
				return res, err
			}
		}
		*s.into = latencyOf(lat)
	}

	burst := cfg.Jobs - 3*cfg.Latency
	cfg.Log.Info("daemon: throughput", "jobs", burst, "in_flight", cfg.InFlight)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.InFlight)
	var mu sync.Mutex
	lat := make([]time.Duration, 0, burst)
	start := time.Now()
	for i := range burst {
		job := cached
		if i%2 == 0 {
			job = free
		}
		job.ID = fmt.Sprintf("burst-%d", i)
		g.Go(func() error {
			begin := time.Now()
			if err := submit(gctx, c, job, false); err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, time.Since(begin))
			return rss()
		})
	}
	if err := g.Wait(); err != nil {
		return res, err
	}
	res.JobsPerSecond = float64(burst) / time.Since(start).Seconds()
	res.Burst = latencyOf(lat)
	if pid > 0 {
		if res.PeakRSS, err = procStatus(pid, "VmHWM:"); err != nil {
			return res, err
		}
	}
	return res, nil
}

// submit runs one job that must need no execution, through one request
// that waits for its outcome, or, with run, through client.Run.
func submit(ctx context.Context, c *client.Client, job selector.Job, run bool) error {
	var rep selector.Report
	var err error
	if run {
		rep, err = c.Run(ctx, job, nil)
	} else {
		rep, err = c.SubmitAndWait(ctx, job)
	}
	if err != nil {
		return fmt.Errorf("daemon: job %s: %w", job.ID, err)
	}
	return allCached(rep)
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
	var extra []string
	if cfg.CPUProfile != "" {
		extra = append(extra, "--cpu-profile", cfg.CPUProfile)
	}
	d, err := startServe(ctx, cfg.Binary, tmp, extra...)
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
// port, its store and result cache under dir, and more flags, and connects
// to it.
func startServe(ctx context.Context, binary, dir string, flags ...string) (*serveProcess, error) {
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
	args := []string{"serve", "--listen", addr, "--store-dir", filepath.Join(dir, "store"),
		"--executor", "local", "--unsafe-local-executor", "--cache-dir", filepath.Join(dir, "cache"), "--log-level", "warn"}
	cmd := exec.Command(binary, append(args, flags...)...)
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

// procStatus reads a memory figure (VmHWM:, VmRSS:) of a process from
// /proc, in bytes.
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read the daemon's memory: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read the daemon's memory: %q: %w", line, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("read the daemon's memory: no %s in /proc/%d/status", field, pid)
}

// WriteDaemon prints a daemon result, with the targets the execution-free
// p99 (20 ms) and the resident memory after every job (300 MiB) are held
// to.
func WriteDaemon(w io.Writer, r DaemonResult) error {
	ms := func(d time.Duration) string { return d.Round(100 * time.Microsecond).String() }
	mib := func(b int64) string { return fmt.Sprintf("%.0f", float64(b)/(1<<20)) }
	var rss []string
	for _, b := range r.RSS {
		rss = append(rss, mib(b))
	}
	last := "-"
	if len(r.RSS) > 0 {
		last = mib(r.RSS[len(r.RSS)-1])
	}
	_, err := fmt.Fprintf(w, `Daemon (bestpatch serve, embedded NATS, over NATS from a client): jobs of %d candidates (%d distinct), policy %s, task %s;
%d jobs after a warm-up, none executing a run
  submit to verdict, one job at a time                          p50        p99
    execution-free ("execution": "none"),  %4d jobs            %-10s %s   (target: p99 under 20ms)
    every run (%d) from the result cache, %4d jobs               %-10s %s
    the same through client.Run (submit, then the verdict stream) %-10s %s
  throughput, %d jobs (the two kinds alternating), %d in flight: %.1f jobs/s   p50 %s   p99 %s
  memory of the daemon process: resident (VmRSS) after the %d jobs %s MiB (target: under 300 MiB); peak (VmHWM) %s MiB;
    resident after each tenth of the jobs, MiB: %s
`, r.Candidates, r.Distinct, r.Policy, r.Task, r.Jobs,
		r.Free.Jobs, ms(r.Free.P50), ms(r.Free.P99),
		r.RunsPerJob, r.Cached.Jobs, ms(r.Cached.P50), ms(r.Cached.P99),
		ms(r.CachedRun.P50), ms(r.CachedRun.P99),
		r.Burst.Jobs, r.InFlight, r.JobsPerSecond, ms(r.Burst.P50), ms(r.Burst.P99),
		r.Jobs, last, mib(r.PeakRSS), strings.Join(rss, " "))
	return err
}
