package service

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/local"
	"github.com/bestpatch/bestpatch/internal/natsserver"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/client"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// TestEverythingThroughObjects: with a tiny inline limit, the stored job,
// every result and the report go through the object store, and the client
// still gets the report.
// startInternal starts a server and a daemon with cfg (and the Local
// executor), and returns a function that opens connections to the server.
func startInternal(t *testing.T, cfg Config) func() *nats.Conn {
	t.Helper()
	srv, err := natsserver.Start(context.Background(), natsserver.Config{Listen: "127.0.0.1:0", StoreDir: filepath.Join(t.TempDir(), "nats")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	conn := func() *nats.Conn {
		nc, err := nats.Connect(srv.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	loc := local.New(local.Config{Logger: slog.New(slog.DiscardHandler), TempDir: t.TempDir()})
	t.Cleanup(func() { loc.Close() })
	cfg.Conn, cfg.Exec, cfg.Slots = conn(), loc, 2
	d, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })
	return conn
}

// smallJob is the example without generated tests, with its first two
// candidates (twins: 3 runs in all).
func smallJob(t *testing.T, id string) selector.Job {
	t.Helper()
	tasks, err := selector.LoadTasks("../../testdata/example/task.json")
	if err != nil {
		t.Fatal(err)
	}
	preds, _ := filepath.Glob("../../testdata/example/preds/*.jsonl")
	cands, err := selector.LoadPredictions(preds)
	if err != nil {
		t.Fatal(err)
	}
	task := tasks[0]
	task.GeneratedTests = nil
	return selector.Job{ID: id, Task: task, Candidates: cands[task.ID][:2]}
}

func TestEverythingThroughObjects(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	conn := startInternal(t, Config{Name: "d1", maxInline: 64})
	c, err := client.New(conn())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.Run(ctx, smallJob(t, "objects"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Job != "objects" || rep.Verdict.Chosen == "" || len(rep.Runs) != 3 {
		t.Fatalf("report: job %q chose %q after %d runs", rep.Job, rep.Verdict.Chosen, len(rep.Runs))
	}
	st, err := c.Status(ctx, "objects")
	if err != nil {
		t.Fatal(err)
	}
	if st.Outcome == nil || st.Outcome.ReportObject != "verdicts/objects" || st.Outcome.Report != nil {
		t.Errorf("outcome should name the report object: %+v", st.Outcome)
	}
	js, _ := jetstream.New(conn())
	objects, err := js.ObjectStore(ctx, wire.ObjectBucket)
	if err != nil {
		t.Fatal(err)
	}
	infos, err := objects.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	results := 0
	for _, o := range infos {
		names = append(names, o.Name)
		if strings.HasPrefix(o.Name, "results/objects.") && strings.HasSuffix(o.Name, "/d1") {
			results++
		}
	}
	if !slices.Contains(names, "jobs/objects") || !slices.Contains(names, "verdicts/objects") || results != 3 {
		t.Errorf("objects %v: want the job, the report and 3 results", names)
	}
}

// TestRunOutlastsOperations: a run may last far longer than the bound on
// one JetStream operation; its result is still stored.
func TestRunOutlastsOperations(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	conn := startInternal(t, Config{Name: "d1", opTimeout: 2 * time.Second, AckWait: 3 * time.Second})
	c, err := client.New(conn())
	if err != nil {
		t.Fatal(err)
	}
	job := smallJob(t, "long")
	job.Task.TestCommand = "sleep 5; " + job.Task.TestCommand
	rep, err := c.Run(ctx, job, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict.Chosen == "" || len(rep.Runs) != 3 {
		t.Fatalf("chose %q after %d runs", rep.Verdict.Chosen, len(rep.Runs))
	}
	for _, r := range rep.Runs {
		if r.Status != executor.Completed || r.Duration < 5*time.Second {
			t.Errorf("run %s: %s in %s, want completed after the 5 s sleep", r.ID, r.Status, r.Duration)
		}
	}
}

// TestJobObjectOverTheLimit: an uploaded job bigger than the limit on a
// job document is refused with a 400 before the daemon reads it.
func TestJobObjectOverTheLimit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn := startInternal(t, Config{Name: "d1", maxJobDocument: 1000})
	nc := conn()
	js, _ := jetstream.New(nc)
	objects, err := js.ObjectStore(ctx, wire.ObjectBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := objects.PutBytes(ctx, "submit/huge", []byte(strings.Repeat(" ", 1001))); err != nil {
		t.Fatal(err)
	}
	msg := nats.NewMsg(wire.SubmitSubject)
	msg.Header.Set(wire.JobObjectHeader, "submit/huge")
	resp, err := nc.RequestMsgWithContext(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	var reply wire.ErrorReply
	if err := json.Unmarshal(resp.Data, &reply); err != nil || reply.Code != wire.CodeInvalid ||
		!strings.Contains(reply.Error, `job object "submit/huge" is 1001 bytes, over the limit of 1000`) {
		t.Fatalf("reply %s (%v), want a 400 naming the limit", resp.Data, err)
	}
}
