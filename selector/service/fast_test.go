package service_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bestpatch/bestpatch/internal/runcache"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/service"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// TestFastPath: a job whose every run the daemon's result cache holds, and
// an execution-free job, are answered in the submit request: nothing is
// queued or stored as a result, the verdict is the one the queue gives,
// the report lists the cached runs, the events and the status say what a
// queued job's say, and a resubmission answers from the finished job.
func TestFastPath(t *testing.T) {
	job, _ := tinyJob(t, "fast-first", "fix", "wrong")
	job.Options.BaseRuns = 1 // a repeated base run always executes
	ns := startNATS(t)
	cache, err := runcache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	startDaemon(t, ns.ClientURL(), service.Config{Name: "d1", Cache: cache})
	c := newClient(t, ns.ClientURL())
	ctx := ctxFor(t, 5*time.Minute)
	js, err := jetstream.New(connect(t, ns.ClientURL()))
	if err != nil {
		t.Fatal(err)
	}

	first, err := c.SubmitAndWait(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	queued := workConsumer(ctx, t, js).Delivered.Stream
	if queued == 0 || len(storedResults(t, ns.ClientURL(), job.ID)) == 0 {
		t.Fatalf("the first job went through no queue (%d deliveries) or stored no result", queued)
	}

	free := job
	free.ID, free.Options.Execution = "fast-free", selector.ExecutionNone
	for _, tc := range []struct {
		job  selector.Job
		runs int
	}{{withID(job, "fast-cached"), len(first.Runs)}, {free, 0}} {
		var events []selector.Event
		sub, err := c.Submit(ctx, tc.job)
		if err != nil {
			t.Fatal(err)
		}
		if !sub.State.Final() {
			t.Errorf("%s: submit replied state %q: want the job answered in the request", tc.job.ID, sub.State)
		}
		rep, err := c.Wait(ctx, tc.job.ID, func(e selector.Event) { events = append(events, e) })
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Runs) != tc.runs {
			t.Errorf("%s: %d runs in the report, want %d", tc.job.ID, len(rep.Runs), tc.runs)
		}
		for _, r := range rep.Runs {
			if !r.Cached {
				t.Errorf("%s: run %s not cached", tc.job.ID, r.ID)
			}
		}
		if tc.runs > 0 {
			sameVerdict(t, rep, first)
		}
		if got := workConsumer(ctx, t, js).Delivered.Stream; got != queued {
			t.Errorf("%s: the work queue delivered %d items, want none", tc.job.ID, got-queued)
		}
		if n := len(storedResults(t, ns.ClientURL(), tc.job.ID)); n != 0 {
			t.Errorf("%s: %d results stored, want none", tc.job.ID, n)
		}
		kinds := map[selector.EventKind]int{}
		for _, e := range events {
			kinds[e.Kind]++
		}
		if kinds[selector.EventAccepted] != 1 || kinds[selector.EventRunFinished] != tc.runs || kinds[selector.EventSelected] != 1 || len(events) != tc.runs+2 {
			t.Errorf("%s: events %v: want accepted, %d run_finished, selected", tc.job.ID, kinds, tc.runs)
		}
		st, err := c.Status(ctx, tc.job.ID)
		if err != nil || st.State != wire.Done || st.RunsDone != tc.runs || st.Outcome == nil {
			t.Errorf("%s: status %+v, %v: want done with %d runs and the outcome", tc.job.ID, st, err, tc.runs)
		}
		again, err := c.Submit(ctx, tc.job)
		if err != nil || !again.Existing || again.State != wire.Done {
			t.Errorf("%s: resubmission: %+v, %v; want existing and done", tc.job.ID, again, err)
		}
		if _, err := c.SubmitAndWait(ctx, tc.job); err != nil {
			t.Errorf("%s: resubmission waiting for the outcome: %v", tc.job.ID, err)
		}
	}
}

func withID(job selector.Job, id string) selector.Job {
	job.ID = id
	return job
}
