package service

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/bestpatch/bestpatch/executor/local"
	"github.com/bestpatch/bestpatch/internal/natsserver"
	"github.com/bestpatch/bestpatch/selector/client"
)

// startWithDaemon starts a server and a daemon (Local executor, no result
// cache) and returns the daemon and a client.
func startWithDaemon(ctx context.Context, t *testing.T) (*Daemon, *client.Client) {
	t.Helper()
	srv, err := natsserver.Start(ctx, natsserver.Config{Listen: "127.0.0.1:0", StoreDir: filepath.Join(t.TempDir(), "nats")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	loc := local.New(local.Config{Logger: slog.New(slog.DiscardHandler), TempDir: t.TempDir()})
	t.Cleanup(func() { loc.Close() })
	d, err := Start(ctx, Config{Conn: nc, Exec: loc, Slots: 2, Name: "d1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })
	c, err := client.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return d, c
}

// count is the number of job views the daemon holds.
func (vs *views) count() int {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	return len(vs.m)
}

// TestViewsOfEndedJobsDropped: the daemon keeps nothing of a job that went
// through the queue once it has ended, scored or cancelled.
func TestViewsOfEndedJobsDropped(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	d, c := startWithDaemon(ctx, t)
	if _, err := c.Run(ctx, smallJob(t, "scored"), nil); err != nil {
		t.Fatal(err)
	}
	waitViews(ctx, t, d, "the scored job")

	slow := smallJob(t, "cancelled")
	slow.Task.TestCommand = "sleep 60"
	if _, err := c.Submit(ctx, slow); err != nil {
		t.Fatal(err)
	}
	for d.views.count() == 0 {
		select {
		case <-ctx.Done():
			t.Fatal("the job's runs never started")
		case <-time.After(10 * time.Millisecond):
		}
	}
	if _, err := c.Cancel(ctx, slow.ID); err != nil {
		t.Fatal(err)
	}
	waitViews(ctx, t, d, "the cancelled job")
}

// waitViews waits until the daemon holds no view, for less than the idle
// time after which the janitor would drop them anyway.
func waitViews(ctx context.Context, t *testing.T, d *Daemon, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, viewIdle/4)
	defer cancel()
	for d.views.count() > 0 {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: the daemon still holds %d views", what, d.views.count())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestIdleViewsBounded: views of jobs with no run in hand are capped, the
// least recently used dropped first.
func TestIdleViewsBounded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, _ := startWithDaemon(ctx, t)
	job := smallJob(t, "")
	for i := range maxIdleViews + 10 {
		job.ID = fmt.Sprintf("idle-%d", i)
		storeJob(ctx, t, d, job, false)
		if _, err := d.views.get(ctx, job.ID); err != nil {
			t.Fatal(err)
		}
	}
	if n := d.views.count(); n > maxIdleViews {
		t.Errorf("%d views held, want at most %d", n, maxIdleViews)
	}
	if _, ok := d.views.lookup("idle-0"); ok {
		t.Error("the least recently used view is still held")
	}
	if _, ok := d.views.lookup(job.ID); !ok {
		t.Error("the most recent view was dropped")
	}
}
