package bench

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/bestpatch/bestpatch/executor/local"
	"github.com/bestpatch/bestpatch/selector/service"
)

// inProcess starts each daemon in this process, on the local executor.
func inProcess(t *testing.T) DaemonStarter {
	exec := local.New(local.Config{Logger: slog.New(slog.DiscardHandler), TempDir: t.TempDir()})
	return func(ctx context.Context, url, name string, workers, replicas int) (func(), error) {
		nc, err := nats.Connect(url)
		if err != nil {
			return nil, err
		}
		d, err := service.Start(ctx, service.Config{Conn: nc, Exec: exec, Name: name, Slots: workers, Replicas: replicas})
		if err != nil {
			nc.Close()
			return nil, err
		}
		return func() { d.Shutdown(context.Background()); nc.Close() }, nil
	}
}

// TestScale: one daemon, then two on a two-server cluster, run every
// candidate of every job, once; two daemons share the runs (each executes
// some), and the figures add up.
func TestScale(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a NATS cluster and daemons that run tests")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := ScaleConfig{Start: inProcess(t), Daemons: []int{1, 2}, Servers: 2, Workers: 1, RunTime: 200 * time.Millisecond,
		Candidates: 3, JobsPerDaemon: 3, Dir: t.TempDir()}
	res, err := Scale(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Points) != 2 || res.Replicas != 2 {
		t.Fatalf("result %+v: want two points on two replicas", res)
	}
	for _, p := range res.Points {
		if want := p.Jobs * (cfg.Candidates + 1); p.Runs != want {
			t.Errorf("%d daemons: %d runs executed, want %d (each job's candidates and base, once)", p.Daemons, p.Runs, want)
		}
		if p.Jobs != p.Daemons*cfg.JobsPerDaemon || p.Seconds <= 0 || p.RunsPerSecond <= 0 {
			t.Errorf("%d daemons: %+v", p.Daemons, p)
		}
		if want := float64(p.Daemons) / cfg.RunTime.Seconds(); p.Ideal != want {
			t.Errorf("%d daemons: ideal %v runs/s, want %v", p.Daemons, p.Ideal, want)
		}
		if len(p.ByDaemon) != p.Daemons {
			t.Errorf("%d daemons: runs by daemon %v: want every daemon to execute runs", p.Daemons, p.ByDaemon)
		}
		total := 0
		for _, n := range p.ByDaemon {
			total += n
		}
		if total != p.Runs {
			t.Errorf("%d daemons: runs by daemon %v add up to %d, want %d", p.Daemons, p.ByDaemon, total, p.Runs)
		}
	}
}
