package bench

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/bestpatch/bestpatch/bench/accuracy"
	"github.com/bestpatch/bestpatch/bench/testsubject"
	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/local"
	"github.com/bestpatch/bestpatch/internal/natsserver"
	"github.com/bestpatch/bestpatch/internal/runcache"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/service"
)

// smallSet is the generator run every CI job does: one real module from the
// module proxy, two tasks of eight candidates, real go test throughout.
var smallSet = struct {
	once sync.Once
	dir  string
	cfg  GenConfig
	sum  GenSummary
	err  error
}{}

func generated(t *testing.T) (string, GenConfig, GenSummary) {
	t.Helper()
	if testing.Short() {
		t.Skip("generates tasks from a real module with real go test runs")
	}
	smallSet.once.Do(func() {
		dir, err := os.MkdirTemp("", "bestpatch-bench-test-")
		if err != nil {
			smallSet.err = err
			return
		}
		smallSet.dir = dir
		m, err := ModuleByPath("github.com/kr/text")
		if err != nil {
			smallSet.err = err
			return
		}
		smallSet.cfg = GenConfig{Out: filepath.Join(dir, "set"), Modules: []Module{m}, Tasks: 2, Candidates: 8, Seed: 1, Workers: 2}
		smallSet.sum, smallSet.err = Generate(context.Background(), smallSet.cfg)
	})
	if smallSet.err != nil {
		t.Fatal(smallSet.err)
	}
	return smallSet.cfg.Out, smallSet.cfg, smallSet.sum
}

func TestMain(m *testing.M) {
	code := m.Run()
	if smallSet.dir != "" {
		os.RemoveAll(smallSet.dir)
	}
	os.Exit(code)
}

// TestGenerate checks a generated set end to end: the files load with the
// selector's own readers, every pool has its labelled candidates, the
// grades agree with the kinds that are right or wrong by construction, the
// hidden tests are gone from the visible repository (those left visible are
// there), the generated tests are of the kinds promised and match the
// task's reproduction, every task has a split, and a no-correct pool holds
// no resolved candidate.
func TestGenerate(t *testing.T) {
	dir, cfg, sum := generated(t)
	if sum.Tasks != cfg.Tasks || sum.Reused {
		t.Fatalf("made %d tasks (reused %v), want %d new", sum.Tasks, sum.Reused, cfg.Tasks)
	}
	tasks, byInstance, labels, err := loadSet(dir)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := LoadCatalog(filepath.Join(dir, CatalogFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != cfg.Tasks*PoolsPerTask || len(cat) != cfg.Tasks {
		t.Fatalf("%d task lines and %d catalog lines, want %d and %d", len(tasks), len(cat), cfg.Tasks*PoolsPerTask, cfg.Tasks)
	}
	byID := map[string]selector.Task{}
	for _, task := range tasks {
		byID[task.ID] = task
	}
	splits := map[string]int{}
	for _, c := range cat {
		splits[c.Split]++
		t.Run(c.InstanceID, func(t *testing.T) {
			for _, p := range c.Pools {
				task, ok := byID[p.InstanceID]
				if !ok {
					t.Fatalf("pool %s has no task line", p.InstanceID)
				}
				if got := len(byInstance[p.InstanceID]); got != cfg.Candidates {
					t.Errorf("%s: %d candidates, want %d", p.InstanceID, got, cfg.Candidates)
				}
				for j, cand := range byInstance[p.InstanceID] {
					l := labels[p.InstanceID+"\x00"+cand.Model]
					e, _ := c.Entry(p.Samples[j])
					if l.Resolved != e.Resolved || l.Kind != e.Kind || cand.Patch != e.Patch {
						t.Errorf("%s sample %d: label %+v, catalog entry %s resolved=%v", p.InstanceID, j, l, e.Name, e.Resolved)
					}
					if p.Profile == ProfileNoCorrect && l.Resolved {
						t.Errorf("%s: a resolved candidate in a no-correct pool", p.InstanceID)
					}
				}
				repo := filepath.Join(dir, ReposDir, c.InstanceID)
				if task.Env.Repo != repo || task.Env.Image != imageTag(c.InstanceID) || len(task.GeneratedTests) != len(c.Tests) {
					t.Errorf("%s: environment %+v, %d generated tests; want repo %s, image %s, %d tests", p.InstanceID, task.Env, len(task.GeneratedTests), repo, imageTag(c.InstanceID), len(c.Tests))
				}
			}
			if c.Split != SplitDev && c.Split != SplitTest {
				t.Errorf("split %q", c.Split)
			}
			kinds := map[string]Entry{}
			for _, e := range c.Entries {
				kinds[e.Kind] = e
				right := e.Kind == KindExact || e.Kind == KindTwinFormat || e.Kind == KindTwinComment || e.Kind == KindTwinRenamed || e.Kind == KindTwinDrifted
				if e.Resolved != right {
					t.Errorf("%s: resolved=%v (status %s)", e.Name, e.Resolved, e.Status)
				}
			}
			for _, k := range []string{KindExact, KindTwinFormat, KindTwinComment, KindNoop, KindEmpty} {
				if _, ok := kinds[k]; !ok {
					t.Errorf("no %s candidate", k)
				}
			}
			if e, ok := kinds[KindNoApply]; ok && e.Status != string(executor.ApplyFailed) {
				t.Errorf("%s: status %s, want apply_failed", e.Name, e.Status)
			}
			if e, ok := kinds[KindTampering]; ok && !touchesTest(e.Patch) {
				t.Errorf("%s touches no test file:\n%s", e.Name, e.Patch)
			}
			repo := filepath.Join(dir, ReposDir, c.InstanceID)
			if log, err := testsubject.Git(repo, "log", "--oneline"); err != nil || strings.Count(log, "\n") != 1 {
				t.Errorf("the visible repository should hold one commit: %q %v", log, err)
			}
			for _, h := range c.Hidden {
				_, name, _ := strings.Cut(h, "::")
				if visible := slices.Contains(c.Visible, h); declared(t, repo, name) != visible {
					t.Errorf("hidden test %s: declared in %s %v, want %v", name, repo, !visible, visible)
				}
			}
			testKinds := map[string]int{}
			for _, ti := range c.Tests {
				testKinds[ti.Kind]++
			}
			if testKinds[TestPassing] == 0 || testKinds[TestFailing] != 1 {
				t.Errorf("generated tests %v: want passing and one always-failing", testKinds)
			}
			strong, weak := testKinds[TestReproducing], testKinds[TestWeak]+testKinds[TestPartial]
			switch {
			case c.Reproduction == ReproStrong && strong != 1,
				c.Reproduction == ReproWeak && (strong != 0 || weak == 0),
				c.Reproduction == ReproNone && strong+weak != 0:
				t.Errorf("reproduction %s with generated tests %v", c.Reproduction, testKinds)
			}
		})
	}
	if splits[SplitDev] == 0 || splits[SplitTest] == 0 {
		t.Errorf("splits %v: want both", splits)
	}
	// The same configuration is reused, not made again.
	again, err := Generate(context.Background(), cfg)
	if err != nil || !again.Reused || again.Tasks != sum.Tasks {
		t.Errorf("second run: %+v, %v; want the set reused", again, err)
	}
}

// TestJobsFromSet checks the jobs the speed and daemon benchmarks build
// from a generated set.
func TestJobsFromSet(t *testing.T) {
	dir, _, _ := generated(t)
	tasks, err := selector.LoadTasks(filepath.Join(dir, TasksFile))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := LoadCatalog(filepath.Join(dir, CatalogFile))
	if err != nil {
		t.Fatal(err)
	}
	job, err := SpeedJob(tasks[0], cat[0], 10, 3)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := selector.NewPlan(job)
	if err != nil {
		t.Fatal(err)
	}
	if len(job.Candidates) != 10 || plan.Distinct() != 3 {
		t.Errorf("speed job: %d candidates, %d distinct; want 10 and 3", len(job.Candidates), plan.Distinct())
	}
	if _, err := SpeedJob(tasks[0], cat[0], 16, 99); err == nil {
		t.Error("a speed job with more distinct changes than the task has was built")
	}
	dj := DaemonJob(tasks[0], cat[0], 40)
	if len(dj.Candidates) != 40 || dj.Options.Policy != "consensus" || len(dj.Task.GeneratedTests) != 0 || dj.Task.Env.Image != "" {
		t.Errorf("daemon job: %d candidates, policy %q, %d tests, image %q", len(dj.Candidates), dj.Options.Policy, len(dj.Task.GeneratedTests), dj.Task.Env.Image)
	}
	if err := dj.Validate(); err != nil {
		t.Error(err)
	}
}

func touchesTest(patch string) bool {
	for line := range strings.Lines(patch) {
		if strings.HasPrefix(line, "diff --git ") && strings.Contains(line, "_test.go") {
			return true
		}
	}
	return false
}

// declared reports whether any test file of repo declares a top-level
// test function of that name.
func declared(t *testing.T, repo, name string) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(repo, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, "_test.go") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		names, err := testFuncNames(b)
		if err != nil {
			return err
		}
		found = found || slices.Contains(names, name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestAccuracyOnSet runs the accuracy benchmark end to end on the small
// set: every task through the real selector, every label known, and the
// policy that uses the original suite and the generated tests beats a
// random pick.
func TestAccuracyOnSet(t *testing.T) {
	dir, cfg, _ := generated(t)
	local := local.New(local.Config{Logger: slog.New(slog.DiscardHandler), TempDir: t.TempDir()})
	defer local.Close()
	res, err := Accuracy(context.Background(), AccuracyConfig{Dir: dir, Exec: local, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	pools := cfg.Tasks * PoolsPerTask
	if res.Dev.Pools+res.Test.Pools != pools || res.Dev.Pools == 0 || res.Test.Pools == 0 || res.Dev.Candidates+res.Test.Candidates != pools*cfg.Candidates || res.Runs == 0 {
		t.Fatalf("dev %d and test %d pools, %d candidates, %d runs", res.Dev.Pools, res.Test.Pools, res.Dev.Candidates+res.Test.Candidates, res.Runs)
	}
	for _, tab := range []accuracy.Table{res.Dev, res.Test} {
		acc := map[string]float64{}
		for _, r := range tab.Rows {
			acc[r.Method] = r.Accuracy
		}
		for _, m := range []string{"random pick", "majority vote", "policy auto", "policy kimi", "policy consensus", "signal regressions", "signal behaviour",
			"auto without effect clusters", "auto without failing original tests", "oracle"} {
			if _, ok := acc[m]; !ok {
				t.Errorf("no row %q", m)
			}
		}
		if acc["policy auto"] > acc["oracle"]+1e-9 || acc["random pick"] > acc["oracle"]+1e-9 {
			t.Errorf("auto %.2f or random %.2f beats the oracle %.2f", acc["policy auto"], acc["random pick"], acc["oracle"])
		}
	}
	if len(res.Terms) != len(newKeys())*len(accuracy.TermWeights) {
		t.Errorf("%d dev term rows, want %d", len(res.Terms), len(newKeys())*len(accuracy.TermWeights))
	}
	// Adaptive execution, replayed on every task under every policy: no
	// choice changes.
	if len(res.Adaptive) != len(scoring.PolicyNames()) {
		t.Errorf("%d adaptive rows, want one per policy and parallelism", len(res.Adaptive))
	}
	for _, r := range res.Adaptive {
		if r.Tasks != pools || r.Unchanged != r.Tasks || r.Made > r.Runs {
			t.Errorf("adaptive %+v: want every one of %d tasks unchanged", r, pools)
		}
	}
	if err := AdaptiveErr(res.Adaptive); err != nil {
		t.Error(err)
	}
	var b strings.Builder
	if err := WriteAccuracy(&b, res); err != nil || !strings.Contains(b.String(), "test split") || !strings.Contains(b.String(), "dev split") || !strings.Contains(b.String(), "Adaptive execution") {
		t.Errorf("report (%v):\n%s", err, b.String())
	}
}

// TestBareRunner checks the ideal's timer on a real task: the base's test
// command takes time, a patch that does not apply runs no test.
func TestBareRunner(t *testing.T) {
	dir, _, _ := generated(t)
	tasks, err := selector.LoadTasks(filepath.Join(dir, TasksFile))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := LoadCatalog(filepath.Join(dir, CatalogFile))
	if err != nil {
		t.Fatal(err)
	}
	task := tasks[0]
	b, err := newBareRunner(t.TempDir(), task.Env.Repo, task.Env.Env)
	if err != nil {
		t.Fatal(err)
	}
	run := executor.Run{Env: task.Env, Command: task.TestCommand, Format: task.Format, Timeout: time.Minute}
	d, err := b.time(context.Background(), run)
	if err != nil || d <= 0 {
		t.Fatalf("base: %v, %v; want a duration", d, err)
	}
	if e, ok := cat[0].Entry(KindNoApply); ok {
		run.Patch = e.Patch
		if d, err := b.time(context.Background(), run); err != nil || d != 0 {
			t.Errorf("a patch that does not apply: %v, %v; want no test run", d, err)
		}
	}
}

// TestDaemonOnSet runs the daemon benchmark's measurement end to end,
// small, against a daemon in this process (an embedded NATS server and
// service.Start: building the binary for its serve would cost minutes of
// CPU in CI).
func TestDaemonOnSet(t *testing.T) {
	dir, _, _ := generated(t)
	ctx := context.Background()
	srv, err := natsserver.Start(ctx, natsserver.Config{Listen: "127.0.0.1:0", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	cache, err := runcache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	local := local.New(local.Config{Logger: slog.New(slog.DiscardHandler), TempDir: t.TempDir()})
	defer local.Close()
	d, err := service.Start(ctx, service.Config{Conn: nc, Exec: local, Cache: cache, Slots: 2, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Shutdown(ctx)
	res, err := Daemon(ctx, DaemonConfig{Dir: dir, URL: srv.ClientURL(), PID: os.Getpid(), Candidates: 12, Jobs: 12, Latency: 2, InFlight: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Candidates != 12 || res.RunsPerJob < 3 || res.JobsPerSecond <= 0 || res.PeakRSS <= 0 || len(res.RSS) != 10 || res.Burst.Jobs != 6 {
		t.Errorf("implausible result: %+v", res)
	}
	for _, l := range []Latency{res.Free, res.Cached, res.CachedRun, res.Burst} {
		if l.P50 <= 0 || l.P99 < l.P50 {
			t.Errorf("implausible latency %+v in %+v", l, res)
		}
	}
	var b strings.Builder
	if err := WriteDaemon(&b, res); err != nil || !strings.Contains(b.String(), "execution-free") {
		t.Errorf("report (%v):\n%s", err, b.String())
	}
	if _, err := Daemon(ctx, DaemonConfig{Dir: dir}); err == nil {
		t.Error("no binary and no URL: no error")
	}
}
