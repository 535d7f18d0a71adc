package metrics

import (
	"context"
	"io"
	"net/http"
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

// TestNil: a nil *Daemon records nothing and does not panic.
func TestNil(t *testing.T) {
	var d *Daemon
	d.Job("done")
	d.Run("completed")
	d.RunSeconds(1)
	d.QueueDepth(1)
	d.Busy(1)
	d.Slots(1)
	d.Redelivered()
}
