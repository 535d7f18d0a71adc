package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bestpatch/bestpatch/executor"
)

// Timings of the Local backend. They bound how long cleanup may wait, never
// how long tests may run.
const (
	// localBackstop is added to a run's timeout for the Go-side deadline that
	// stops the script should its own timeout(1) fail (checkout and apply
	// also take time before the clock of timeout(1) starts).
	localBackstop = time.Minute
	// localDrain is how long output may still flow after the script and its
	// session are gone: only a process that left the session (setsid, a
	// daemon) can hold the pipes open longer, and it is cut off.
	localDrain = 5 * time.Second
)

// Config configures a Local backend.
type Config struct {
	// Logger receives the backend's warnings; nil means slog.Default().
	Logger *slog.Logger
	// TempDir holds the Local's scratch directory (each run's clone and
	// inputs, and snapshots of directories that are not git checkouts);
	// "" means os.TempDir(). Scratch directories that dead processes left
	// there are swept when a Local first needs its own.
	TempDir string
}

// Executor is the Local backend: it runs each Run in a fresh clone of a
// checkout on this host.
//
// A run gets its own shallow-cost clone (`git clone --shared`: no objects
// are copied) of Environment.Repo at Environment.Commit, and its inputs in a
// separate temporary directory; both are removed afterwards. The test
// command runs in a new session, and everything left in that session when
// the script ends, times out or is cancelled is killed.
//
// OOM kills: where this process can make memory cgroups (cgroup v1 as root,
// or a delegated cgroup v2, see runCgroups), each run's script is moved into
// a cgroup of its own before it starts, and a run with a process the
// kernel's OOM killer killed is infra, as on Docker. Where it cannot, runs
// have no cgroup and an OOM kill cannot be told from a crash: the run is
// judged by its output, never called out of memory on a counter other
// processes share (New warns). There is no memory limit either way.
//
// An Executor is safe for concurrent use. Call Close to remove the
// snapshots it made.
type Executor struct {
	log     *slog.Logger
	tempDir string

	mu        sync.Mutex
	scratch   string               // made on first use, see scratchDir
	snapshots map[string]*snapshot // by the directory's absolute path

	cgroups runCgroups // the zero value when runs cannot have cgroups
}

// snapshot is a scratch git repository holding a copy of a directory that
// is not a git checkout. It is made once, on first use, and reused.
type snapshot struct {
	mu   sync.Mutex
	repo string // empty until made
}

// Handles says whether env is the Local backend's to run: it names no
// image, so it is a checkout on this host (env.Repo).
func Handles(env executor.Environment) bool { return env.Image == "" }

// New returns a Local backend.
//
// SECURITY: Local runs candidate patches and their tests directly on this
// host, as the daemon's user, with the daemon's network and files: a
// candidate patch is code from a model and can do anything that user can.
// Use it only with patches you trust; use the Docker backend otherwise.
// New logs a warning saying so.
func New(cfg Config) *Executor {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log.Warn("the local executor runs candidate patches and their tests on this host without isolation: use it only with trusted patches, or use the Docker executor",
		"temp_dir", cfg.TempDir)
	cgroups, err := newRunCgroups()
	if err != nil {
		log.Warn("the local executor cannot make a memory cgroup per run, so it cannot tell an OOM kill of a run's tests from a crash: such a run is judged by its output (run bestpatch as root on cgroup v1, or in a delegated cgroup v2, or use the Docker executor)", "err", err)
	}
	return &Executor{log: log, tempDir: cfg.TempDir, snapshots: map[string]*snapshot{}, cgroups: cgroups}
}

// Close removes l's scratch directory, snapshots included. Runs must have
// ended.
func (l *Executor) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.snapshots)
	if l.scratch == "" {
		return nil
	}
	err := removeTree(l.scratch)
	l.scratch = ""
	return err
}

// infraError is an environment failure that the caller may retry; Run turns
// it into a Result with Status Infra.
type infraError struct{ reason string }

func (e *infraError) Error() string { return e.reason }

func infraf(format string, args ...any) error {
	return &infraError{reason: fmt.Sprintf(format, args...)}
}

// Run executes one run. It returns an error for a run that cannot be
// executed as given (invalid run, missing repository, unknown commit) or
// when ctx ends first; anything else, environment failures included, is a
// Result.
func (l *Executor) Run(ctx context.Context, run executor.Run) (executor.Result, error) {
	start := time.Now()
	res, err := l.run(ctx, run)
	if ie, ok := errors.AsType[*infraError](err); ok {
		res, err = executor.Result{Status: executor.Infra, Reason: ie.reason}, nil
	}
	res.Duration = time.Since(start)
	return res, err
}

func (l *Executor) run(ctx context.Context, run executor.Run) (executor.Result, error) {
	st, err := executor.NewStage(run)
	if err != nil {
		return executor.Result{}, err
	}
	if res, ok := st.Settled(); ok {
		return res, nil
	}
	col, err := executor.NewCollector(run.Format, st)
	if err != nil {
		return executor.Result{}, err
	}
	src, commit, err := l.source(ctx, run.Env)
	if err != nil {
		return executor.Result{}, err
	}

	scratch, err := l.scratchDir()
	if err != nil {
		return executor.Result{}, err
	}
	cloneDir, err := os.MkdirTemp(scratch, "clone-")
	if err != nil {
		return executor.Result{}, infraf("create a directory for the run's clone: %v", err)
	}
	defer l.remove(cloneDir)
	repo := filepath.Join(cloneDir, "repo")
	if _, err := git(ctx, "", "clone", "--quiet", "--shared", "--no-checkout", "--", src, repo); err != nil {
		return executor.Result{}, l.ctxOr(ctx, infraf("clone %s for the run: %v", src, err))
	}
	if _, err := git(ctx, repo, "checkout", "--quiet", "--detach", commit); err != nil {
		return executor.Result{}, l.ctxOr(ctx, infraf("check out %s in the run's clone of %s: %v", commit, src, err))
	}

	stageDir, err := os.MkdirTemp(scratch, "run-")
	if err != nil {
		return executor.Result{}, infraf("create a directory for the run's inputs: %v", err)
	}
	defer l.remove(stageDir)
	if err := st.WriteDir(stageDir); err != nil {
		return executor.Result{}, infraf("%v", err)
	}

	cg, err := l.cgroups.make()
	if err != nil {
		return executor.Result{}, infraf("%v", err)
	}
	if cg != nil {
		defer func() {
			if err := cg.remove(); err != nil {
				l.log.Warn("cannot remove a run's memory cgroup", "dir", cg.dir, "err", err)
			}
		}()
	}
	backstop, err := l.execute(ctx, st, stageDir, repo, run.Env.Env, col, cg)
	if err != nil {
		return executor.Result{}, err
	}
	var kills int64
	if cg != nil {
		if kills, err = cg.oomKills(); err != nil {
			return executor.Result{}, infraf("%v", err)
		}
	}
	if st.Report != "" && !backstop {
		if f, err := os.Open(filepath.Join(stageDir, executor.ReportFile)); err == nil {
			col.ReadReport(f)
			f.Close()
		}
	}
	res := col.Result()
	switch {
	case backstop:
		res.Status = executor.TimedOut
		res.Reason = fmt.Sprintf("the run did not end within its timeout (%s) plus %s and was killed", st.Timeout, localBackstop)
	case kills > 0:
		// As on Docker: a process killed for memory says nothing about the
		// candidate, and the tests' output may still look like a result.
		res.Status = executor.Infra
		res.Reason = executor.OutOfMemoryReason + fmt.Sprintf("the kernel's OOM killer killed %d process(es) of the run (exit status %d); the local executor has no memory limit of its own: free memory, run fewer jobs at once, or use the Docker executor",
			kills, res.ExitCode)
	}
	return res, nil
}

// gateScript waits on file descriptor 3 for a line before it runs the run
// script named by $0: the parent moves it into the run's cgroup meanwhile,
// so that nothing of the run executes outside it. A gate closed without the
// line ends it with status 1, having run nothing.
const gateScript = `read -r go <&3 && exec sh "$0" 3<&-`

// execute runs the script in repo with its inputs in stageDir, streaming its
// output into col, and leaves no process behind. With a cgroup cg (nil for
// none), the script is in cg before it starts. backstop reports that the
// Go-side deadline, not the script's own timeout, stopped the script.
func (l *Executor) execute(ctx context.Context, st executor.Stage, stageDir, repo string, extra map[string]string, col *executor.Collector, cg *runCgroup) (backstop bool, err error) {
	runCtx, cancel := context.WithTimeout(ctx, st.Timeout+localBackstop)
	defer cancel()

	args := []string{filepath.Join(stageDir, "run.sh")}
	var gate, gated *os.File
	if cg != nil {
		if gated, gate, err = os.Pipe(); err != nil {
			return false, infraf("create the run's start gate: %v", err)
		}
		defer gated.Close()
		defer gate.Close()
		args = append([]string{"-c", gateScript}, args...)
	}
	cmd := exec.CommandContext(runCtx, "sh", args...)
	if gated != nil {
		cmd.ExtraFiles = []*os.File{gated}
	}
	cmd.Dir = repo
	cmd.Env = append(hostEnv(), "GOTOOLCHAIN=local")
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		cmd.Env = append(cmd.Env, k+"="+extra[k])
	}
	cmd.Env = append(cmd.Env, st.Env(stageDir)...)
	// A new session: the script's process group, and the group timeout(1)
	// makes, share its id, so killSession finds both.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Cancel = func() error {
		killSession(cmd.Process.Pid)
		return nil
	}
	cmd.WaitDelay = localDrain

	outR, outW, err := os.Pipe()
	if err != nil {
		return false, infraf("create the run's output pipe: %v", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return false, infraf("create the run's output pipe: %v", err)
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return false, infraf("start the run script with sh: %v", err)
	}
	var enterErr error
	if cg != nil {
		if enterErr = cg.enter(cmd.Process.Pid); enterErr == nil {
			_, enterErr = gate.Write([]byte("go\n"))
		}
		gate.Close() // without the line, the script ends having run nothing
	}

	var copies sync.WaitGroup
	var flowed atomic.Int64 // bytes read so far, to tell slow output from held-open pipes
	var busy atomic.Int32   // copies handing bytes to the collector (parsing) rather than waiting on a pipe
	copies.Go(func() { _, _ = io.Copy(&busyWriter{col.Stdout(), &busy}, &countingReader{outR, &flowed}) })
	copies.Go(func() { _, _ = io.Copy(&busyWriter{col.Stderr(), &busy}, &countingReader{errR, &flowed}) })
	copied := make(chan struct{})
	go func() { copies.Wait(); close(copied) }()

	// Kill what the script left behind (background jobs, a test server)
	// before reaping it, so its session id cannot have been reused.
	if err := waitExited(cmd.Process.Pid); err != nil {
		l.log.Warn("waiting for the run script failed; killing its session", "pid", cmd.Process.Pid, "err", err)
	}
	killSession(cmd.Process.Pid)
	if cg != nil {
		cg.kill() // processes that left the session too
	}
	waitErr := cmd.Wait()
	if !drained(copied, &flowed, &busy, localDrain) {
		l.log.Warn("a process that left the run's session still holds its output open; cutting it off", "repo", repo)
	}
	outR.Close()
	errR.Close()
	<-copied

	if ctx.Err() != nil {
		return false, fmt.Errorf("run in %s stopped: %w", repo, ctx.Err())
	}
	if enterErr != nil {
		return false, infraf("%v", enterErr)
	}
	if runCtx.Err() != nil {
		return true, nil
	}
	if _, ok := errors.AsType[*exec.ExitError](waitErr); waitErr != nil && !ok {
		return false, infraf("wait for the run script: %v", waitErr)
	}
	return false, nil
}

// drained waits for the output copies to end (copied closed) and says
// whether they did. Output still being read is not cut off, however long
// the collector takes with what was read (a parser on a long line under
// the race detector can take seconds: cutting the pipes then lost the
// output that followed); the pipes are cut off only once both copies have
// waited on them for idle without a byte, which only a process holding
// them open without writing can cause.
func drained(copied <-chan struct{}, flowed *atomic.Int64, busy *atomic.Int32, idle time.Duration) bool {
	tick := time.NewTicker(idle / 10)
	defer tick.Stop()
	last, since := flowed.Load(), time.Now()
	for {
		select {
		case <-copied:
			return true
		case <-tick.C:
			if n := flowed.Load(); n != last || busy.Load() > 0 {
				last, since = n, time.Now()
			} else if time.Since(since) >= idle {
				return false
			}
		}
	}
}

// busyWriter counts in busy the writes in progress to w.
type busyWriter struct {
	w    io.Writer
	busy *atomic.Int32
}

func (b *busyWriter) Write(p []byte) (int, error) {
	b.busy.Add(1)
	defer b.busy.Add(-1)
	return b.w.Write(p)
}

// countingReader adds the bytes it reads to n.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n.Add(int64(k))
	return k, err
}

// ctxOr returns ctx's error, wrapped, when ctx has ended (the failure was
// the cancellation), and err otherwise.
func (l *Executor) ctxOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("run stopped: %w", ctx.Err())
	}
	return err
}

// source returns the git repository to clone for env and the commit to
// check out, making a snapshot if env.Repo is a directory but not a git
// checkout's top level.
func (l *Executor) source(ctx context.Context, env executor.Environment) (repo, commit string, err error) {
	if env.Repo == "" {
		if env.Image != "" {
			return "", "", fmt.Errorf("the local executor cannot run image %s: set env.repo to a local git checkout, or use the Docker executor", env.Image)
		}
		return "", "", errors.New("the environment names no repository: set env.repo to a local git checkout for the local executor")
	}
	dir, err := filepath.Abs(env.Repo)
	if err == nil {
		dir, err = filepath.EvalSymlinks(dir)
	}
	if err != nil {
		return "", "", fmt.Errorf("repository %s does not exist or cannot be read: set env.repo to a local git checkout: %w", env.Repo, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return "", "", fmt.Errorf("repository %s cannot be read: set env.repo to a local git checkout: %w", env.Repo, err)
	}
	if !fi.IsDir() {
		return "", "", fmt.Errorf("repository %s is not a directory: set env.repo to a local git checkout", env.Repo)
	}

	if !isGitTop(ctx, dir) {
		if env.Commit != "" {
			return "", "", fmt.Errorf("repository %s is not the top level of a git checkout, so commit %q cannot be checked out: point env.repo at the checkout's root or drop env.commit", env.Repo, env.Commit)
		}
		if dir, err = l.snapshot(ctx, dir); err != nil {
			return "", "", err
		}
	}
	want := env.Commit
	if want == "" {
		want = "HEAD"
	}
	out, err := git(ctx, dir, "rev-parse", "--verify", "--quiet", "--end-of-options", want+"^{commit}")
	if err != nil {
		if ctx.Err() != nil {
			return "", "", fmt.Errorf("run stopped: %w", ctx.Err())
		}
		return "", "", fmt.Errorf("commit %q is not in repository %s: fetch it there or fix env.commit", want, env.Repo)
	}
	return dir, strings.TrimSpace(out), nil
}

// isGitTop tells whether dir is the top level of a git work tree, or a bare
// repository (both can be cloned).
func isGitTop(ctx context.Context, dir string) bool {
	out, err := git(ctx, dir, "rev-parse", "--is-bare-repository", "--show-toplevel")
	if err != nil {
		return false
	}
	lines := strings.Fields(out)
	if len(lines) > 0 && lines[0] == "true" {
		return true
	}
	if len(lines) < 2 {
		return false
	}
	top, err := filepath.EvalSymlinks(lines[1])
	return err == nil && top == dir
}

// snapshot returns a scratch git repository holding one commit with the
// contents of dir, ignored files included, made once per Local and
// directory. Later changes to dir are not seen by later runs.
func (l *Executor) snapshot(ctx context.Context, dir string) (string, error) {
	l.mu.Lock()
	s := l.snapshots[dir]
	if s == nil {
		s = &snapshot{}
		l.snapshots[dir] = s
	}
	l.mu.Unlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.repo != "" {
		return s.repo, nil
	}
	root, err := l.scratchDir()
	if err != nil {
		return "", err
	}
	scratch, err := os.MkdirTemp(root, "snapshot-")
	if err != nil {
		return "", infraf("create a directory for a snapshot of %s: %v", dir, err)
	}
	repo := filepath.Join(scratch, "repo")
	fail := func(what string, err error) (string, error) {
		l.remove(scratch)
		return "", l.ctxOr(ctx, infraf("snapshot %s (not a git checkout) into a scratch repository: %s: %v", dir, what, err))
	}
	// cp -a keeps modes and symlinks, which a walk in Go would redo by hand.
	if out, err := exec.CommandContext(ctx, "cp", "-a", "--", dir+"/.", repo).CombinedOutput(); err != nil {
		return fail("copy", fmt.Errorf("%w: %s", err, bytes.TrimSpace(out)))
	}
	for _, args := range [][]string{
		{"init", "--quiet"},
		{"add", "--all", "--force", "."},
		{"-c", "user.name=bestpatch", "-c", "user.email=bestpatch@localhost", "commit", "--quiet", "--no-verify", "--allow-empty", "-m", "bestpatch snapshot of " + dir},
	} {
		if _, err := git(ctx, repo, args...); err != nil {
			return fail("git "+args[0], err)
		}
	}
	l.log.Info("snapshotted a directory that is not a git checkout; later changes to it are not seen", "dir", dir, "snapshot", repo)
	s.repo = repo
	return repo, nil
}

// git runs git in dir ("" for the current directory) and returns its
// stdout; the error holds its stderr.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	if dir != "" {
		args = append([]string{"-C", dir}, args...)
	}
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Env = hostEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.String(), nil
}

// hostEnv is the daemon's environment without the variables that point git
// at another repository (set when the daemon runs from a git hook, say).
func hostEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool {
		for _, p := range []string{"GIT_DIR=", "GIT_WORK_TREE=", "GIT_INDEX_FILE=", "GIT_OBJECT_DIRECTORY=", "GIT_ALTERNATE_OBJECT_DIRECTORIES=", "GIT_COMMON_DIR=", "GIT_NAMESPACE="} {
			if strings.HasPrefix(kv, p) {
				return true
			}
		}
		return false
	})
}

// remove deletes a run's temporary directory, logging a failure: a leftover
// directory must not fail the run.
func (l *Executor) remove(dir string) {
	if err := removeTree(dir); err != nil {
		l.log.Warn("cannot remove a run's temporary directory", "dir", dir, "err", err)
	}
}

// removeTree removes dir even when tests left read-only directories in it
// (go's module cache does that).
func removeTree(dir string) error {
	if err := os.RemoveAll(dir); err == nil {
		return nil
	}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}
