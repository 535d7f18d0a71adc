package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/bestpatch/bestpatch/bench/testsubject"
	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/internal/natsserver"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/client"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// DaemonStarter starts one daemon that joins the NATS server at url under
// name, with workers parallel runs, replicas copies of the streams and
// buckets, the local executor and no result cache; stop stops it.
type DaemonStarter func(ctx context.Context, url, name string, workers, replicas int) (stop func(), err error)

// ScaleConfig configures Scale.
type ScaleConfig struct {
	// Start starts each daemon (ServeStarter: a `bestpatch serve` process).
	Start DaemonStarter
	// Daemons are the numbers of daemons measured, in order (1, 2, 3 when
	// empty).
	Daemons []int
	// Servers is the size of the embedded JetStream cluster (3 when zero);
	// every stream and bucket has that many replicas, and daemon i joins
	// server i mod Servers.
	Servers int
	// Workers per daemon (1 when zero).
	Workers int
	// RunTime is how long each run's test command takes (500 ms when
	// zero): it sleeps, so that what bounds the throughput is the work
	// queue's spreading of runs over the daemons, not this host's cores.
	RunTime time.Duration
	// Candidates per job (5 when zero); each job runs them all, and its
	// base once.
	Candidates int
	// JobsPerDaemon is how many jobs each measurement submits at once, per
	// daemon (8 when zero).
	JobsPerDaemon int
	// Dir holds the job's repository and the servers' stores (a temporary
	// directory when empty).
	Dir string
	Log *slog.Logger
}

// ScalePoint is the throughput of one number of daemons.
type ScalePoint struct {
	Daemons int     `json:"daemons"`
	Jobs    int     `json:"jobs"`
	Runs    int     `json:"runs"`
	Seconds float64 `json:"seconds"`
	// RunsPerSecond is runs executed per second, first submit to last
	// verdict; Ideal is what Daemons x Workers runs of RunTime each, back
	// to back, would make, and Efficiency their ratio.
	RunsPerSecond float64 `json:"runs_per_second"`
	Ideal         float64 `json:"ideal_runs_per_second"`
	Efficiency    float64 `json:"efficiency"`
	// ByDaemon counts the runs each daemon executed, by its name, from
	// their run_finished events.
	ByDaemon map[string]int `json:"runs_by_daemon"`
}

// ScaleResult is the throughput of one, two and three daemons (or those
// asked) sharing one work queue.
type ScaleResult struct {
	Servers    int          `json:"servers"`
	Replicas   int          `json:"replicas"`
	Workers    int          `json:"workers"`
	RunTime    float64      `json:"run_seconds"`
	Candidates int          `json:"candidates"`
	Points     []ScalePoint `json:"points"`
}

// Scale measures how the daemons' throughput grows with their number: it
// starts a cluster of embedded NATS servers (clustered JetStream, every
// stream and bucket replicated on each server), then, for each number of
// daemons, starts that many, each on its own server, submits jobs whose
// every run executes (no result cache) and whose test command sleeps
// RunTime, and counts the runs executed per second until the last verdict.
func Scale(ctx context.Context, cfg ScaleConfig) (ScaleResult, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Daemons) == 0 {
		cfg.Daemons = []int{1, 2, 3}
	}
	cfg.Servers = orDefault(cfg.Servers, 3)
	cfg.Workers = orDefault(cfg.Workers, 1)
	cfg.Candidates = orDefault(cfg.Candidates, 5)
	cfg.JobsPerDaemon = orDefault(cfg.JobsPerDaemon, 8)
	if cfg.RunTime <= 0 {
		cfg.RunTime = 500 * time.Millisecond
	}
	res := ScaleResult{Servers: cfg.Servers, Replicas: cfg.Servers, Workers: cfg.Workers, RunTime: cfg.RunTime.Seconds(), Candidates: cfg.Candidates}
	if cfg.Start == nil {
		return res, fmt.Errorf("scale: no way to start a daemon")
	}
	if cfg.Dir == "" {
		tmp, err := os.MkdirTemp("", "bestpatch-scale-bench-")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(tmp)
		cfg.Dir = tmp
	}
	job, err := scaleJob(filepath.Join(cfg.Dir, "repo"), cfg.Candidates, cfg.RunTime)
	if err != nil {
		return res, err
	}
	// The servers log their routes' start (errors until all are up) and
	// their stop: noise, but when debugging.
	serverLog := slog.New(slog.DiscardHandler)
	if cfg.Log.Enabled(ctx, slog.LevelDebug) {
		serverLog = cfg.Log
	}
	servers, err := startCluster(ctx, cfg.Servers, filepath.Join(cfg.Dir, "servers"), serverLog)
	if err != nil {
		return res, err
	}
	defer func() {
		for _, s := range servers {
			s.Shutdown()
		}
	}()
	nc, err := nats.Connect(serverURLs(servers), nats.Name("bestpatch-bench"))
	if err != nil {
		return res, fmt.Errorf("scale: connect to the cluster: %w", err)
	}
	defer nc.Close()
	c, err := client.New(nc)
	if err != nil {
		return res, err
	}
	for k, n := range cfg.Daemons {
		cfg.Log.Info("scale: daemons", "daemons", n)
		pt, err := scalePoint(ctx, cfg, servers, nc, c, job, fmt.Sprintf("p%d", k), n)
		if err != nil {
			return res, err
		}
		res.Points = append(res.Points, pt)
	}
	return res, nil
}

// scalePoint starts n daemons, waits until all of them answer, runs a
// warm-up job, then the measured jobs all at once.
func scalePoint(ctx context.Context, cfg ScaleConfig, servers []*natsserver.Server, nc *nats.Conn, c *client.Client, job selector.Job, prefix string, n int) (ScalePoint, error) {
	pt := ScalePoint{Daemons: n, Jobs: n * cfg.JobsPerDaemon}
	for i := range n {
		name := fmt.Sprintf("%s-d%d", prefix, i+1)
		stop, err := cfg.Start(ctx, servers[i%len(servers)].ClientURL(), name, cfg.Workers, len(servers))
		if err != nil {
			return pt, fmt.Errorf("scale: start daemon %s: %w", name, err)
		}
		defer stop()
	}
	if err := waitDaemons(ctx, nc, n); err != nil {
		return pt, err
	}
	warm := job
	warm.ID = prefix + "-warm"
	if _, err := c.Run(ctx, warm, nil); err != nil {
		return pt, fmt.Errorf("scale: warm-up job: %w", err)
	}
	var mu sync.Mutex
	byDaemon := map[string]int{}
	sub, err := nc.Subscribe(wire.EventsSubject("*"), func(m *nats.Msg) {
		var ev wire.Event
		if json.Unmarshal(m.Data, &ev) != nil || ev.Kind != wire.EventRunFinished || ev.Cached || !strings.HasPrefix(ev.Job, prefix+"-m") {
			return
		}
		mu.Lock()
		byDaemon[m.Header.Get(wire.DaemonHeader)]++
		mu.Unlock()
	})
	if err != nil {
		return pt, err
	}
	defer sub.Unsubscribe()
	var runs atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	start := time.Now()
	for i := range pt.Jobs {
		j := job
		j.ID = fmt.Sprintf("%s-m%d", prefix, i)
		g.Go(func() error {
			rep, err := c.Run(gctx, j, nil)
			if err != nil {
				return fmt.Errorf("scale: job %s: %w", j.ID, err)
			}
			for _, r := range rep.Runs {
				if !r.Cached {
					runs.Add(1)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return pt, err
	}
	pt.Seconds = time.Since(start).Seconds()
	// Events go out without waiting for JetStream: the last may come a
	// moment after the verdicts.
	counted := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, k := range byDaemon {
			n += k
		}
		return n
	}
	for end := time.Now().Add(2 * time.Second); counted() < int(runs.Load()) && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	pt.ByDaemon = maps.Clone(byDaemon)
	mu.Unlock()
	pt.Runs = int(runs.Load())
	pt.RunsPerSecond = float64(pt.Runs) / pt.Seconds
	pt.Ideal = float64(n*cfg.Workers) / cfg.RunTime.Seconds()
	pt.Efficiency = pt.RunsPerSecond / pt.Ideal
	return pt, nil
}

// scaleJob is a job of n candidates on a repository made in dir whose
// test command sleeps runTime, then prints go test's JSON from a file the
// candidates rewrite, each differently: no two candidates share a run, and
// the job runs every candidate.
func scaleJob(dir string, n int, runTime time.Duration) (selector.Job, error) {
	out := func(i int) string {
		var b strings.Builder
		for t := range n + 1 {
			action := "fail"
			if t < i {
				action = "pass"
			}
			fmt.Fprintf(&b, "{\"Action\":\"run\",\"Package\":\"p\",\"Test\":\"Test%d\"}\n{\"Action\":%q,\"Package\":\"p\",\"Test\":\"Test%d\"}\n", t, action, t)
		}
		return b.String()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return selector.Job{}, err
	}
	if err := testsubject.Repo(dir, map[string]string{"out.json": out(0)}); err != nil {
		return selector.Job{}, fmt.Errorf("scale: make the job's repository: %w", err)
	}
	job := selector.Job{
		Options: selector.Options{BaseRuns: 1, Execution: selector.ExecutionAll},
		Task: selector.Task{ID: "scale", Env: executor.Environment{Repo: dir}, Format: executor.GoJSON,
			TestCommand: fmt.Sprintf("sleep %.3f; cat out.json", runTime.Seconds()), Timeout: selector.Duration(time.Minute)},
	}
	for i := range n {
		patch, err := testsubject.Diff(dir, testsubject.NewFile("out.json", out(i+1)))
		if err != nil {
			return selector.Job{}, fmt.Errorf("scale: make candidate %d: %w", i+1, err)
		}
		job.Candidates = append(job.Candidates, scoring.Candidate{ID: fmt.Sprintf("c%d", i+1), Patch: patch})
	}
	return job, nil
}

// startCluster starts n embedded NATS servers on loopback, routed into one
// JetStream cluster, and waits until it takes a stream with n replicas.
func startCluster(ctx context.Context, n int, dir string, log *slog.Logger) ([]*natsserver.Server, error) {
	var routes, listen []string
	for range n {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		listen, routes = append(listen, addr), append(routes, "nats-route://"+addr)
	}
	var servers []*natsserver.Server
	shutdown := func() {
		for _, s := range servers {
			s.Shutdown()
		}
	}
	for i := range n {
		s, err := natsserver.Start(ctx, natsserver.Config{Listen: "127.0.0.1:0", StoreDir: filepath.Join(dir, fmt.Sprintf("s%d", i+1)),
			Name: fmt.Sprintf("s%d", i+1), Log: log, Cluster: &natsserver.Cluster{Name: "bestpatch-bench", Listen: listen[i], Routes: routes}})
		if err != nil {
			shutdown()
			return nil, fmt.Errorf("scale: start server %d of %d: %w", i+1, n, err)
		}
		servers = append(servers, s)
	}
	nc, err := nats.Connect(servers[0].ClientURL())
	if err != nil {
		shutdown()
		return nil, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		shutdown()
		return nil, err
	}
	// Until the servers elect a meta leader, JetStream requests go
	// unanswered.
	deadline := time.Now().Add(time.Minute)
	for {
		try, cancel := context.WithTimeout(ctx, time.Second)
		_, err := js.CreateStream(try, jetstream.StreamConfig{Name: "PROBE", Subjects: []string{"bestpatch-bench.probe"}, Replicas: n, Storage: jetstream.MemoryStorage})
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			shutdown()
			return nil, fmt.Errorf("scale: the cluster of %d servers took no replicated stream within a minute: %w", n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := js.DeleteStream(ctx, "PROBE"); err != nil {
		shutdown()
		return nil, err
	}
	return servers, nil
}

func serverURLs(servers []*natsserver.Server) string {
	var urls []string
	for _, s := range servers {
		urls = append(urls, s.ClientURL())
	}
	return strings.Join(urls, ",")
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitDaemons waits until n daemons answer the micro service's ping.
func waitDaemons(ctx context.Context, nc *nats.Conn, n int) error {
	deadline := time.Now().Add(time.Minute)
	for {
		got, err := countDaemons(nc, 500*time.Millisecond)
		if err != nil {
			return err
		}
		if got >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("scale: %d of %d daemons answer after a minute", got, n)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// countDaemons counts the answers to the service's ping within wait.
func countDaemons(nc *nats.Conn, wait time.Duration) (int, error) {
	inbox := nc.NewRespInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return 0, err
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest("$SRV.PING."+wire.ServiceName, inbox, nil); err != nil {
		return 0, err
	}
	n := 0
	for end := time.Now().Add(wait); ; n++ {
		if _, err := sub.NextMsg(time.Until(end)); err != nil {
			return n, nil
		}
	}
}

// ServeStarter starts each daemon as `binary serve` joining the server
// (local executor, no result cache), its output in dir/NAME.log.
func ServeStarter(binary, dir string) DaemonStarter {
	return func(ctx context.Context, url, name string, workers, replicas int) (func(), error) {
		logf, err := os.Create(filepath.Join(dir, name+".log"))
		if err != nil {
			return nil, err
		}
		cmd := exec.Command(binary, "serve", "--nats-url", url, "--name", name, "--workers", fmt.Sprint(workers),
			"--replicas", fmt.Sprint(replicas), "--executor", "local", "--unsafe-local-executor", "--no-cache", "--log-level", "warn")
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			logf.Close()
			return nil, fmt.Errorf("start %s serve: %w", binary, err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
		return func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
		}, nil
	}
}

// WriteScale prints a scale result.
func WriteScale(w io.Writer, r ScaleResult) error {
	if _, err := fmt.Fprintf(w, `Scale-out (bestpatch serve daemons sharing one work queue on a %d-server JetStream cluster, %d replicas):
jobs of %d candidates, every run executed (no result cache), each run's test command sleeping %.2fs; %d worker(s) per daemon
  daemons   jobs   runs   seconds   runs/s   ideal   of ideal
`, r.Servers, r.Replicas, r.Candidates, r.RunTime, r.Workers); err != nil {
		return err
	}
	for _, p := range r.Points {
		var by []string
		for _, name := range slices.Sorted(maps.Keys(p.ByDaemon)) {
			by = append(by, fmt.Sprint(p.ByDaemon[name]))
		}
		if _, err := fmt.Fprintf(w, "  %7d %6d %6d %9.1f %8.2f %7.2f %9.0f%%   runs per daemon: %s\n", p.Daemons, p.Jobs, p.Runs, p.Seconds, p.RunsPerSecond, p.Ideal, 100*p.Efficiency, strings.Join(by, " ")); err != nil {
			return err
		}
	}
	return nil
}
