package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"

	"github.com/bestpatch/bestpatch/executor/local"
	"github.com/bestpatch/bestpatch/internal/metrics"
	"github.com/bestpatch/bestpatch/internal/runcache"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/client"
	"github.com/bestpatch/bestpatch/selector/service"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// TestSubmitMatchesInProcess: a job submitted through the client comes back
// with the verdict that selector.Select gives in process, with its progress
// events in order.
// TestAdaptiveMatchesInProcess: with adaptive execution (the default) the
// daemon makes the runs the in-process selector makes, whatever the
// parallelism of either, and so reports the same verdict and matrix,
// candidates not run included.
func TestAdaptiveMatchesInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	job := exampleJob(t, "adaptive")
	job.Options.Execution = ""
	loc := local.New(local.Config{Logger: slog.New(slog.DiscardHandler), TempDir: t.TempDir()})
	defer loc.Close()
	sel := &selector.Selector{Exec: loc, Pool: selector.NewPool(1)}
	want, err := sel.Select(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Verdict.Basis.NotRun) == 0 {
		t.Fatalf("in process, every candidate ran: %+v", want.Verdict.Basis)
	}
	ns := startNATS(t)
	startDaemon(t, ns.ClientURL(), service.Config{Name: "d1"})
	startDaemon(t, ns.ClientURL(), service.Config{Name: "d2"})
	c := newClient(t, ns.ClientURL())
	got, err := c.Run(ctxFor(t, 15*time.Minute), job, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameVerdict(t, got, want)
	if len(got.Runs) != len(want.Runs) {
		t.Errorf("the daemon made %d runs, in process %d", len(got.Runs), len(want.Runs))
	}
}

func TestSubmitMatchesInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	want := referenceReport(t)
	ns := startNATS(t)
	startDaemon(t, ns.ClientURL(), service.Config{Name: "d1"})
	c := newClient(t, ns.ClientURL())
	ctx := ctxFor(t, 15*time.Minute)

	var mu sync.Mutex
	var events []selector.Event
	got, err := c.Run(ctx, exampleJob(t, "match"), func(e selector.Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	sameVerdict(t, got, want)
	if got.Job != "match" || len(got.Runs) == 0 {
		t.Errorf("report: job %q, %d runs", got.Job, len(got.Runs))
	}

	mu.Lock()
	defer mu.Unlock()
	kinds := map[selector.EventKind]int{}
	for _, e := range events {
		kinds[e.Kind]++
	}
	if events[0].Kind != selector.EventAccepted || events[len(events)-1].Kind != selector.EventSelected {
		t.Errorf("events should run from accepted to selected: first %s, last %s", events[0].Kind, events[len(events)-1].Kind)
	}
	if kinds[selector.EventRunFinished] != len(got.Runs) || kinds[selector.EventRunStarted] == 0 {
		t.Errorf("events: %v for %d runs", kinds, len(got.Runs))
	}
	if events[len(events)-1].Chosen != want.Verdict.Chosen {
		t.Errorf("selected event names %q, want %q", events[len(events)-1].Chosen, want.Verdict.Chosen)
	}

	// Status tells the same, and resubmitting the same job is accepted
	// without queuing anything new.
	st, err := c.Status(ctx, "match")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != wire.Done || st.Outcome == nil || st.Outcome.Report.Verdict.Chosen != want.Verdict.Chosen || st.RunsDone != len(got.Runs) {
		t.Errorf("status: %+v", st)
	}
	again, err := c.Submit(ctx, exampleJob(t, "match"))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Existing || again.State != wire.Done {
		t.Errorf("resubmission: %+v, want existing and done", again)
	}
	other := exampleJob(t, "match")
	other.Candidates = other.Candidates[:2]
	if _, err := c.Submit(ctx, other); !errors.Is(err, client.ErrConflict) {
		t.Errorf("another job under a taken id: %v, want ErrConflict", err)
	}
}

// TestSubmitAndWait: with the wait header, the submit reply is the outcome;
// the runs come from the result cache the first job filled, except the
// repeated base run.
func TestSubmitAndWait(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	want := referenceReport(t)
	ns := startNATS(t)
	cache, err := runcache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	startDaemon(t, ns.ClientURL(), service.Config{Name: "d1", Cache: cache, Metrics: m})
	c := newClient(t, ns.ClientURL())
	ctx := ctxFor(t, 15*time.Minute)
	for _, id := range []string{"first", "second"} {
		got, err := c.SubmitAndWait(ctx, exampleJob(t, id))
		if err != nil {
			t.Fatal(err)
		}
		sameVerdict(t, got, want)
		for _, r := range got.Runs {
			// The repeated base runs always execute (they look for flaky cases).
			if want := !strings.HasPrefix(r.ID, "base/") || r.ID == "base/1"; id == "second" && r.Cached != want {
				t.Errorf("second job: run %s cached = %v, want %v", r.ID, r.Cached, want)
			}
		}
	}
	// The metrics count both jobs (just after publishing their outcomes),
	// the runs by outcome and their times.
	wants := []*regexp.Regexp{regexp.MustCompile(`bestpatch_jobs_total\{event="submitted"\} 2\n`), regexp.MustCompile(`bestpatch_jobs_total\{event="done"\} 2\n`),
		regexp.MustCompile(`bestpatch_job_seconds_count\{state="done"\} 2\n`), regexp.MustCompile(`bestpatch_job_seconds_count\{state="failed"\} 0\n`),
		regexp.MustCompile(`bestpatch_runs_total\{outcome="cached"\} [1-9]`), regexp.MustCompile(`bestpatch_runs_total\{outcome="completed"\} [1-9]`),
		regexp.MustCompile(`bestpatch_runs_total\{outcome="apply_failed"\} [1-9]`), regexp.MustCompile(`bestpatch_runs_total\{outcome="given_up"\} 0\n`),
		regexp.MustCompile(`bestpatch_run_seconds_count [1-9]`), regexp.MustCompile(`bestpatch_busy_slots 0\n`), regexp.MustCompile(`bestpatch_slots 2\n`)}
	waitFor(ctx, t, "the metrics to count both jobs", func() bool {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		for _, want := range wants {
			if !want.MatchString(rec.Body.String()) {
				return false
			}
		}
		return true
	})
}

// TestInvalidJobs: a malformed job gets an error reply that names the
// problem, and the daemon keeps serving.
func TestInvalidJobs(t *testing.T) {
	ns := startNATS(t)
	startDaemon(t, ns.ClientURL(), service.Config{Name: "d1"})
	nc := connect(t, ns.ClientURL())
	good := `{"task":{"instance_id":"x","environment":{"repo":"/tmp"},"test_command":"go test -json ./...","test_format":"go-json"},"candidates":[{"id":"a","patch":""}]}`
	cases := []struct {
		name, body, id string
		want           string
	}{
		{"empty", ``, "", "the request is empty"},
		{"not json", `{"task":`, "", "the JSON ends too early"},
		{"syntax", `{"task" 1}`, "", "not valid JSON"},
		{"unknown field", `{"tsk":{}}`, "", `field "tsk": unknown field`},
		{"wrong type", `{"candidates":"a"}`, "", `field "candidates": has a string value`},
		{"no candidates", strings.Replace(good, `"candidates":[{"id":"a","patch":""}]`, `"candidates":[]`, 1), "", "no candidates"},
		{"no test command", strings.Replace(good, `go test -json ./...`, ``, 1), "", `"test_command" is empty`},
		{"bad format", strings.Replace(good, `go-json`, `tap`, 1), "", `test_format "tap" is not known`},
		{"bad id", strings.Replace(good, `{"task"`, `{"id":"a.b","task"`, 1), "", `job id "a.b"`},
		{"swebench and task", strings.Replace(good, `{"task"`, `{"swebench":{"row":{"instance_id":"a__b-1","repo":"django/django","version":"3.0"}},"task"`, 1), "", `both "task" and "swebench"`},
		{"judge without an endpoint", strings.Replace(good, `{"task"`, `{"options":{"judge":true},"task"`, 1), "", "asks for judge, but this daemon has no model endpoint: start bestpatch serve with --llm-url"},
		{"model work without an endpoint", strings.Replace(good, `{"task"`, `{"options":{"generate_tests":2,"adversarial_rounds":1},"task"`, 1), "", "asks for generate_tests and adversarial_rounds, but this daemon has no model endpoint"},
		{"swebench unknown version", `{"swebench":{"row":{"instance_id":"a__b-1","repo":"django/django","version":"0.1"}},"candidates":[{"id":"a","patch":""}]}`, "", `version "0.1" is not in the SWE-bench spec table`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := nc.Request(wire.SubmitSubject, []byte(tc.body), 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if code := resp.Header.Get(micro.ErrorCodeHeader); code != wire.CodeInvalid {
				t.Fatalf("code %q, want %s; reply %s", code, wire.CodeInvalid, resp.Data)
			}
			if msg := resp.Header.Get(micro.ErrorHeader); !strings.Contains(msg, tc.want) || !strings.Contains(msg, "invalid job") {
				t.Errorf("error %q should say %q (and invalid job)", msg, tc.want)
			}
			var body wire.ErrorReply
			if err := json.Unmarshal(resp.Data, &body); err != nil || !strings.Contains(body.Error, tc.want) || body.Code != wire.CodeInvalid {
				t.Errorf("body %s should say %q (%v)", resp.Data, tc.want, err)
			}
		})
	}
	// The client maps the reply to selector.ErrInvalidJob.
	c := newClient(t, ns.ClientURL())
	ctx := ctxFor(t, time.Minute)
	if _, err := c.Submit(ctx, selector.Job{}); !errors.Is(err, selector.ErrInvalidJob) {
		t.Errorf("client: %v, want ErrInvalidJob", err)
	}
	if _, err := c.Status(ctx, "never-submitted"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("status of an unknown job: %v, want ErrNotFound", err)
	}
	// Still serving: a valid job is accepted.
	reply, err := c.Submit(ctx, selector.Job{ID: "valid", Task: selector.Task{ID: "x", TestCommand: "true", Format: "go-json",
		Env: exampleJob(t, "").Task.Env}, Candidates: exampleJob(t, "").Candidates[:1]})
	if err != nil || reply.Job != "valid" {
		t.Fatalf("valid job after invalid ones: %+v %v", reply, err)
	}

	// The service's STATS count the replies, errors included, that were
	// sent after micro's handler call returned.
	subj, err := micro.ControlSubject(micro.StatsVerb, wire.ServiceName, "")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := nc.Request(subj, nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var stats micro.Stats
	if err := json.Unmarshal(resp.Data, &stats); err != nil {
		t.Fatal(err)
	}
	want := map[string]wire.EndpointStats{
		"submit": {Replies: len(cases) + 2, Errors: len(cases) + 1},
		"status": {Replies: 1, Errors: 1},
	}
	for _, ep := range stats.Endpoints {
		w, ok := want[ep.Name]
		if !ok {
			continue
		}
		delete(want, ep.Name)
		var got wire.EndpointStats
		if err := json.Unmarshal(ep.Data, &got); err != nil {
			t.Errorf("endpoint %s: data %s: %v", ep.Name, ep.Data, err)
			continue
		}
		if got.Replies != w.Replies || got.Errors != w.Errors || got.LastError == "" || got.ProcessingTime <= 0 {
			t.Errorf("endpoint %s: stats %+v, want %d replies, %d errors, the last one, a processing time", ep.Name, got, w.Replies, w.Errors)
		}
	}
	if len(want) > 0 {
		t.Errorf("STATS lack endpoints %v", want)
	}
}

// TestServiceDiscovery: the daemon answers $SRV.PING/INFO with its capacity.
func TestServiceDiscovery(t *testing.T) {
	ns := startNATS(t)
	startDaemon(t, ns.ClientURL(), service.Config{Name: "d1", Slots: 3, ExecutorName: "local"})
	nc := connect(t, ns.ClientURL())
	resp, err := nc.Request("$SRV.INFO."+wire.ServiceName, nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"name":"bestpatch"`, `"slots":"3"`, `"cores":`, `"memory_bytes":`, `"daemon":"d1"`,
		`"protocol":"v1"`, `"subject":"bestpatch.v1.submit"`, `"subject":"bestpatch.v1.status"`, `"subject":"bestpatch.v1.cancel"`} {
		if !strings.Contains(string(resp.Data), want) {
			t.Errorf("info lacks %s: %s", want, resp.Data)
		}
	}
	if _, err := nc.Request("$SRV.PING", nil, 10*time.Second); err != nil {
		t.Errorf("ping: %v", err)
	}
}

// slowJob is the example with runs that take long enough to be caught in
// the middle (the command sleeps before the tests).
func slowJob(t testing.TB, id string, seconds string) selector.Job {
	j := exampleJob(t, id)
	j.Task.TestCommand = "sleep " + seconds + "; " + j.Task.TestCommand
	return j
}

// daemonsRunning collects, from run_started events, which daemons have a
// run of the job in hand.
func daemonsRunning(t *testing.T, nc *nats.Conn, job string) (func() []string, func()) {
	var mu sync.Mutex
	seen := []string{}
	sub, err := nc.Subscribe(wire.EventsSubject(job), func(m *nats.Msg) {
		if !strings.Contains(string(m.Data), `"run_started"`) {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if d := m.Header.Get(wire.DaemonHeader); !slices.Contains(seen, d) {
			seen = append(seen, d)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return func() []string {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(seen)
		}, func() {
			sub.Unsubscribe()
		}
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestCancelAcrossDaemons: cancelling a job stops its runs on every daemon
// and the job ends cancelled.
func TestCancelAcrossDaemons(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	ns := startNATS(t)
	d1 := startDaemon(t, ns.ClientURL(), service.Config{Name: "d1", Slots: 1})
	d2 := startDaemon(t, ns.ClientURL(), service.Config{Name: "d2", Slots: 1})
	c := newClient(t, ns.ClientURL())
	ctx := ctxFor(t, 15*time.Minute)
	running, stop := daemonsRunning(t, connect(t, ns.ClientURL()), "cancel-me")
	defer stop()
	job := slowJob(t, "cancel-me", "600")
	// Without generated tests both base runs start at once (with them, the
	// first base run goes alone: it decides which tests the others apply).
	job.Task.GeneratedTests = nil
	if _, err := c.Submit(ctx, job); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "both daemons to start a run", func() bool { return len(running()) == 2 })
	st, err := c.Cancel(ctx, "cancel-me")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != wire.Cancelled {
		t.Errorf("cancel reply: %+v", st)
	}
	if _, err := c.Wait(ctx, "cancel-me", nil); !errors.Is(err, client.ErrCancelled) {
		t.Fatalf("wait: %v, want ErrCancelled", err)
	}
	// Both daemons are free again: the 600-second runs were stopped.
	for _, d := range []*service.Daemon{d1, d2} {
		waitFor(ctx, t, d.Name()+" to stop its run", func() bool { return d.Busy() == 0 })
	}
	if res := storedResults(t, ns.ClientURL(), "cancel-me"); len(res) != 0 {
		t.Errorf("a cancelled run stored a result: %v", res)
	}
	// Cancelling again changes nothing.
	if st, err := c.Cancel(ctx, "cancel-me"); err != nil || st.State != wire.Cancelled {
		t.Errorf("second cancel: %+v %v", st, err)
	}
}

// TestServerRestartMidJob: the NATS server stopping in the middle of a job
// and starting again on the same store loses nothing: the job completes
// with the in-process verdict and every run stored once.
func TestServerRestartMidJob(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	want := referenceReport(t)
	ns := startNATS(t)
	for _, name := range []string{"d1", "d2"} {
		startDaemon(t, ns.ClientURL(), service.Config{Name: name, Slots: 1, AckWait: 3 * time.Second})
	}
	c := newClient(t, ns.ClientURL())
	ctx := ctxFor(t, 15*time.Minute)
	finished := make(chan struct{}, 100)
	sub, err := connect(t, ns.ClientURL()).Subscribe(wire.EventsSubject("restart"), func(m *nats.Msg) {
		if strings.Contains(string(m.Data), `"run_finished"`) {
			finished <- struct{}{}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(ctx, slowJob(t, "restart", "1")); err != nil {
		t.Fatal(err)
	}
	// The client waits across the restart too.
	type result struct {
		rep selector.Report
		err error
	}
	waited := make(chan result, 1)
	go func() {
		rep, err := c.Wait(ctx, "restart", func(selector.Event) {})
		waited <- result{rep, err}
	}()
	<-finished
	sub.Unsubscribe()
	ns.restart(t)
	r := <-waited
	got, err := r.rep, r.err
	if err != nil {
		t.Fatal(err)
	}
	sameVerdict(t, got, want)
	if res := storedResults(t, ns.ClientURL(), "restart"); len(res) != len(got.Runs) {
		t.Errorf("%d results stored, the report used %d", len(res), len(got.Runs))
	}
}

// bigPatch adds a file of about size bytes to the example's repository.
func bigPatch(size int) string {
	line := "bestpatch carries big candidate sets through the object store\n"
	n := size / (len(line) + 1)
	var b strings.Builder
	fmt.Fprintf(&b, "diff --git a/blob.txt b/blob.txt\nnew file mode 100644\n--- /dev/null\n+++ b/blob.txt\n@@ -0,0 +1,%d @@\n", n)
	for range n {
		b.WriteString("+" + line)
	}
	return b.String()
}

// TestBigCandidateSet: a job of more than 2 MB, more than one NATS message
// holds, goes through the object store and comes back with a verdict.
func TestBigCandidateSet(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	ns := startNATS(t)
	cache, err := runcache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	startDaemon(t, ns.ClientURL(), service.Config{Name: "d1", Cache: cache})
	nc := connect(t, ns.ClientURL())
	c := newClient(t, ns.ClientURL())
	ctx := ctxFor(t, 15*time.Minute)
	job := exampleJob(t, "big")
	patch := bigPatch(550 << 10)
	for i := range 4 {
		job.Candidates = append(job.Candidates, scoring.Candidate{ID: fmt.Sprintf("big/%d", i), Patch: patch, Model: "big", Sample: 8 + i})
	}
	data, _ := json.Marshal(job)
	if len(data) < 2<<20 || len(data) <= int(nc.MaxPayload()) {
		t.Fatalf("job is %d bytes, want > 2 MiB and > the max payload %d", len(data), nc.MaxPayload())
	}
	rep, err := c.Run(ctx, job, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Job != "big" || len(rep.Verdict.Ranking) != len(job.Candidates) {
		t.Fatalf("report for %q ranks %d candidates, want %d", rep.Job, len(rep.Verdict.Ranking), len(job.Candidates))
	}
	// The upload was removed once the daemon stored the job.
	js, _ := jetstream.New(nc)
	objects, err := js.ObjectStore(ctx, wire.ObjectBucket)
	if err != nil {
		t.Fatal(err)
	}
	names, err := objects.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, o := range names {
		listed = append(listed, o.Name)
	}
	if !slices.Equal(listed, []string{"jobs/big"}) {
		t.Errorf("objects %v, want only the stored job jobs/big", listed)
	}
}
