package docker

// Measurements of the Docker backend, reported in docs/DOCKER.md. Each
// benchmark runs a fixed workload once per iteration and reports medians;
// run them with a small fixed count, e.g.
//
//	go test -run '^$' -bench 'Docker' -benchtime 7x ./executor/

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/bestpatch/bestpatch/executor/executortest"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
)

// BenchmarkDockerOverhead: what a container adds to a run. The same test
// command, google/uuid's `go test -count=1 -json ./...` (no cached test
// results) with a warm build cache, runs bare on the host in a checkout of
// the same module and through Docker.Run (with whole CPUs, so that the CPU
// quota does not count); "noop" does nothing: the fixed cost of a run.
func BenchmarkDockerOverhead(b *testing.B) {
	d := newTestDocker(b, Config{Limits: executor.Limits{CPUs: float64(runtime.NumCPU())}})
	needImages(b, d, goImage)
	checkout := moduleCheckout(b, goModule+"@v1.6.0")
	for _, cmd := range []string{"go test -count=1 -json ./...", "true"} {
		name := map[string]string{"true": "noop"}[cmd]
		if name == "" {
			name = "go-test"
		}
		b.Run(name, func(b *testing.B) {
			bare := func() {
				c := exec.CommandContext(b.Context(), "bash", "-c", cmd)
				c.Dir = checkout
				c.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
				if out, err := c.CombinedOutput(); err != nil {
					b.Fatalf("bare %s: %v\n%s", cmd, err, out)
				}
			}
			docker := func() {
				if _, err := d.Run(b.Context(), executor.Run{Env: executor.Environment{Image: goImage}, Command: cmd, Format: executor.GoJSON}); err != nil {
					b.Fatal(err)
				}
			}
			bare() // warm both caches
			docker()
			var bareT, dockerT []time.Duration
			for b.Loop() {
				bareT = append(bareT, timed(bare))
				dockerT = append(dockerT, timed(docker))
			}
			mb, md := median(bareT), median(dockerT)
			b.ReportMetric(ms(mb), "bare-ms")
			b.ReportMetric(ms(md), "docker-ms")
			b.ReportMetric(ms(md-mb), "overhead-ms")
			b.ReportMetric(float64(md)/float64(mb), "ratio")
		})
	}
}

// BenchmarkDockerStrategy: a fresh container per run against one container
// reused across runs (reset by run.sh, stage replaced). Every run has a
// distinct candidate, as in a job (identical candidates share a run), so a
// Go run recompiles the patched package and its test, and sympy re-imports.
// Variants of fresh for Go: the GOCACHE warmed in the image (the default),
// a cold GOCACHE, and a GOCACHE in a named volume shared by all runs.
func BenchmarkDockerStrategy(b *testing.B) {
	d := newTestDocker(b, Config{})
	needImages(b, d, goImage, sympyImage)
	goRun := func(i int) executor.Run {
		body := fmt.Sprintf("package uuid\n\n// IsZero reports whether u is the Nil UUID (candidate %d).\nfunc IsZero(u UUID) bool { return u == Nil }", i)
		return executor.Run{Env: executor.Environment{Image: goImage}, Patch: executortest.NewFilePatch("zero.go", body), Tests: []executor.TestPatch{uuidHiddenTest}, Command: "go test -json ./...", Format: executor.GoJSON}
	}
	pyRun := func(i int) executor.Run {
		body := fmt.Sprintf("# candidate %d\ndef double(e):\n    return 2*e", i)
		return executor.Run{Env: executor.Environment{Image: sympyImage}, Patch: executortest.NewFilePatch("sympy/bp_double.py", body), Command: "python3 -m pytest -rA -p no:cacheprovider sympy/core/tests/test_basic.py sympy/core/tests/test_numbers.py", Format: executor.Pytest}
	}
	coldGo := func(i int) executor.Run {
		r := goRun(i)
		r.Env.Env = map[string]string{"GOCACHE": "/tmp/cold-gocache"}
		return r
	}
	volume := "bestpatch-bench-gocache-" + executor.NewRunID()[:8]
	b.Cleanup(func() {
		_, _ = d.cli.VolumeRemove(context.Background(), volume, client.VolumeRemoveOptions{Force: true})
	})
	shared := &Executor{cli: d.cli, cfg: d.cfg, owner: d.owner, slots: d.slots, log: d.log,
		mounts: []mount.Mount{{Type: mount.TypeVolume, Source: volume, Target: "/opt/go/cache"}}}

	for _, tc := range []struct {
		name string
		make func(int) executor.Run
		run  func(context.Context, executor.Run) (executor.Result, error)
	}{
		{"go/fresh", goRun, d.Run},
		{"go/fresh-cold-cache", coldGo, d.Run},
		{"go/fresh-shared-volume", goRun, shared.Run},
		{"go/reused", goRun, newReused(b, d, goImage).run},
		{"sympy/fresh", pyRun, d.Run},
		{"sympy/reused", pyRun, newReused(b, d, sympyImage).run},
	} {
		b.Run(tc.name, func(b *testing.B) {
			i := 0
			one := func() {
				i++
				res, err := tc.run(b.Context(), tc.make(i))
				if err != nil || res.Status != executor.Completed {
					b.Fatalf("run: %v %s %s", err, res.Status, res.Reason)
				}
			}
			one() // the first run fills what later runs may reuse
			var times []time.Duration
			for b.Loop() {
				times = append(times, timed(one))
			}
			b.ReportMetric(ms(median(times)), "median-ms")
		})
	}
}

// BenchmarkDockerCreate: does the engine create and start containers in
// parallel, or one at a time? Four trivial containers (create, start, wait,
// remove), one after another and all at once.
func BenchmarkDockerCreate(b *testing.B) {
	d := newTestDocker(b, Config{})
	needImages(b, d, goImage)
	const n = 4
	lifecycle := func() {
		ctx := b.Context()
		c, err := d.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
			Config:     &container.Config{Image: goImage, Cmd: []string{"true"}, Labels: labels(d.owner, executor.NewRunID())},
			HostConfig: &container.HostConfig{NetworkMode: "none"},
		})
		if err != nil {
			b.Fatal(err)
		}
		defer d.cli.ContainerRemove(context.Background(), c.ID, client.ContainerRemoveOptions{Force: true})
		w := d.cli.ContainerWait(ctx, c.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
		if _, err := d.cli.ContainerStart(ctx, c.ID, client.ContainerStartOptions{}); err != nil {
			b.Fatal(err)
		}
		select {
		case <-w.Result:
		case err := <-w.Error:
			b.Fatal(err)
		}
	}
	var serial, parallel []time.Duration
	for b.Loop() {
		serial = append(serial, timed(func() {
			for range n {
				lifecycle()
			}
		}))
		parallel = append(parallel, timed(func() {
			var wg sync.WaitGroup
			for range n {
				wg.Go(lifecycle)
			}
			wg.Wait()
		}))
	}
	b.ReportMetric(ms(median(serial))/n, "serial-ms/container")
	b.ReportMetric(ms(median(parallel))/n, "parallel-ms/container")
	b.ReportMetric(float64(median(serial))/float64(median(parallel)), "speedup")
}

// reused is one long-lived container that runs run after run: the stage is
// replaced and run.sh's reset (git reset --hard, git clean -fd) is the only
// reset between runs, as a reuse strategy would do.
type reused struct {
	d    *Executor
	id   string
	spec spec
}

func newReused(b *testing.B, d *Executor, image string) *reused {
	b.Helper()
	sp := d.containerSpec(executor.Run{Env: executor.Environment{Image: image}}, executor.Stage{})
	sp.config.Cmd = []string{"sleep", "infinity"}
	sp.config.OpenStdin, sp.config.AttachStdin = false, false
	sp.config.Labels = labels(d.owner, executor.NewRunID())
	c, err := d.cli.ContainerCreate(b.Context(), client.ContainerCreateOptions{Config: sp.config, HostConfig: sp.host})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_, _ = d.cli.ContainerRemove(context.Background(), c.ID, client.ContainerRemoveOptions{Force: true})
	})
	if _, err := d.cli.ContainerStart(b.Context(), c.ID, client.ContainerStartOptions{}); err != nil {
		b.Fatal(err)
	}
	return &reused{d: d, id: c.ID, spec: sp}
}

// exec runs cmd in the container with stdin as its input.
func (r *reused) exec(ctx context.Context, env []string, cmd []string, stdin []byte, stdout, stderr io.Writer) (int, error) {
	e, err := r.d.cli.ExecCreate(ctx, r.id, client.ExecCreateOptions{
		Cmd: cmd, Env: env, WorkingDir: r.spec.config.WorkingDir, AttachStdin: true, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		return 0, err
	}
	att, err := r.d.cli.ExecAttach(ctx, e.ID, client.ExecAttachOptions{})
	if err != nil {
		return 0, err
	}
	defer att.Close()
	go func() {
		_, _ = att.Conn.Write(stdin)
		_ = att.CloseWrite()
	}()
	if _, err := stdcopy.StdCopy(stdout, stderr, att.Reader); err != nil {
		return 0, err
	}
	ins, err := r.d.cli.ExecInspect(ctx, e.ID, client.ExecInspectOptions{})
	return ins.ExitCode, err
}

func (r *reused) run(ctx context.Context, run executor.Run) (executor.Result, error) {
	st, err := executor.NewStage(run)
	if err != nil {
		return executor.Result{}, err
	}
	coll, err := executor.NewCollector(run.Format, st)
	if err != nil {
		return executor.Result{}, err
	}
	env := append(r.spec.config.Env, st.Env(stageDir)...)
	for k, v := range run.Env.Env {
		env = append(env, k+"="+v)
	}
	// The last run's inputs go first: a base run must not find a candidate.
	if _, err := r.exec(ctx, nil, []string{"rm", "-rf", stageDir}, nil, io.Discard, io.Discard); err != nil {
		return executor.Result{}, err
	}
	if _, err := r.exec(ctx, env, []string{"/bin/sh", "-s"}, r.d.payload(st), coll.Stdout(), coll.Stderr()); err != nil {
		return executor.Result{}, err
	}
	return coll.Result(), nil
}

// moduleCheckout copies a module version from the module proxy into a
// temporary git checkout on the host.
func moduleCheckout(b *testing.B, modver string) string {
	b.Helper()
	out, err := exec.CommandContext(b.Context(), "go", "mod", "download", "-json", modver).Output()
	if err != nil {
		b.Fatalf("go mod download %s: %v", modver, err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		b.Fatalf("go mod download %s: no directory in %s", modver, out)
	}
	dir := b.TempDir()
	if err := os.CopyFS(dir, os.DirFS(mod.Dir)); err != nil {
		b.Fatal(err)
	}
	// The module cache is read-only; the checkout must not be.
	if err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			return os.Chmod(p, 0o755)
		}
		return os.Chmod(p, 0o644)
	}); err != nil {
		b.Fatal(err)
	}
	return dir
}

func timed(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkDockerPhases: where the time of a run goes, step by step
// (RunTiming), for a Go run (google/uuid with a distinct candidate and a
// generated test each time, as in a job) and a sympy run. Runs one at a
// time; medians of each step.
func BenchmarkDockerPhases(b *testing.B) {
	var mu sync.Mutex
	var got []RunTiming
	d := newTestDocker(b, Config{Observe: func(t RunTiming) {
		mu.Lock()
		got = append(got, t)
		mu.Unlock()
	}})
	needImages(b, d, goImage, sympyImage)
	goRun := func(i int) executor.Run {
		body := fmt.Sprintf("package uuid\n\n// IsZero reports whether u is the Nil UUID (candidate %d).\nfunc IsZero(u UUID) bool { return u == Nil }", i)
		return executor.Run{Env: executor.Environment{Image: goImage}, Patch: executortest.NewFilePatch("zero.go", body), Tests: []executor.TestPatch{uuidHiddenTest}, Command: "go test -count=1 -json ./...", Format: executor.GoJSON}
	}
	pyRun := func(i int) executor.Run {
		body := fmt.Sprintf("# candidate %d\ndef double(e):\n    return 2*e", i)
		return executor.Run{Env: executor.Environment{Image: sympyImage}, Patch: executortest.NewFilePatch("sympy/bp_double.py", body), Command: "python3 -m pytest -rA -p no:cacheprovider sympy/core/tests/test_basic.py", Format: executor.Pytest}
	}
	for _, tc := range []struct {
		name string
		make func(int) executor.Run
	}{{"go", goRun}, {"sympy", pyRun}} {
		b.Run(tc.name, func(b *testing.B) {
			i := 0
			one := func() {
				i++
				res, err := d.Run(b.Context(), tc.make(i))
				if err != nil || res.Status != executor.Completed {
					b.Fatalf("run: %v %s %s", err, res.Status, res.Reason)
				}
			}
			one() // the first run warms the engine
			mu.Lock()
			got = nil
			mu.Unlock()
			for b.Loop() {
				one()
			}
			mu.Lock()
			defer mu.Unlock()
			for _, f := range timingFields {
				var ds []time.Duration
				for _, t := range got {
					ds = append(ds, f.get(t))
				}
				b.ReportMetric(ms(median(ds)), f.name+"-ms")
			}
		})
	}
}

var timingFields = []struct {
	name string
	get  func(RunTiming) time.Duration
}{
	{"slot", func(t RunTiming) time.Duration { return t.Slot }},
	{"ready", func(t RunTiming) time.Duration { return t.Ready }},
	{"create", func(t RunTiming) time.Duration { return t.Create }},
	{"start", func(t RunTiming) time.Duration { return t.Start }},
	{"send", func(t RunTiming) time.Duration { return t.Send }},
	{"boot", func(t RunTiming) time.Duration { return t.Boot }},
	{"reset", func(t RunTiming) time.Duration { return t.Reset }},
	{"apply", func(t RunTiming) time.Duration { return t.Apply }},
	{"tests", func(t RunTiming) time.Duration { return t.Tests }},
	{"command", func(t RunTiming) time.Duration { return t.Command }},
	{"exit", func(t RunTiming) time.Duration { return t.Exit }},
	{"collect", func(t RunTiming) time.Duration { return t.Collect }},
	{"total", func(t RunTiming) time.Duration { return t.Total }},
}
