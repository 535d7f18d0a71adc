package service_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sourcegraph/conc/pool"

	"github.com/bestpatch/bestpatch/internal/runcache"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/client"
	"github.com/bestpatch/bestpatch/selector/service"
)

// cachedSetup starts a server and one daemon whose result cache already
// holds every run of trivialJob: what is measured is the service (submit,
// queue, store, replay, score, publish, wait), not the tests.
func cachedSetup(b *testing.B) (*client.Client, func(id string) selector.Job) {
	b.Helper()
	ns := startNATS(b)
	cache, err := runcache.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	startDaemon(b, ns.ClientURL(), service.Config{Name: "bench", Cache: cache})
	c := newClient(b, ns.ClientURL())
	base := exampleJob(b, "")
	base.Task.GeneratedTests = nil
	base.Candidates = base.Candidates[:1]
	job := func(id string) selector.Job { j := base; j.ID = id; return j }
	if _, err := c.Run(context.Background(), job("warm"), nil); err != nil {
		b.Fatal(err)
	}
	return c, job
}

// BenchmarkSubmitToVerdict measures the latency from submit to verdict of
// jobs whose runs are all cached (3 runs: the base twice, one candidate),
// one job at a time, through client.Run. Run with -benchtime 300x.
func BenchmarkSubmitToVerdict(b *testing.B) {
	c, job := cachedSetup(b)
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		rep, err := c.Run(ctx, job(fmt.Sprintf("lat-%d", i)), nil)
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		if len(rep.Runs) != 3 {
			b.Fatalf("job ran %d runs, want 3", len(rep.Runs))
		}
	}
	b.StopTimer()
	reportLatency(b, lat)
}

// BenchmarkSubmitAndWait is the same with one request that waits for the
// outcome (header Bestpatch-Wait).
func BenchmarkSubmitAndWait(b *testing.B) {
	c, job := cachedSetup(b)
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if _, err := c.SubmitAndWait(ctx, job(fmt.Sprintf("wait-%d", i))); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportLatency(b, lat)
}

// BenchmarkThroughput measures the jobs per second of one daemon with
// cached runs, 32 jobs in flight.
func BenchmarkThroughput(b *testing.B) {
	c, job := cachedSetup(b)
	ctx := context.Background()
	p := pool.New().WithErrors().WithMaxGoroutines(32)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		p.Go(func() error {
			_, err := c.Run(ctx, job(fmt.Sprintf("tput-%d", i)), nil)
			return err
		})
	}
	if err := p.Wait(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}
