package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/bestpatch/bestpatch/executor/local"
	"github.com/bestpatch/bestpatch/internal/natsserver"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/client"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// TestFastTakeOver: a daemon that stopped between claiming a fast job's
// scoring and publishing its outcome leaves the claim; a resubmission
// leaves a fresh claim alone (its daemon may still publish) and takes a
// stale one over: on its own fast path when it can answer the job, else
// through the queue. Each job ends with one outcome.
func TestFastTakeOver(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv, err := natsserver.Start(ctx, natsserver.Config{Listen: "127.0.0.1:0", StoreDir: filepath.Join(t.TempDir(), "nats")})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	loc := local.New(local.Config{Logger: slog.New(slog.DiscardHandler), TempDir: t.TempDir()})
	defer loc.Close()
	// No result cache: a job with runs cannot take the fast path here.
	d, err := Start(ctx, Config{Conn: nc, Exec: loc, Slots: 2, Name: "d1", opTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Shutdown(context.Background())
	c, err := client.New(nc)
	if err != nil {
		t.Fatal(err)
	}

	free := smallJob(t, "free")
	free.Options.Execution = selector.ExecutionNone
	for _, tc := range []struct {
		name  string
		job   selector.Job
		stale bool
		// want is where the resubmission leaves the job.
		want wire.State
	}{
		{"fresh claim left alone", withID(free, "free-fresh"), false, wire.Scoring},
		{"stale claim, answered here", withID(free, "free-stale"), true, wire.Done},
		{"stale claim, through the queue", smallJob(t, "runs-stale"), true, wire.Queued},
	} {
		t.Run(tc.name, func(t *testing.T) {
			claimedFast(ctx, t, d, tc.job, tc.stale)
			reply, err := c.Submit(ctx, tc.job)
			if err != nil {
				t.Fatal(err)
			}
			if !reply.Existing || reply.State != tc.want {
				t.Fatalf("resubmission: %+v; want existing, state %s", reply, tc.want)
			}
			if tc.want == wire.Scoring {
				if _, published, err := d.lastOutcome(ctx, tc.job.ID); err != nil || published {
					t.Errorf("outcome published (%v, %v) over a fresh claim", published, err)
				}
				return
			}
			terminal := 0
			out, err := c.Follow(ctx, tc.job.ID, 0, func(_ uint64, e wire.Event) {
				if e.Kind == wire.EventSelected || e.Kind == wire.EventFailed {
					terminal++
				}
			})
			if err != nil || out.State != wire.Done || out.Report == nil || out.Report.Verdict.Chosen == "" {
				t.Fatalf("the job taken over ended with %+v, %v; want done with a choice", out, err)
			}
			if terminal != 1 {
				t.Errorf("%d terminal events, want 1", terminal)
			}
		})
	}
}

func withID(job selector.Job, id string) selector.Job {
	job.ID = id
	return job
}

// claimedFast stores a job as the fast path does and claims its scoring as
// daemon "gone", now or an hour ago, without publishing anything.
func claimedFast(ctx context.Context, t *testing.T, d *Daemon, job selector.Job, stale bool) {
	t.Helper()
	storeJob(ctx, t, d, job, true)
	at := time.Now().UTC()
	if stale {
		at = at.Add(-time.Hour)
	}
	claim, _ := json.Marshal(endClaim{State: wire.Scoring, Daemon: "gone", Time: at, Fast: true})
	if _, err := d.store.ends.Create(ctx, job.ID, claim); err != nil {
		t.Fatal(err)
	}
}

// storeJob stores a job's record as accept does, without queueing or
// answering it.
func storeJob(ctx context.Context, t *testing.T, d *Daemon, job selector.Job, fast bool) {
	t.Helper()
	canonical, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(canonical)
	env, _, err := d.store.wrap(ctx, "jobs/"+job.ID, canonical)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := json.Marshal(jobRecord{Submitted: time.Now().UTC(), Hash: hex.EncodeToString(sum[:]), Job: env, Fast: fast})
	if _, err := d.store.jobs.Create(ctx, job.ID, rec); err != nil {
		t.Fatal(err)
	}
}
