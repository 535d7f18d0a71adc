package service_test

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector/internal/wireschema"
	"github.com/bestpatch/bestpatch/selector/service"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// TestMessagesFollowTheSchema: every message a real daemon sends for a
// job, from the submit reply to the outcome, validates against the
// committed schema (docs/wire), as does the job the Go client sends.
func TestMessagesFollowTheSchema(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	v, err := wireschema.NewValidator("../../docs/wire/" + wire.Version + ".schema.json")
	if err != nil {
		t.Fatal(err)
	}
	check := func(def string, data []byte) {
		t.Helper()
		if err := v.Validate(def, data); err != nil {
			t.Errorf("%s does not follow the schema: %v\n%s", def, err, data)
		}
	}
	ns := startNATS(t)
	startDaemon(t, ns.ClientURL(), service.Config{Name: "d1"})
	nc := connect(t, ns.ClientURL())
	ctx := ctxFor(t, 15*time.Minute)

	job := exampleJob(t, "schema")
	job.Options.Execution = "" // v1's schema lists "" and "none" only (DAEMON.md)
	job.Task.GeneratedTests = job.Task.GeneratedTests[:1]
	job.Candidates = job.Candidates[:3]
	doc, err := json.Marshal(wire.FromJob(job))
	if err != nil {
		t.Fatal(err)
	}
	check("Job", doc)

	var mu sync.Mutex
	var events [][]byte
	evSub, err := nc.Subscribe(wire.EventsSubject("schema"), func(m *nats.Msg) {
		mu.Lock()
		events = append(events, m.Data)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer evSub.Unsubscribe()
	verdicts, err := nc.SubscribeSync(wire.VerdictSubject("schema"))
	if err != nil {
		t.Fatal(err)
	}
	reply, err := nc.RequestWithContext(ctx, wire.SubmitSubject, doc)
	if err != nil {
		t.Fatal(err)
	}
	check("SubmitReply", reply.Data)
	verdict, err := verdicts.NextMsgWithContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check("Outcome", verdict.Data)
	var out wire.Outcome
	if err := json.Unmarshal(verdict.Data, &out); err != nil || out.State != wire.Done || out.Report == nil || out.Report.Verdict.Chosen == "" {
		t.Fatalf("outcome %s: %v", verdict.Data, err)
	}
	status, err := nc.RequestWithContext(ctx, wire.StatusSubject, []byte(`{"job":"schema"}`))
	if err != nil {
		t.Fatal(err)
	}
	check("Status", status.Data)

	mu.Lock()
	if len(events) < 4 {
		t.Errorf("%d events", len(events))
	}
	for _, e := range events {
		check("Event", e)
	}
	mu.Unlock()

	for subject, body := range map[string]string{
		wire.SubmitSubject: `{"tsk":{}}`,
		wire.StatusSubject: `{"job":"never-submitted"}`,
	} {
		resp, err := nc.RequestWithContext(ctx, subject, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Header.Get("Nats-Service-Error-Code") == "" {
			t.Errorf("%s %s: no error reply: %s", subject, body, resp.Data)
		}
		check("ErrorReply", resp.Data)
	}

	// An open job: the open, an append and its reply, the standing
	// verdicts, an append refused.
	open := job
	open.ID, open.Candidates = "schema-open", nil
	open.Options.Stream = &scoring.StopRule{Target: 0.8, MaxSamples: 3}
	if doc, err = json.Marshal(wire.FromOpenJob(open)); err != nil {
		t.Fatal(err)
	}
	check("OpenJob", doc)
	standings, err := nc.SubscribeSync(wire.StandingSubject("schema-open"))
	if err != nil {
		t.Fatal(err)
	}
	if reply, err = nc.RequestWithContext(ctx, wire.OpenSubject, doc); err != nil {
		t.Fatal(err)
	}
	check("SubmitReply", reply.Data)
	for _, body := range []any{wire.Append{Candidates: wire.FromCandidates(job.Candidates)}, wire.Append{Close: true}} {
		b, _ := json.Marshal(body)
		check("Append", b)
		if reply, err = nc.RequestWithContext(ctx, wire.AppendSubject("schema-open"), b); err != nil {
			t.Fatal(err)
		}
		check("AppendReply", reply.Data)
	}
	for final := false; !final; {
		m, err := standings.NextMsgWithContext(ctx)
		if err != nil {
			t.Fatal(err)
		}
		check("Standing", m.Data)
		var st wire.Standing
		if err := json.Unmarshal(m.Data, &st); err != nil {
			t.Fatal(err)
		}
		final = st.Final
	}
	resp, err := nc.RequestWithContext(ctx, wire.AppendSubject("schema-open"), []byte(`{"candidates":[{"id":"late","patch":""}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Nats-Service-Error-Code") != wire.CodeInvalid {
		t.Errorf("an append after close: %s", resp.Data)
	}
	check("ErrorReply", resp.Data)
}
