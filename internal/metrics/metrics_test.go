package metrics

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := New()
	d.Job("done")
	d.Run("completed")
	d.Run("cached")
	d.RunSeconds(1.5)
	d.JobSeconds("done", 42)
	d.QueueDepth(7)
	d.Busy(2)
	d.Busy(-1)
	d.Slots(4)
	d.Redelivered()
	addr, err := d.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`bestpatch_jobs_total{event="done"} 1`,
		`bestpatch_runs_total{outcome="cached"} 1`,
		`bestpatch_runs_total{outcome="completed"} 1`,
		`bestpatch_run_seconds_count 1`,
		`bestpatch_job_seconds_bucket{state="done",le="64"} 1`,
		`bestpatch_job_seconds_bucket{state="done",le="32"} 0`,
		`bestpatch_job_seconds_sum{state="done"} 42`,
		`bestpatch_queue_depth 7`,
		`bestpatch_busy_slots 1`,
		`bestpatch_slots 4`,
		`bestpatch_redeliveries_total 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestPresentFromTheStart: before any event, every labelled series is
// there at zero (a rate() over a series that appears at its first event
// misses that event), and the build is named.
func TestPresentFromTheStart(t *testing.T) {
	rec := httptest.NewRecorder()
	New().Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	var want []string
	for _, e := range JobEvents {
		want = append(want, `bestpatch_jobs_total{event="`+e+`"} 0`)
	}
	for _, s := range JobStates {
		want = append(want, `bestpatch_job_seconds_count{state="`+s+`"} 0`)
	}
	for _, o := range RunOutcomes {
		want = append(want, `bestpatch_runs_total{outcome="`+o+`"} 0`)
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("metrics lack %q", w)
		}
	}
	info := regexp.MustCompile(`(?m)^bestpatch_build_info\{(.*)\} 1$`).FindStringSubmatch(body)
	if info == nil || !strings.Contains(info[1], `go_version="`+runtime.Version()+`"`) || !strings.Contains(info[1], `revision="`) || !strings.Contains(info[1], `version="`) {
		t.Errorf("bestpatch_build_info: %q, want 1 with the go version, revision and version", info)
	}
}

// TestNil: a nil *Daemon records nothing and does not panic.
func TestNil(t *testing.T) {
	var d *Daemon
	d.Job("done")
	d.Run("completed")
	d.RunSeconds(1)
	d.JobSeconds("done", 1)
	d.QueueDepth(1)
	d.Busy(1)
	d.Slots(1)
	d.Redelivered()
}
