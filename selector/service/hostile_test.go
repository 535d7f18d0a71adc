package service_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/client"
	"github.com/bestpatch/bestpatch/selector/service"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// The probes of a hostile NATS client: anyone who can publish to the
// daemon's subjects. docs/DAEMON.md ("Threat model") names these tests.

// workConsumer reads the shared work consumer's state.
func workConsumer(ctx context.Context, t *testing.T, js jetstream.JetStream) *jetstream.ConsumerInfo {
	t.Helper()
	cons, err := js.Consumer(ctx, wire.WorkStream, wire.WorkConsumer)
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// publishWork publishes a raw work item, as a hostile client would.
func publishWork(ctx context.Context, t *testing.T, js jetstream.JetStream, subject, body string) {
	t.Helper()
	if _, err := js.Publish(ctx, subject, []byte(body)); err != nil {
		t.Fatalf("publish %s %s: %v", subject, body, err)
	}
}

// resultRevision is the revision of one stored result of a job.
func resultRevision(ctx context.Context, t *testing.T, js jetstream.JetStream, job string) uint64 {
	t.Helper()
	kv, err := js.KeyValue(ctx, wire.ResultsBucket)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := kv.ListKeysFiltered(ctx, job+".*")
	if err != nil {
		t.Fatal(err)
	}
	for key := range keys.Keys() {
		e, err := kv.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return e.Revision()
	}
	t.Fatalf("job %s has no stored result", job)
	return 0
}

// TestForgedWorkItems: work items that do not belong to their job's plan
// (a finished job, a revision beyond the job's, another job's revision, a
// run the plan does not have, a job that does not exist, a subject that is
// not the item's job, not JSON) are terminated at once: none is delivered
// again, none holds a worker slot, and the job that is running goes on.
// Before, the first of them was redelivered for about 12 minutes, holding
// a slot about 30 s each time.
func TestForgedWorkItems(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	ns := startNATS(t)
	// AckWait 4 s: the busy runs' in-progress acks go every 1.3 s; with 2 s,
	// a loaded CI machine (load 24, -race) once let one lapse, and the busy
	// run's redelivery, not a forged item, took the third slot.
	const ackWait = 4 * time.Second
	d := startDaemon(t, ns.ClientURL(), service.Config{Name: "d1", Slots: 3, AckWait: ackWait, MaxAttempts: 3})
	c := newClient(t, ns.ClientURL())
	nc := connect(t, ns.ClientURL())
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t, 10*time.Minute)

	finished := exampleJob(t, "finished")
	finished.Task.GeneratedTests = nil
	finished.Candidates = finished.Candidates[:2]
	if _, err := c.Run(ctx, finished, nil); err != nil {
		t.Fatal(err)
	}
	// A job in progress: its two runs (base, one candidate) take 2 of the
	// 3 slots for as long as the test lasts.
	busy := slowJob(t, "busy", "600")
	busy.Task.GeneratedTests = nil
	busy.Candidates = busy.Candidates[:1]
	busy.Options.BaseRuns = 1
	starts := runStarts(t, nc, "busy")
	if _, err := c.Submit(ctx, busy); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case <-starts:
		case <-ctx.Done():
			t.Fatal("the busy job's runs did not start")
		}
	}
	t.Cleanup(func() { c.Cancel(context.Background(), "busy") })

	otherRev := resultRevision(ctx, t, js, "finished")
	for _, item := range []struct{ subject, body string }{
		{wire.WorkSubject("finished"), `{"job":"finished","run":"x","revision":99999}`},
		{wire.WorkSubject("busy"), `{"job":"busy","run":"base/1","revision":99999}`},
		{wire.WorkSubject("busy"), fmt.Sprintf(`{"job":"busy","run":"base/1","revision":%d}`, otherRev)},
		{wire.WorkSubject("busy"), `{"job":"busy","run":"cand/0000/all","revision":0}`},
		{wire.WorkSubject("ghost"), `{"job":"ghost","run":"base/1","revision":0}`},
		{wire.WorkSubject("finished"), `{"job":"busy","run":"base/1","revision":0}`},
		{wire.WorkSubject("finished"), `not json`},
		// The step after an open job's append, for jobs that have none.
		{wire.WorkSubject("busy"), `{"job":"busy","run":"append/1","revision":99999}`},
		{wire.WorkSubject("finished"), fmt.Sprintf(`{"job":"finished","run":"append/1","revision":%d}`, otherRev)},
	} {
		publishWork(ctx, t, js, item.subject, item.body)
	}
	// Every forged item is gone: only the busy job's two runs are held.
	waitFor(ctx, t, "the forged items to be dropped", func() bool {
		info := workConsumer(ctx, t, js)
		return info.NumPending == 0 && info.NumAckPending == 2
	})
	// And none comes back: wait past two ack waits.
	time.Sleep(2*ackWait + time.Second)
	info := workConsumer(ctx, t, js)
	if info.NumPending != 0 || info.NumAckPending != 2 || info.NumRedelivered != 0 {
		t.Errorf("after the ack wait: %d pending, %d held, %d redelivered; want 0, 2 (the busy runs), 0",
			info.NumPending, info.NumAckPending, info.NumRedelivered)
	}
	if d.Busy() != 2 {
		t.Errorf("%d slots busy, want 2 (the busy job's runs only)", d.Busy())
	}
	// The finished job is as it was.
	st, err := c.Status(ctx, "finished")
	if err != nil || st.State != wire.Done {
		t.Errorf("finished job: %+v %v, want done", st, err)
	}
}

// TestExecutorErrorsCountAttempts: a run whose executor fails is tried
// MaxAttempts times, then stored as an infrastructure failure (unknown,
// never a pass), and the job ends.
func TestExecutorErrorsCountAttempts(t *testing.T) {
	ns := startNATS(t)
	startDaemon(t, ns.ClientURL(), service.Config{Name: "d1", Slots: 2, MaxAttempts: 2})
	c := newClient(t, ns.ClientURL())
	ctx := ctxFor(t, 5*time.Minute)
	job := selector.Job{ID: "no-repo", Candidates: exampleJob(t, "").Candidates[:1],
		Task: selector.Task{ID: "t", Env: executor.Environment{Repo: "/nonexistent/repo"}, TestCommand: "true", Format: executor.GoJSON}}
	job.Options.BaseRuns = 1
	if _, err := c.Submit(ctx, job); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "the job to end", func() bool {
		st, err := c.Status(ctx, "no-repo")
		return err == nil && st.State.Final()
	})
	res := storedResults(t, ns.ClientURL(), "no-repo")
	if len(res) == 0 {
		t.Fatal("no result stored")
	}
	for run, rr := range res {
		if rr.Result.Status != executor.Infra || !strings.Contains(rr.Result.Reason, "executor failed 2 times") {
			t.Errorf("run %s: %s %q, want infra after 2 attempts", run, rr.Result.Status, rr.Result.Reason)
		}
	}
}

// TestRetriesEnd: a work item whose job cannot be loaded (its stored
// record names an object that is not there) is retried, each delivery
// counting, and after MaxAttempts deliveries the job fails with the
// reason; the item is not delivered again. Before, it was handed back for
// ever.
func TestRetriesEnd(t *testing.T) {
	ns := startNATS(t)
	startDaemon(t, ns.ClientURL(), service.Config{Name: "d1", Slots: 1, MaxAttempts: 2})
	nc := connect(t, ns.ClientURL())
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t, 5*time.Minute)
	jobs, err := js.KeyValue(ctx, wire.JobsBucket)
	if err != nil {
		t.Fatal(err)
	}
	rec := `{"submitted":"2026-01-01T00:00:00Z","hash":"x","job":{"object":"jobs/missing"}}`
	if _, err := jobs.Create(ctx, "broken", []byte(rec)); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, ns.ClientURL())
	waited := make(chan error, 1)
	go func() {
		_, err := c.Wait(ctx, "broken", nil)
		waited <- err
	}()
	publishWork(ctx, t, js, wire.WorkSubject("broken"), `{"job":"broken","run":"base/1","revision":0}`)
	err = <-waited
	var failed *client.FailedError
	if !errors.As(err, &failed) || failed.State != wire.Failed || !strings.Contains(failed.Message, "after 2 deliveries") {
		t.Fatalf("wait: %v, want the job failed after 2 deliveries", err)
	}
	info := workConsumer(ctx, t, js)
	if info.NumPending != 0 || info.NumAckPending != 0 {
		t.Errorf("the item is still queued: %d pending, %d held", info.NumPending, info.NumAckPending)
	}
}

// TestRepoJobRefusedWithoutLocal: a daemon whose executor has no local
// backend (serve without --unsafe-local-executor) answers a job on a
// local checkout with a 400 that says what to do (the route's remedy, which
// serve writes), and stores nothing.
func TestRepoJobRefusedWithoutLocal(t *testing.T) {
	ns := startNATS(t)
	// The routes without their executors: the refusal happens before
	// anything could run.
	const remedy = "start every daemon with --unsafe-local-executor"
	router := selector.Router{Routes: []selector.Route{
		{Name: "docker", Handles: func(e executor.Environment) bool { return e.Image != "" }, Remedy: "get a Docker engine"},
		{Name: "local", Handles: func(executor.Environment) bool { return true }, Remedy: remedy},
	}}
	startDaemon(t, ns.ClientURL(), service.Config{Name: "d1", Exec: router})
	nc := connect(t, ns.ClientURL())
	c := newClient(t, ns.ClientURL())
	ctx := ctxFor(t, time.Minute)
	_, err := c.Submit(ctx, exampleJob(t, "repo-job"))
	if !errors.Is(err, selector.ErrInvalidJob) {
		t.Fatalf("submit: %v, want ErrInvalidJob", err)
	}
	for _, want := range []string{"on the local checkout", "no local executor", remedy} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q should say %q", err, want)
		}
	}
	if _, err := c.Status(ctx, "repo-job"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("status of the refused job: %v, want not found", err)
	}
	js, _ := jetstream.New(nc)
	if info := workConsumer(ctx, t, js); info.NumPending != 0 {
		t.Errorf("%d runs queued for a refused job", info.NumPending)
	}
}
