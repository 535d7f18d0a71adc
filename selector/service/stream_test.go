package service_test

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/client"
	"github.com/bestpatch/bestpatch/selector/service"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// openExample is the bundled example as an open job with no candidate, and
// its candidates in sample order.
func openExample(t testing.TB, id string) (selector.Job, []scoring.Candidate) {
	job := exampleJob(t, id)
	cands := job.Candidates
	job.Candidates = nil
	job.Options.Stream = &scoring.StopRule{Target: 0.9, MaxSamples: len(cands)}
	return job, cands
}

// TestOpenJob streams the example's candidates into an open job shared by
// two daemons: each append is stored before it is acknowledged, a retried
// append stores nothing, after each append a standing verdict is published
// on the job's standing subject, and once closed the job's outcome is the
// verdict of the whole job submitted at once.
func TestOpenJob(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	want := referenceReport(t)
	ns := startNATS(t)
	startDaemon(t, ns.ClientURL(), service.Config{})
	startDaemon(t, ns.ClientURL(), service.Config{})
	c := newClient(t, ns.ClientURL())
	ctx := ctxFor(t, 10*time.Minute)
	job, cands := openExample(t, "open-1")
	sub, err := c.Open(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	if sub.Job != "open-1" || sub.State != wire.Queued {
		t.Fatalf("open replied %+v", sub)
	}
	// One at a time, then the rest in one batch.
	batches := [][]scoring.Candidate{cands[:1], cands[1:2], cands[2:3], cands[3:]}
	for i, b := range batches {
		rep, err := c.Append(ctx, "open-1", b...)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Batch != i+1 || rep.Existing || rep.Closed {
			t.Errorf("append %d replied %+v", i+1, rep)
		}
		st, err := c.StandingAfter(ctx, "open-1", rep.Samples)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s", st)
		if st.Batch != rep.Batch || st.Samples != rep.Samples || st.Final || st.Recommendation == "" || len(st.Verdict.Ranking) != rep.Samples {
			t.Errorf("standing verdict after append %d: %+v", i+1, st)
		}
		if i == 0 {
			// A client that lost the reply appends again: nothing new.
			again, err := c.Append(ctx, "open-1", b...)
			if err != nil || !again.Existing || again.Batch != 1 || again.Samples != 1 {
				t.Errorf("append retried: %+v, %v", again, err)
			}
		}
	}
	// A candidate ID the job has, with another patch: refused.
	dup := cands[0]
	dup.Patch = cands[1].Patch
	if _, err := c.Append(ctx, "open-1", dup); !errors.Is(err, selector.ErrInvalidJob) || !strings.Contains(err.Error(), "used twice") {
		t.Errorf("a candidate ID appended twice with another patch: %v", err)
	}
	closed, err := c.CloseJob(ctx, "open-1")
	if err != nil || !closed.Closed || closed.Samples != len(cands) {
		t.Fatalf("close replied %+v, %v", closed, err)
	}
	got, err := c.Wait(ctx, "open-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	sameVerdict(t, got, want)
	var all []wire.Standing
	if err := c.Standings(ctx, "open-1", func(s wire.Standing) bool { all = append(all, s); return true }); err != nil {
		t.Fatal(err)
	}
	if n := len(all); n != len(batches)+1 || !all[n-1].Final || all[n-1].Batch != len(batches)+1 {
		t.Errorf("standing verdicts %+v: want one per append, the last final", all)
	}
	// The budget is spent: stop or abstain, never continue.
	if last := all[len(all)-1]; last.Recommendation == wire.Continue {
		t.Errorf("final standing verdict %+v", last)
	}
	if _, err := c.Append(ctx, "open-1", scoring.Candidate{ID: "late", Patch: cands[0].Patch}); !errors.Is(err, selector.ErrInvalidJob) {
		t.Errorf("an append after the job ended: %v", err)
	}
	st, err := c.Status(ctx, "open-1")
	if err != nil || st.RunsDone != len(got.Runs) {
		t.Errorf("status %+v (%v): runs done should be the report's %d runs", st, err, len(got.Runs))
	}
	// A job submitted whole takes no appends; a job that does not exist
	// is not found.
	if _, err := c.Submit(ctx, exampleJob(t, "whole")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Append(ctx, "whole", scoring.Candidate{ID: "x", Patch: cands[0].Patch}); !errors.Is(err, selector.ErrInvalidJob) {
		t.Errorf("an append to a job submitted whole: %v", err)
	}
	if _, err := c.Append(ctx, "nope", scoring.Candidate{ID: "x", Patch: cands[0].Patch}); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("an append to no job: %v", err)
	}
}

// TestOpenJobKilledDaemon: kill -9 of the only daemon while an open job's
// runs are in its hands loses no candidate and no verdict: a daemon started
// later (another process, which never saw the job) takes the job where it
// was, publishes the standing verdict of the append the killed one had
// taken, takes more appends, and ends with the verdict of the whole job.
func TestOpenJobKilledDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes that run go test")
	}
	want := referenceReport(t)
	ns := startNATS(t)
	p1 := startProc(t, ns.ClientURL(), "p1")
	starts := runStarts(t, connect(t, ns.ClientURL()), "open-killed")
	c := newClient(t, ns.ClientURL())
	ctx := ctxFor(t, 10*time.Minute)
	job, cands := openExample(t, "open-killed")
	if _, err := c.Open(ctx, job); err != nil {
		t.Fatal(err)
	}
	first, err := c.Append(ctx, "open-killed", cands[:2]...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.StandingAfter(ctx, "open-killed", first.Samples); err != nil {
		t.Fatal(err)
	}
	// The wrong fix needs a run of its own: kill p1 once it has started it.
	second, err := c.Append(ctx, "open-killed", cands[2:4]...)
	if err != nil {
		t.Fatal(err)
	}
	for started := false; !started; {
		select {
		case s := <-starts:
			started = strings.HasPrefix(s[1], "cand/")
		case <-ctx.Done():
			t.Fatal("p1 never started a candidate's run")
		}
	}
	if err := p1.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p1.done
	startProc(t, ns.ClientURL(), "p2")
	st, err := c.StandingAfter(ctx, "open-killed", second.Samples)
	if err != nil {
		t.Fatal(err)
	}
	if st.Batch != second.Batch {
		t.Errorf("standing verdict %+v, want the one of batch %d", st, second.Batch)
	}
	if _, err := c.Append(ctx, "open-killed", cands[4:]...); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CloseJob(ctx, "open-killed"); err != nil {
		t.Fatal(err)
	}
	got, err := c.Wait(ctx, "open-killed", nil)
	if err != nil {
		t.Fatal(err)
	}
	sameVerdict(t, got, want)
	batches := map[int]int{}
	if err := c.Standings(ctx, "open-killed", func(s wire.Standing) bool { batches[s.Batch]++; return true }); err != nil {
		t.Fatal(err)
	}
	for b := 1; b <= 2; b++ {
		if batches[b] != 1 {
			t.Errorf("batch %d has %d standing verdicts, want 1 (all: %v)", b, batches[b], batches)
		}
	}
}
