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

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/internal/natsserver"
	"github.com/bestpatch/bestpatch/internal/runcache"
	"github.com/bestpatch/bestpatch/internal/testsubject"
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
// selector's own readers, every sample has a labelled candidate, the grades
// agree with the kinds that are right or wrong by construction, the hidden
// tests are gone from the visible repository, and the generated tests are
// of the kinds promised.
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
	if len(tasks) != cfg.Tasks || len(cat) != cfg.Tasks {
		t.Fatalf("%d tasks and %d catalog lines, want %d", len(tasks), len(cat), cfg.Tasks)
	}
	for i, task := range tasks {
		c := cat[i]
		if c.InstanceID != task.ID {
			t.Fatalf("catalog line %d is %s, task %s", i, c.InstanceID, task.ID)
		}
		t.Run(task.ID, func(t *testing.T) {
			if got := len(byInstance[task.ID]); got != cfg.Candidates {
				t.Errorf("%d candidates, want %d", got, cfg.Candidates)
			}
			for j, cand := range byInstance[task.ID] {
				l := labels[task.ID+"\x00"+cand.Model]
				e, _ := c.Entry(c.Samples[j])
				if l.Resolved != e.Resolved || l.Kind != e.Kind || cand.Patch != e.Patch {
					t.Errorf("sample %d: label %+v, catalog entry %s resolved=%v", j, l, e.Name, e.Resolved)
				}
			}
			kinds := map[string]Entry{}
			for _, e := range c.Entries {
				kinds[e.Kind] = e
				right := e.Kind == KindExact || e.Kind == KindTwinFormat || e.Kind == KindTwinComment
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
			repo := filepath.Join(dir, ReposDir, task.ID)
			if task.Env.Repo != repo || task.Env.Image != imageTag(task.ID) {
				t.Errorf("environment %+v, want repo %s and image %s", task.Env, repo, imageTag(task.ID))
			}
			if log, err := testsubject.Git(repo, "log", "--oneline"); err != nil || strings.Count(log, "\n") != 1 {
				t.Errorf("the visible repository should hold one commit: %q %v", log, err)
			}
			for _, h := range c.Hidden {
				_, name, _ := strings.Cut(h, "::")
				if declared(t, repo, name) {
					t.Errorf("hidden test %s is still declared in %s", name, repo)
				}
			}
			testKinds := map[string]int{}
			for _, ti := range c.Tests {
				testKinds[ti.Kind]++
			}
			if testKinds[TestReproducing] == 0 || testKinds[TestPassing] == 0 || testKinds[TestFailing] != 1 {
				t.Errorf("generated tests %v: want reproducing, passing and one always-failing", testKinds)
			}
			if len(task.GeneratedTests) != len(c.Tests) {
				t.Errorf("%d generated tests in the task, %d in the catalog", len(task.GeneratedTests), len(c.Tests))
			}
		})
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
	local := executor.NewLocal(executor.LocalConfig{Logger: slog.New(slog.DiscardHandler), TempDir: t.TempDir()})
	defer local.Close()
	res, err := Accuracy(context.Background(), AccuracyConfig{Dir: dir, Exec: local, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pools != cfg.Tasks || res.Candidates != cfg.Tasks*cfg.Candidates || res.Runs == 0 {
		t.Fatalf("%d tasks, %d candidates, %d runs", res.Pools, res.Candidates, res.Runs)
	}
	acc := map[string]float64{}
	for _, r := range res.Rows {
		acc[r.Method] = r.Accuracy
	}
	for _, m := range []string{"random pick", "majority vote", "policy auto", "policy kimi", "policy consensus", "signal regressions", "oracle"} {
		if _, ok := acc[m]; !ok {
			t.Errorf("no row %q", m)
		}
	}
	if acc["oracle"] > 0 && acc["policy auto"] <= acc["random pick"] {
		t.Errorf("auto %.2f does not beat a random pick %.2f", acc["policy auto"], acc["random pick"])
	}
	if acc["policy auto"] > acc["oracle"] {
		t.Errorf("auto %.2f beats the oracle %.2f", acc["policy auto"], acc["oracle"])
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
	local := executor.NewLocal(executor.LocalConfig{Logger: slog.New(slog.DiscardHandler), TempDir: t.TempDir()})
	defer local.Close()
	d, err := service.Start(ctx, service.Config{Conn: nc, Exec: local, Cache: cache, Slots: 2, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Shutdown(ctx)
	res, err := Daemon(ctx, DaemonConfig{Dir: dir, URL: srv.ClientURL(), PID: os.Getpid(), Candidates: 12, Jobs: 5, Burst: 6, InFlight: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Candidates != 12 || res.RunsPerJob < 3 || res.P50 <= 0 || res.P99 < res.P50 || res.JobsPerSecond <= 0 || res.PeakRSS <= 0 {
		t.Errorf("implausible result: %+v", res)
	}
	if _, err := Daemon(ctx, DaemonConfig{Dir: dir}); err == nil {
		t.Error("no binary and no URL: no error")
	}
}
