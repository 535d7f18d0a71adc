package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/moby/moby/client"
)

// Reused containers (Config.Reuse; docs/DOCKER.md, "Reused containers"): an
// explicit option, never the default. A container then serves the runs of
// one spec one after another, each as a `docker exec`, which costs the
// engine about a quarter of what a container's life does (82 ms of CPU
// against 330 ms on this machine's fuse-overlayfs). Between runs the work
// tree is reset by run.sh, every process but the keeper is killed and /tmp
// is emptied; what a run writes elsewhere (the home directory, the
// language's installed packages, ignored files in the work tree) is seen by
// the next run of that container.

// keeperScript is the command of a reused container. The shell is PID 1:
// it only waits, which reaps the orphans that runs leave, and it cannot be
// killed from inside the container (the kernel spares a namespace's init
// the signals it has no handler for), so that each run can end by killing
// every other process (kill -9 -1). Without sleep it would spin: it exits
// instead, and the run fails in the engine (an image without coreutils
// fails run.sh's own tool check anyway).
const keeperScript = `command -v sleep >/dev/null 2>&1 || exit 3; while :; do sleep 86400 & wait $!; done`

// workers are the reused containers waiting for their next run, by spec
// key.
type workers struct {
	d      *Executor
	mu     sync.Mutex
	idle   map[string][]*worker
	closed bool
	wg     sync.WaitGroup // removals
}

// worker is one reused container.
type worker struct {
	id, name string
	// limits are the container's cgroup counts after its last run: the
	// counters only grow, so a run's own are the difference.
	limits limitMarks
	timer  *time.Timer
}

// take returns an idle worker of spec key, or nil.
func (w *workers) take(key string) *worker {
	w.mu.Lock()
	defer w.mu.Unlock()
	list := w.idle[key]
	if len(list) == 0 {
		return nil
	}
	k := list[len(list)-1] // the most recent: its file system's cache is the warmest
	w.idle[key] = list[:len(list)-1]
	if len(w.idle[key]) == 0 {
		delete(w.idle, key)
	}
	k.timer.Stop()
	return k
}

// put hands a worker back for the next run of spec key; it is removed
// after idle unused, or at once after Close.
func (w *workers) put(key string, k *worker, idle time.Duration) {
	d := w.d
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.wg.Go(func() { d.removeNow(context.Background(), &sandbox{id: k.id, name: k.name}) })
		return
	}
	k.timer = time.AfterFunc(idle, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		list := w.idle[key]
		i := slices.Index(list, k)
		if i < 0 {
			return // taken meanwhile
		}
		w.idle[key] = slices.Delete(list, i, i+1)
		if len(w.idle[key]) == 0 {
			delete(w.idle, key)
		}
		if !w.closed {
			w.wg.Go(func() { d.removeNow(context.Background(), &sandbox{id: k.id, name: k.name}) })
		}
	})
	w.idle[key] = append(w.idle[key], k)
}

// retire removes a worker that must not serve again (its run hit a limit,
// timed out or was cancelled, or the engine failed it).
func (w *workers) retire(ctx context.Context, k *worker) {
	w.wg.Go(func() { w.d.removeNow(context.WithoutCancel(ctx), &sandbox{id: k.id, name: k.name}) })
}

// close removes the idle workers and waits for every removal.
func (w *workers) close() {
	d := w.d
	w.mu.Lock()
	w.closed = true
	var all []*worker
	for _, list := range w.idle {
		all = append(all, list...)
	}
	w.idle = map[string][]*worker{}
	w.mu.Unlock()
	for _, k := range all {
		k.timer.Stop()
		d.removeNow(context.Background(), &sandbox{id: k.id, name: k.name})
	}
	w.wg.Wait()
}

// makeWorker creates and starts a reused container of spec sp: the run's
// own settings, with the keeper as its command and PID 1 (no init).
func (d *Executor) makeWorker(ctx context.Context, sp spec) (*worker, error) {
	id := executor.NewRunID()
	k := &worker{id: "", name: "bestpatch-" + id}
	cfg := *sp.config
	cfg.Labels = labels(d.owner, id)
	cfg.Cmd = []string{"/bin/sh", "-c", keeperScript}
	cfg.AttachStdin, cfg.OpenStdin, cfg.StdinOnce = false, false, false
	cfg.AttachStdout, cfg.AttachStderr = false, false
	host := *sp.host
	host.Init = nil
	if err := d.slots.pace(ctx); err != nil {
		return nil, err
	}
	created, err := d.create(ctx, client.ContainerCreateOptions{Name: k.name, Config: &cfg, HostConfig: withVolumeLabels(&host, cfg.Labels)})
	if err != nil {
		return nil, fmt.Errorf("create container %s from %s: %w", k.name, cfg.Image, err)
	}
	k.id = created.ID
	if err := ctx.Err(); err != nil {
		d.removeNow(ctx, &sandbox{id: k.id, name: k.name})
		return nil, err
	}
	if _, err := d.cli.ContainerStart(ctx, k.id, client.ContainerStartOptions{}); err != nil {
		d.removeNow(ctx, &sandbox{id: k.id, name: k.name})
		return nil, fmt.Errorf("start container %s: %w", k.name, err)
	}
	return k, nil
}

// reusedPayload is what a run's exec reads on stdin: the leftovers of any
// earlier run killed and /tmp emptied (wholly when it is the container's
// own tmpfs, else only the stage), the stage written, the container script
// run with stdin closed, and every process it left killed before the exec
// ends, so that its output stream closes and nothing runs on into the next
// run.
func (d *Executor) reusedPayload(st executor.Stage, tmpfs bool) []byte {
	var b strings.Builder
	b.WriteString("kill -9 -1 2>/dev/null\n")
	if tmpfs {
		b.WriteString("rm -rf " + tmpDir + "/* " + tmpDir + "/.[!.]* " + tmpDir + "/..?* 2>/dev/null\n")
	} else {
		b.WriteString("rm -rf " + executor.ShellQuote(stageDir) + "\n")
	}
	b.Write(stageScript(st))
	fmt.Fprintf(&b, "/bin/sh %s </dev/null\ncode=$?\nkill -9 -1 2>/dev/null\nexit $code\n", executor.ShellQuote(stageDir+"/"+containerFile))
	return []byte(b.String())
}

// attemptReused is one try at a run in a reused container: take an idle
// worker of the run's spec (or make one), exec the run in it, stream its
// output, and hand the worker back, or remove it when the run hit a limit,
// timed out, or anything failed.
func (d *Executor) attemptReused(ctx context.Context, run executor.Run, st executor.Stage, sp spec, tm *RunTiming) (res executor.Result, err error) {
	step := time.Now()
	k := d.reuse.take(sp.key)
	tm.Reused = k != nil
	if k == nil {
		if k, err = d.makeWorker(ctx, sp); err != nil {
			return executor.Result{}, err
		}
		tm.Create = time.Since(step)
	}
	tm.Ready = time.Since(step)
	keep := false
	defer func() {
		if keep {
			d.reuse.put(sp.key, k, readyIdle)
		} else {
			d.reuse.retire(ctx, k)
		}
	}()

	coll, err := executor.NewCollector(run.Format, st)
	if err != nil {
		keep = true
		return executor.Result{}, permanent(err)
	}
	ex, err := d.cli.ExecCreate(ctx, k.id, client.ExecCreateOptions{
		Cmd: []string{"/bin/sh", "-s"}, User: sp.config.User, WorkingDir: sp.config.WorkingDir,
		AttachStdin: true, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		return executor.Result{}, fmt.Errorf("exec in container %s: %w", k.name, err)
	}
	att, err := d.cli.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{})
	if err != nil {
		return executor.Result{}, fmt.Errorf("start the exec in container %s: %w", k.name, err)
	}
	defer att.Close()
	limits := &limitMarks{}
	stderr := io.MultiWriter(coll.Stderr(), executor.NewLineSplitter(executor.MaxLine, limits.line))
	copied := stream(att.HijackedResponse, coll.Stdout(), stderr)
	started := time.Now()
	_, tmpfs := sp.host.Tmpfs[tmpDir]
	sent := send(att.HijackedResponse, d.reusedPayload(st, tmpfs))

	backstop := time.NewTimer(st.Timeout + d.cfg.SetupGrace)
	defer backstop.Stop()
	backstopHit := false
wait:
	for {
		select {
		case err := <-sent:
			if err != nil {
				return executor.Result{}, fmt.Errorf("send the run's inputs to container %s: %w", k.name, err)
			}
			tm.Send = time.Since(started)
			sent = nil
		case err := <-copied:
			if err != nil && !errors.Is(err, io.EOF) {
				return executor.Result{}, fmt.Errorf("read the output of container %s: %w", k.name, err)
			}
			break wait
		case <-backstop.C:
			backstopHit = true
			kctx, kcancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
			_, _ = d.cli.ContainerKill(kctx, k.id, client.ContainerKillOptions{Signal: "KILL"})
			kcancel()
			<-copied
			break wait
		case <-ctx.Done():
			return executor.Result{}, ctx.Err()
		}
	}
	exited := time.Now()
	code := 0
	if !backstopHit {
		if code, err = d.execCode(ctx, ex.ID); err != nil {
			return executor.Result{}, fmt.Errorf("exec in container %s: %w", k.name, err)
		}
	}
	if st.Report != "" && !backstopHit {
		if err := d.readReport(ctx, k.id, coll); err != nil {
			return executor.Result{}, fmt.Errorf("read the JUnit report from container %s: %w", k.name, err)
		}
	}
	res = coll.Result()
	tm.Collect = time.Since(exited)
	tm.scriptSteps(coll.Stamps(), started, exited)
	// The run's own limit events: the container's counts less the ones
	// before it.
	own := limitMarks{pidsMax: max(0, limits.pidsMax-k.limits.pidsMax), oomKills: max(0, limits.oomKills-k.limits.oomKills)}
	k.limits = *limits
	res = d.verdict(res, ending{backstop: backstopHit, code: code, limits: own}, sp)
	keep = !backstopHit && own.pidsMax == 0 && own.oomKills == 0
	return res, nil
}

// execCode waits for an exec whose output has ended to be reported done,
// and returns its exit status.
func (d *Executor) execCode(ctx context.Context, id string) (int, error) {
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		ins, err := d.cli.ExecInspect(ctx, id, client.ExecInspectOptions{})
		if err != nil {
			return 0, err
		}
		if !ins.Running {
			return ins.ExitCode, nil
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}
