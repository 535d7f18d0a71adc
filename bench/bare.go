package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bestpatch/bestpatch/bench/testsubject"
	"github.com/bestpatch/bestpatch/executor"
)

// bareFile is where the timing wrapper writes the test command's duration,
// in $BP_DIR.
const bareFile = "bare-ns"

// bareRunner times the test command of runs on the host, one at a time, in
// one persistent clone of the task's repository: the same run.sh prepares
// the work tree (vetted patch, test patches) and only the
// test command is timed. The sum of these times over the cores is the ideal
// a job's wall time is measured against.
type bareRunner struct {
	repo string // the persistent clone
	tmp  string
	env  map[string]string
	// cpu, when not negative, pins the runs to that one CPU (taskset): a
	// container runs with one CPU by default (docker.DefaultCPUs), and the
	// ideal divides the sum by the cores, so a bare run that spread over
	// every core (go test's parallel build and packages) would be counted
	// twice over.
	cpu int
}

func newBareRunner(tmp, source string, env map[string]string) (*bareRunner, error) {
	repo := filepath.Join(tmp, "repo")
	if _, err := testsubject.Git(tmp, "clone", "-q", source, repo); err != nil {
		return nil, err
	}
	return &bareRunner{repo: repo, tmp: tmp, env: env, cpu: -1}, nil
}

// time runs one run's work bare and returns how long its test command
// took; zero when the patch did not apply or was empty (no test ran).
func (b *bareRunner) time(ctx context.Context, run executor.Run) (time.Duration, error) {
	run.Command = fmt.Sprintf(`__s=$(date +%%s%%N); ( %s ); __e=$(date +%%s%%N); echo $((__e-__s)) >"$BP_DIR/%s"`, run.Command, bareFile)
	st, err := executor.NewStage(run)
	if err != nil {
		return 0, err
	}
	if _, settled := st.Settled(); settled {
		return 0, nil // refused, or only test files: no test runs
	}
	dir, err := os.MkdirTemp(b.tmp, "stage-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	if err := st.WriteDir(dir); err != nil {
		return 0, err
	}
	cmd := b.command(ctx, "sh", filepath.Join(dir, "run.sh"))
	cmd.Dir = b.repo
	cmd.Env = append(bareEnviron(os.Environ()), st.Env(dir)...)
	for k, v := range b.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("bare run in %s: %w\n%s", b.repo, err, tail(out))
	}
	ns, err := os.ReadFile(filepath.Join(dir, bareFile))
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(ns)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bare run: read its duration: %w", err)
	}
	return time.Duration(n), nil
}

// bareEnviron is the host's environment without what makes a language
// runtime do more or less work than it does in the task's image: a shell
// with PYTHONDONTWRITEBYTECODE set made every bare Python run compile
// sympy from source (2.2 s a run against 0.65 s with the bytecode the
// image has and a container run finds).
func bareEnviron(env []string) []string {
	var kept []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PYTHONDONTWRITEBYTECODE=") {
			kept = append(kept, kv)
		}
	}
	return kept
}

// command is name with args, on the runner's CPU when it has one.
func (b *bareRunner) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	if b.cpu < 0 {
		return exec.CommandContext(ctx, name, args...)
	}
	return exec.CommandContext(ctx, "taskset", append([]string{"-c", strconv.Itoa(b.cpu), name}, args...)...)
}

// bareTimes times runs bare, workers at a time, each worker in a clone of
// its own and pinned to a CPU of its own (one CPU a run, as a container has
// by default): it returns the sum of the test commands' times and the wall
// time.
func bareTimes(ctx context.Context, repo string, env map[string]string, runs []executor.Run, workers int) (sum, wall time.Duration, err error) {
	tmp, err := os.MkdirTemp("", "bestpatch-bare-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(tmp)
	free := make(chan *bareRunner, workers)
	for i := range workers {
		dir := filepath.Join(tmp, strconv.Itoa(i))
		if err := os.Mkdir(dir, 0o755); err != nil {
			return 0, 0, err
		}
		b, err := newBareRunner(dir, repo, env)
		if err != nil {
			return 0, 0, err
		}
		b.cpu = i % runtime.NumCPU()
		// One run off the clock: what a clone lacks and a first run makes
		// (Python's bytecode of ignored files), as the image has it.
		if len(runs) > 0 {
			if _, err := b.time(ctx, runs[0]); err != nil {
				return 0, 0, err
			}
		}
		free <- b
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	start := time.Now()
	for _, r := range runs {
		g.Go(func() error {
			b := <-free
			defer func() { free <- b }()
			d, err := b.time(gctx, r)
			mu.Lock()
			sum += d
			mu.Unlock()
			return err
		})
	}
	err = g.Wait()
	return sum, time.Since(start), err
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
