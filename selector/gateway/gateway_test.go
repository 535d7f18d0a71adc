package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/local"
	"github.com/bestpatch/bestpatch/internal/natsserver"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/client"
	"github.com/bestpatch/bestpatch/selector/gateway"
	"github.com/bestpatch/bestpatch/selector/service"
	"github.com/bestpatch/bestpatch/selector/wire"
)

const example = "../../testdata/example"

// setup starts a NATS server, a daemon on it unless noDaemon, and a
// gateway with auth, and returns the gateway's base URL.
func setup(t *testing.T, auth gateway.Auth, noDaemon bool) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ns, err := natsserver.Start(ctx, natsserver.Config{Listen: "127.0.0.1:0", StoreDir: filepath.Join(t.TempDir(), "nats")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	conn := func() *nats.Conn {
		nc, err := nats.Connect(ns.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	if !noDaemon {
		loc := local.New(local.Config{Logger: slog.New(slog.DiscardHandler), TempDir: t.TempDir()})
		t.Cleanup(func() { loc.Close() })
		d, err := service.Start(ctx, service.Config{Conn: conn(), Exec: loc, Slots: 2, Name: "d1"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Shutdown(context.Background()) })
	}
	cl, err := client.New(conn())
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(gateway.Config{Client: cl, Auth: auth, KeepAlive: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := gateway.Listen(ctx, "127.0.0.1:0", auth)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- gw.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// exampleJob is the bundled example as a job's JSON: two candidates, no
// generated tests (three runs).
func exampleJob(t *testing.T, id string) []byte {
	t.Helper()
	tasks, err := selector.LoadTasks(filepath.Join(example, "task.json"))
	if err != nil {
		t.Fatal(err)
	}
	preds, _ := filepath.Glob(filepath.Join(example, "preds", "*.jsonl"))
	cands, err := selector.LoadPredictions(preds)
	if err != nil {
		t.Fatal(err)
	}
	task := tasks[0]
	task.GeneratedTests = nil
	doc, err := json.Marshal(wire.FromJob(selector.Job{ID: id, Task: task, Candidates: cands[task.ID][:2]}))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, url, body string, mod ...func(*http.Request)) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mod {
		m(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

// errorReply decodes an error reply and checks that its code is the status.
func errorReply(t *testing.T, r response) wire.ErrorReply {
	t.Helper()
	var er wire.ErrorReply
	if err := json.Unmarshal(r.body, &er); err != nil || er.Code == "" || er.Error == "" {
		t.Fatalf("not an error reply: %d %s", r.status, r.body)
	}
	if er.Code != strconv.Itoa(r.status) {
		t.Errorf("status %d with code %s", r.status, er.Code)
	}
	return er
}

// sseEvent is one server-sent event.
type sseEvent struct{ id, kind, data string }

// readEvents reads a stream of server-sent events to its end.
func readEvents(t *testing.T, body io.Reader) []sseEvent {
	t.Helper()
	var out []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.kind != "" {
				out = append(out, cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "id: "):
			cur.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			cur.kind = line[7:]
		case strings.HasPrefix(line, "data: "):
			cur.data = line[6:]
		}
	}
	return out
}

// TestJobOverHTTP: a job submitted over HTTP runs to its verdict, which the
// status, the event stream and a waiting submit all give.
func TestJobOverHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	base := setup(t, gateway.Auth{}, false)
	doc := exampleJob(t, "http-1")
	r := do(t, "POST", base+"/v1/jobs", string(doc))
	if r.status != http.StatusAccepted || r.header.Get("Location") != "/v1/jobs/http-1" {
		t.Fatalf("submit: %d %v %s", r.status, r.header, r.body)
	}
	var reply wire.SubmitReply
	if err := json.Unmarshal(r.body, &reply); err != nil || reply.Job != "http-1" || reply.State != wire.Queued {
		t.Fatalf("submit reply %s: %v", r.body, err)
	}

	// The event stream runs from accepted to the outcome, in order, with
	// increasing ids.
	req, _ := http.NewRequestWithContext(t.Context(), "GET", base+"/v1/jobs/http-1/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %v", resp.StatusCode, resp.Header)
	}
	events := readEvents(t, resp.Body)
	resp.Body.Close()
	if len(events) < 5 || events[0].kind != "accepted" || events[len(events)-2].kind != "selected" || events[len(events)-1].kind != "outcome" {
		t.Fatalf("events: %+v", events)
	}
	var out wire.Outcome
	if err := json.Unmarshal([]byte(events[len(events)-1].data), &out); err != nil || out.State != wire.Done || out.Report == nil || out.Report.Verdict.Chosen == "" {
		t.Fatalf("outcome %s: %v", events[len(events)-1].data, err)
	}
	finished := 0
	for _, e := range events[:len(events)-1] {
		var ev wire.Event
		if err := json.Unmarshal([]byte(e.data), &ev); err != nil || string(ev.Kind) != e.kind || ev.Job != "http-1" || e.id == "" {
			t.Errorf("event %+v: %v", e, err)
		}
		if ev.Kind == wire.EventRunFinished {
			finished++
		}
	}
	if finished != len(out.Report.Runs) {
		t.Errorf("%d run_finished events for %d runs", finished, len(out.Report.Runs))
	}

	// Resuming after an event gives the ones after it.
	lastRun := events[len(events)-3]
	req, _ = http.NewRequestWithContext(t.Context(), "GET", base+"/v1/jobs/http-1/events", nil)
	req.Header.Set("Last-Event-ID", lastRun.id)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resumed := readEvents(t, resp.Body)
	resp.Body.Close()
	if len(resumed) != 2 || resumed[0].kind != "selected" || resumed[1].kind != "outcome" {
		t.Errorf("resumed after %s: %+v", lastRun.id, resumed)
	}

	// Status holds the outcome.
	r = do(t, "GET", base+"/v1/jobs/http-1", "")
	var st wire.Status
	if err := json.Unmarshal(r.body, &st); r.status != http.StatusOK || err != nil || st.State != wire.Done || st.Outcome == nil ||
		st.Outcome.Report.Verdict.Chosen != out.Report.Verdict.Chosen {
		t.Errorf("status: %d %s", r.status, r.body)
	}

	// A waiting submit of the same job replies its outcome; of another job
	// under the same ID, a 409.
	r = do(t, "POST", base+"/v1/jobs?wait=true", string(doc))
	var again wire.Outcome
	if err := json.Unmarshal(r.body, &again); r.status != http.StatusOK || err != nil || again.Report == nil || again.Report.Verdict.Chosen != out.Report.Verdict.Chosen {
		t.Errorf("waiting submit: %d %s", r.status, r.body)
	}
	other := strings.Replace(string(doc), `"sample":1`, `"sample":7`, 1)
	if other == string(doc) {
		t.Fatal("the job has no sample 1 to change")
	}
	if r = do(t, "POST", base+"/v1/jobs", other); r.status != http.StatusConflict {
		t.Errorf("conflicting submit: %d %s", r.status, r.body)
	}
	errorReply(t, r)
}

// TestErrors: the gateway answers with the daemon's codes and messages.
func TestErrors(t *testing.T) {
	base := setup(t, gateway.Auth{}, false)
	for _, c := range []struct {
		method, path, body string
		status             int
		says               string
	}{
		{"POST", "/v1/jobs", `{"tsk":{}}`, 400, `field "tsk": unknown field`},
		{"POST", "/v1/jobs", `{"candidates":[]`, 400, "ends too early"},
		{"POST", "/v1/jobs", ``, 400, "the request is empty"},
		{"POST", "/v1/jobs", `{"id":"a b","task":{"instance_id":"x","environment":{"image":"i"},"test_command":"t","test_format":"pytest"},"candidates":[]}`, 400, "job id"},
		{"GET", "/v1/jobs/never-submitted", ``, 404, "never submitted"},
		{"GET", "/v1/jobs/never-submitted/events", ``, 404, "never submitted"},
		{"POST", "/v1/jobs/never-submitted/cancel", ``, 404, "never submitted"},
		{"GET", "/v1/jobs/a%20b", ``, 400, "job id"},
		{"GET", "/v2/jobs", ``, 404, "no such endpoint"},
		{"GET", "/v1/jobs/x/events?after=soon", ``, 400, "Last-Event-ID"},
	} {
		r := do(t, c.method, base+c.path, c.body)
		if r.status != c.status {
			t.Errorf("%s %s %s: %d %s, want %d", c.method, c.path, c.body, r.status, r.body, c.status)
			continue
		}
		if er := errorReply(t, r); !strings.Contains(er.Error, c.says) {
			t.Errorf("%s %s: %q, want it to say %q", c.method, c.path, er.Error, c.says)
		}
	}
	r := do(t, "DELETE", base+"/v1/jobs/x", "")
	if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET" {
		t.Errorf("DELETE: %d %v", r.status, r.header)
	}
	errorReply(t, r)
}

// TestNoDaemon: without a daemon on the server, the gateway says so (503).
func TestNoDaemon(t *testing.T) {
	base := setup(t, gateway.Auth{}, true)
	r := do(t, "GET", base+"/v1/jobs/x", "")
	if r.status != http.StatusServiceUnavailable || !strings.Contains(errorReply(t, r).Error, "no bestpatch daemon answers") {
		t.Errorf("%d %s", r.status, r.body)
	}
}

// TestAuth: with credentials configured, a request without them is a 401.
func TestAuth(t *testing.T) {
	for _, c := range []struct {
		name string
		auth gateway.Auth
		good func(*http.Request)
		bad  []func(*http.Request)
	}{
		{"token", gateway.Auth{Token: "s3cret"},
			func(r *http.Request) { r.Header.Set("Authorization", "Bearer s3cret") },
			[]func(*http.Request){
				func(*http.Request) {},
				func(r *http.Request) { r.Header.Set("Authorization", "Bearer s3cre") },
				func(r *http.Request) { r.SetBasicAuth("x", "s3cret") },
			}},
		{"user", gateway.Auth{User: "ann", Password: "pw"},
			func(r *http.Request) { r.SetBasicAuth("ann", "pw") },
			[]func(*http.Request){
				func(*http.Request) {},
				func(r *http.Request) { r.SetBasicAuth("ann", "px") },
				func(r *http.Request) { r.Header.Set("Authorization", "Bearer pw") },
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := setup(t, c.auth, false)
			for i, bad := range c.bad {
				r := do(t, "GET", base+"/v1/jobs/x", "", bad)
				if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("bad credentials %d: %d %s", i, r.status, r.body)
				}
				errorReply(t, r)
			}
			if r := do(t, "GET", base+"/v1/jobs/x", "", c.good); r.status != http.StatusNotFound {
				t.Errorf("good credentials: %d %s", r.status, r.body)
			}
		})
	}
}

// TestListen: beyond loopback only with authentication; a taken port fails
// at once.
func TestListen(t *testing.T) {
	ctx := t.Context()
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		if _, err := gateway.Listen(ctx, addr, gateway.Auth{}); !errors.Is(err, gateway.ErrOpen) {
			t.Errorf("%s without auth: %v, want ErrOpen", addr, err)
		}
	}
	ln, err := gateway.Listen(ctx, "0.0.0.0:0", gateway.Auth{Token: "t"})
	if err != nil {
		t.Fatalf("with a token: %v", err)
	}
	ln.Close()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	start := time.Now()
	if _, err := gateway.Listen(ctx, busy.Addr().String(), gateway.Auth{}); err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("busy port: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("busy port took %s", d)
	}
}

// TestShutdownEndsStreams: a stream in progress ends when the gateway
// stops, at once.
func TestShutdownEndsStreams(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns, err := natsserver.Start(ctx, natsserver.Config{Listen: "127.0.0.1:0", StoreDir: filepath.Join(t.TempDir(), "nats")})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Shutdown()
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// A daemon that never runs anything: its executor blocks.
	d, err := service.Start(ctx, service.Config{Conn: nc, Exec: blocked{}, Slots: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Shutdown(context.Background())
	cl, _ := client.New(nc)
	gw, _ := gateway.New(gateway.Config{Client: cl})
	ln, err := gateway.Listen(ctx, "127.0.0.1:0", gateway.Auth{})
	if err != nil {
		t.Fatal(err)
	}
	gwCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- gw.Serve(gwCtx, ln) }()
	base := "http://" + ln.Addr().String()
	if r := do(t, "POST", base+"/v1/jobs", string(exampleJob(t, "stuck"))); r.status != http.StatusAccepted {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	resp, err := http.Get(base + "/v1/jobs/stuck/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(first, ": bestpatch") {
		t.Fatalf("stream start %q: %v", first, err)
	}
	start := time.Now()
	stop()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("stopping took %s with a stream open", d)
	}
}

// blocked is an executor whose runs wait for their context.
type blocked struct{}

func (blocked) Run(ctx context.Context, _ executor.Run) (executor.Result, error) {
	<-ctx.Done()
	return executor.Result{}, ctx.Err()
}

// TestOpenJobOverHTTP: an open job over HTTP: opened, fed one candidate at
// a time, its standing verdict read after each append, closed, and its
// outcome read as any job's.
func TestOpenJobOverHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	base := setup(t, gateway.Auth{}, false)
	var job wire.Job
	if err := json.Unmarshal(exampleJob(t, "http-open"), &job); err != nil {
		t.Fatal(err)
	}
	open, _ := json.Marshal(wire.OpenJob{ID: job.ID, Task: job.Task, Stream: &wire.StopRule{MaxSamples: 2}})
	r := do(t, "POST", base+"/v1/open", string(open))
	if r.status != http.StatusAccepted || r.header.Get("Location") != "/v1/jobs/http-open" {
		t.Fatalf("open: %d %v %s", r.status, r.header, r.body)
	}
	for i, c := range job.Candidates {
		body, _ := json.Marshal(wire.Append{Candidates: []wire.Candidate{c}})
		r = do(t, "POST", base+"/v1/jobs/http-open/candidates", string(body))
		var rep wire.AppendReply
		if err := json.Unmarshal(r.body, &rep); r.status != http.StatusOK || err != nil || rep.Samples != i+1 {
			t.Fatalf("append %d: %d %s", i+1, r.status, r.body)
		}
		r = do(t, "GET", base+"/v1/jobs/http-open/standing?samples="+strconv.Itoa(rep.Samples), "")
		var st wire.Standing
		if err := json.Unmarshal(r.body, &st); r.status != http.StatusOK || err != nil || st.Samples != i+1 || st.Recommendation == "" {
			t.Fatalf("standing after %d: %d %s", i+1, r.status, r.body)
		}
	}
	if r = do(t, "POST", base+"/v1/jobs/http-open/candidates", `{"close": true}`); r.status != http.StatusOK {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", base+"/v1/jobs/http-open/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	events := readEvents(t, resp.Body)
	resp.Body.Close()
	var out wire.Outcome
	if err := json.Unmarshal([]byte(events[len(events)-1].data), &out); err != nil || out.State != wire.Done || len(out.Report.Verdict.Ranking) != 2 {
		t.Fatalf("outcome %s: %v", events[len(events)-1].data, err)
	}
	badRule, _ := json.Marshal(wire.OpenJob{Task: job.Task, Stream: &wire.StopRule{TargetConfidence: 2}})
	for _, c := range []struct {
		method, path, body string
		status             int
		says               string
	}{
		{"POST", "/v1/jobs/http-open/candidates", `{"candidates":[{"id":"late","patch":""}]}`, 400, "takes no more candidates"},
		{"POST", "/v1/jobs/never-opened/candidates", `{"close":true}`, 404, "never submitted"},
		{"GET", "/v1/jobs/never-opened/standing", ``, 404, "never submitted"},
		{"GET", "/v1/jobs/http-open/standing?samples=none", ``, 400, "samples"},
		{"POST", "/v1/open", string(badRule), 400, "target_confidence 2"},
	} {
		r := do(t, c.method, base+c.path, c.body)
		if r.status != c.status {
			t.Errorf("%s %s %s: %d %s, want %d", c.method, c.path, c.body, r.status, r.body, c.status)
			continue
		}
		if er := errorReply(t, r); !strings.Contains(er.Error, c.says) {
			t.Errorf("%s %s: %q, want it to say %q", c.method, c.path, er.Error, c.says)
		}
	}
}
