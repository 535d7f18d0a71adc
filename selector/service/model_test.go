package service_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/generator"
	"github.com/bestpatch/bestpatch/generator/llmtest"
	"github.com/bestpatch/bestpatch/internal/runcache"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/client"
	"github.com/bestpatch/bestpatch/selector/service"
)

// fixLine is the line only the example's fix (and its twin) adds.
const fixLine = "a.Lo <= b.Hi"

// judgeByFix answers the judge YES (0.9) for a patch with the fix's line and
// NO (0.1) for any other.
func judgeByFix(_ int, req generator.ChatRequest) llmtest.Reply {
	for _, m := range req.Messages {
		if strings.Contains(m.Content, fixLine) {
			return llmtest.Yes(0.9)
		}
	}
	return llmtest.Yes(0.1)
}

// TestDaemonJudge: a daemon started with a model endpoint sends a job's
// judge requests to it (the fake endpoint records them) and gives the
// verdict the selector gives in process with the same endpoint.
func TestDaemonJudge(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	llm := llmtest.NewServer(t, judgeByFix)
	cache, err := runcache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t, 10*time.Minute)
	job := exampleJob(t, "judged")
	job.Options.Judge = true

	inProcess := &selector.Selector{Exec: newLocal(t), Cache: cache, Pool: selector.NewPool(2), Models: llm.Endpoint(t)}
	want, err := inProcess.Select(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	asked := len(llm.Requests())
	if asked == 0 || want.Generation == nil || len(want.Generation.Judged) == 0 {
		t.Fatalf("in process: %d judge requests, generation %+v", asked, want.Generation)
	}

	ns := startNATS(t)
	startDaemon(t, ns.ClientURL(), service.Config{Name: "d1", Cache: cache, Models: llm.Endpoint(t)})
	got, err := newClient(t, ns.ClientURL()).Run(ctx, job, nil)
	if err != nil {
		t.Fatal(err)
	}
	sent := llm.Requests()[asked:]
	if len(sent) != asked {
		t.Fatalf("the daemon sent %d judge requests, want %d (one per distinct candidate, as in process)", len(sent), asked)
	}
	for _, r := range sent {
		if r.Model != llmtest.Model || !r.Logprobs || r.MaxTokens != 1 {
			t.Errorf("request is not a judge request: model %q, logprobs %v, max_tokens %d", r.Model, r.Logprobs, r.MaxTokens)
		}
	}
	if got.Generation == nil || got.Generation.Spent.Requests != asked {
		t.Fatalf("report's generation = %+v, want %d requests spent", got.Generation, asked)
	}
	for id, p := range want.Generation.Judged {
		if got.Generation.Judged[id] != p {
			t.Errorf("candidate %s judged %v by the daemon, %v in process", id, got.Generation.Judged[id], p)
		}
	}
	sameVerdict(t, got, want)
	if c := got.Verdict.Chosen; c != "0/agent-a" && c != "1/agent-b" {
		t.Errorf("chose %q, want the fix (0/agent-a) or its twin (1/agent-b)", c)
	}
}

// TestDaemonModelJobWithoutEndpoint: a job with model work accepted by a
// daemon with an endpoint that stops during it goes back to the queue; a
// daemon without an endpoint does not run it without the judge: past
// MaxAttempts deliveries the job fails, saying why.
func TestDaemonModelJobWithoutEndpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	llm := llmtest.NewServer(t, func(int, generator.ChatRequest) llmtest.Reply { return llmtest.Reply{Hang: true} })
	ns := startNATS(t)
	ctx := ctxFor(t, 5*time.Minute)
	withModel := startDaemon(t, ns.ClientURL(), service.Config{Name: "with-model", Models: llm.Endpoint(t)})
	c := newClient(t, ns.ClientURL())
	job := exampleJob(t, "judge-me")
	job.Options.Judge = true
	if _, err := c.Submit(ctx, job); err != nil {
		t.Fatal(err)
	}
	// It takes the job and waits on the endpoint; then it stops.
	waitFor(ctx, t, "the judge request", func() bool { return len(llm.Requests()) > 0 })
	if err := withModel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	startDaemon(t, ns.ClientURL(), service.Config{Name: "without-model", MaxAttempts: 4})
	_, err := c.Wait(ctx, "judge-me", nil)
	var failed *client.FailedError
	if !errors.As(err, &failed) || !strings.Contains(failed.Message, "no model endpoint") || !strings.Contains(failed.Message, "--llm-url") {
		t.Fatalf("err = %v, want the job failed for want of a model endpoint", err)
	}
}

// TestServeLLMURL: `bestpatch serve --llm-url` passes its endpoint to the
// jobs it runs: a job asking for the judge sends the requests.
func TestServeLLMURL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process that runs go test")
	}
	llm := llmtest.NewServer(t, judgeByFix)
	listen := freeAddr(t)
	startServe(t, "judge", append([]string{"--listen", listen, "--store-dir", filepath.Join(t.TempDir(), "nats"),
		"--llm-url", llm.URL(), "--llm-model", llmtest.Model}, unsafeLocal...)...)
	job := exampleJob(t, "served-judge")
	job.Task.GeneratedTests = nil
	job.Candidates = job.Candidates[:2]
	job.Options.Judge = true
	rep, err := newClient(t, "nats://"+listen).Run(ctxFor(t, 10*time.Minute), job, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(llm.Requests()); n == 0 || rep.Generation == nil || rep.Generation.Spent.Requests != n || len(rep.Generation.Judged) != 2 {
		t.Fatalf("the endpoint got %d requests; the report's generation: %+v", n, rep.Generation)
	}
}
