package docker

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// Reused containers (Config.Reuse; docs/DOCKER.md, "Reused containers"): an
// explicit option, never the default. A container then serves the runs of
// one spec one after another, each as a block of script its keeper reads
// (keeper.go), which costs the engine nothing, where a container's life
// costs it about 330 ms of CPU on this machine's fuse-overlayfs. Between
// runs every process but the keeper is killed, the keeper resets the work
// tree to the container's first commit (so run.sh skips its own reset)
// and /tmp is emptied; what a run writes elsewhere (the home
// directory, the language's installed packages, ignored files in the work
// tree) is seen by the next run of that container.

// workers are the reused containers of every spec: the idle ones wait for
// their next run. As the fresh containers' ready pool does (ready.go),
// Config.Ahead idle ones are kept for each spec a run used, made in the
// background, so that a job's first runs, and a run after one whose
// container is being stopped, do not wait for the engine to make and start
// a container.
type workers struct {
	d     *Executor
	ahead int
	// life ends the background makes at close.
	life   context.Context
	stop   context.CancelFunc
	mu     sync.Mutex
	idle   map[string][]*worker
	making map[string]int // by spec key: background makes under way
	closed bool
	wg     sync.WaitGroup // background makes and removals
}

func newWorkers(d *Executor, ahead int) workers {
	life, stop := context.WithCancel(context.Background())
	return workers{d: d, ahead: ahead, life: life, stop: stop, idle: map[string][]*worker{}, making: map[string]int{}}
}

// worker is one reused container: its sandbox (the attach connection its
// keeper reads runs from) and its two output streams, copied for the
// container's whole life.
type worker struct {
	sb        *sandbox
	key       string // its spec's
	out, errs *runStream
	ended     chan struct{} // closed when the container's streams end
	// limits are the container's cgroup counts after its last run: the
	// counters only grow, so a run's own are the difference.
	limits limitMarks
	timer  *time.Timer
}

// ownLimits returns a run's own limit events, given the container's counts
// after it (they only grow): the counts less the ones before it, which it
// then keeps for the next run.
func (k *worker) ownLimits(after limitMarks) limitMarks {
	own := limitMarks{pidsMax: max(0, after.pidsMax-k.limits.pidsMax), oomKills: max(0, after.oomKills-k.limits.oomKills)}
	k.limits = after
	return own
}

// alive reports whether the worker's keeper is still there to read a run.
func (k *worker) alive() bool {
	select {
	case <-k.ended:
		return false
	default:
		return true
	}
}

// take returns an idle worker of spec key whose keeper is still there, or
// nil; the ones whose keeper is gone (it exited, or the container was
// killed while idle) are removed.
func (w *workers) take(ctx context.Context, key string) *worker {
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
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
		if k.alive() {
			return k
		}
		w.remove(context.WithoutCancel(ctx), k)
	}
}

// remove removes a worker in the background; call with w.mu held.
func (w *workers) remove(ctx context.Context, k *worker) {
	w.wg.Go(func() { w.d.removeNow(ctx, k.sb) })
}

// fill starts making workers of spec sp in the background until ahead of
// them are idle or being made.
func (w *workers) fill(sp spec) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	for len(w.idle[sp.key])+w.making[sp.key] < w.ahead {
		w.making[sp.key]++
		w.wg.Go(func() {
			k, err := w.d.makeWorker(w.life, sp)
			w.mu.Lock()
			if w.making[sp.key]--; w.making[sp.key] == 0 {
				delete(w.making, sp.key)
			}
			w.mu.Unlock()
			if err != nil {
				if w.life.Err() == nil {
					w.d.log.Warn("cannot make a reused container ahead; the next run makes its own", "image", sp.config.Image, "err", err)
				}
				return
			}
			w.put(k, readyIdle)
		})
	}
}

// put hands a worker back for the next run of its spec; it is removed
// after idle unused, or at once after Close.
func (w *workers) put(k *worker, idle time.Duration) {
	key := k.key
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.remove(context.Background(), k)
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
			w.remove(context.Background(), k)
		}
	})
	w.idle[key] = append(w.idle[key], k)
}

// retire removes a worker that must not serve again (its run hit a limit,
// timed out, left a process or output behind, was cancelled and could not
// be stopped in place, or the engine failed it).
func (w *workers) retire(ctx context.Context, k *worker) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.remove(context.WithoutCancel(ctx), k)
}

// settle waits for the background makes and removals started so far.
func (w *workers) settle() { w.wg.Wait() }

// close stops making workers, removes the idle ones and waits for every
// make and removal.
func (w *workers) close() {
	d := w.d
	w.stop()
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
		d.removeNow(context.Background(), k.sb)
	}
	w.wg.Wait()
}

// makeWorker makes a reused container of spec sp: the run's own settings,
// with the keeper as its command and PID 1 (no init), attached for its
// whole life.
func (d *Executor) makeWorker(ctx context.Context, sp spec) (*worker, error) {
	cfg := *sp.config
	cfg.Cmd = keeperCommand
	host := *sp.host
	host.Init = nil
	sb, err := d.makeSandbox(ctx, spec{config: &cfg, host: &host, limits: sp.limits, key: sp.key})
	if err != nil {
		return nil, err
	}
	k := &worker{sb: sb, key: sp.key, out: &runStream{}, errs: &runStream{}, ended: make(chan struct{})}
	go func() {
		_, err := stdcopy.StdCopy(k.out, k.errs, sb.att.Reader)
		k.out.end(err)
		k.errs.end(err)
		close(k.ended)
	}()
	if err := <-send(sb.att, []byte(keeperInit), false); err != nil {
		d.removeNow(ctx, sb)
		return nil, fmt.Errorf("send container %s its keeper's first block (its base commit, the reset): %w", sb.name, err)
	}
	return k, nil
}

// attemptReused is one try at a run in a reused container: take an idle
// worker of the run's spec (or make one), send its keeper the run, pass on
// its output until the end marks, and hand the worker back, or remove it
// when the run hit a limit, timed out, left processes or output behind, or
// anything failed.
func (d *Executor) attemptReused(ctx context.Context, run executor.Run, st executor.Stage, sp spec, tm *RunTiming) (res executor.Result, err error) {
	step := time.Now()
	k := d.reuse.take(ctx, sp.key)
	tm.Reused = k != nil
	if k == nil {
		if k, err = d.makeWorker(ctx, sp); err != nil {
			return executor.Result{}, err
		}
		tm.Create = time.Since(step)
	}
	tm.Ready = time.Since(step)
	d.reuse.fill(sp)
	keep, stopping := false, false
	defer func() {
		switch {
		case stopping: // the stop hands it back
		case keep:
			d.reuse.put(k, readyIdle)
		default:
			d.reuse.retire(ctx, k)
		}
	}()

	coll, err := executor.NewCollector(run.Format, st)
	if err != nil {
		keep = true
		return executor.Result{}, permanent(err)
	}
	limits := &limitMarks{}
	stderr := io.MultiWriter(coll.Stderr(), executor.NewLineSplitter(executor.MaxLine, limits.line))
	marks := newRunMarks()
	strays := k.out.strays() + k.errs.strays()
	outEnd, errEnd := k.out.begin(marks, coll.Stdout()), k.errs.begin(marks, stderr)
	started := time.Now()
	_, tmpfs := sp.host.Tmpfs[tmpDir]
	sent := send(k.sb.att, keeperRun(st, tmpfs, marks), false)

	backstop := time.NewTimer(st.Timeout + d.cfg.SetupGrace)
	defer backstop.Stop()
	backstopHit := false
	var end runEnd
	for outEnd != nil || errEnd != nil {
		select {
		case err := <-sent:
			if err != nil {
				return executor.Result{}, fmt.Errorf("send the run's inputs to container %s: %w", k.sb.name, err)
			}
			tm.Send = time.Since(started)
			sent = nil
		case e := <-outEnd:
			end, outEnd = e, nil
		case e := <-errEnd:
			if e.err != nil && end.err == nil {
				end.err = e.err
			}
			errEnd = nil
		case <-backstop.C:
			backstopHit = true
			kctx, kcancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
			_, _ = d.cli.ContainerKill(kctx, k.sb.id, client.ContainerKillOptions{Signal: "KILL"})
			kcancel()
			k.sb.att.Close() // the streams end even if the kill failed
			<-k.ended
		case <-ctx.Done():
			// Stopped in the background: the caller's slot is free at once
			// (a run made ahead and dropped holds one that a needed run
			// waits for), and the container is handed back once stopped.
			stopping = true
			d.reuse.wg.Go(func() {
				ok := d.stopRun(ctx, k, sp, outEnd, errEnd)
				if ok {
					own := k.ownLimits(*limits)
					ok = own == (limitMarks{}) && k.out.strays()+k.errs.strays() == strays
				}
				if ok {
					d.reuse.put(k, readyIdle)
				} else {
					d.reuse.retire(ctx, k)
				}
			})
			return executor.Result{}, ctx.Err()
		}
	}
	exited := time.Now()
	oomKilled := false
	if end.err != nil && !backstopHit {
		// The keeper is gone: killed at the memory limit (the engine says
		// so), or the engine failed.
		ins, ierr := d.cli.ContainerInspect(ctx, k.sb.id, client.ContainerInspectOptions{})
		if ierr != nil || ins.Container.State == nil || !ins.Container.State.OOMKilled {
			return executor.Result{}, fmt.Errorf("run in reused container %s: %w", k.sb.name, end.err)
		}
		oomKilled, end.code = true, ins.Container.State.ExitCode
	}
	if st.Report != "" && end.err == nil {
		if err := d.readReport(ctx, k.sb.id, coll); err != nil {
			return executor.Result{}, fmt.Errorf("read the JUnit report from container %s: %w", k.sb.name, err)
		}
	}
	res = coll.Result()
	tm.Collect = time.Since(exited)
	tm.scriptSteps(coll.Stamps(), started, exited)
	own := k.ownLimits(*limits)
	res = d.verdict(res, ending{backstop: backstopHit, code: end.code, oomKilled: oomKilled, limits: own}, sp)
	stray := k.out.strays() + k.errs.strays() - strays
	if end.left > 0 || stray > 0 || end.dirty {
		d.log.Warn("a run left processes, output or a work tree git cannot reset behind in a reused container; it is removed", "container", k.sb.name, "processes", end.left, "stray_bytes", stray, "tree_not_reset", end.dirty)
	}
	keep = end.err == nil && !backstopHit && own.pidsMax == 0 && own.oomKills == 0 && end.left == 0 && !end.dirty && stray == 0
	return res, nil
}

// stopCommand is the exec that stops a cancelled run in a reused
// container: it kills every process it may (not the keeper, the
// namespace's init).
var stopCommand = []string{"/bin/sh", "-c", "kill -9 -1"}

// stopRunWait bounds how long a cancelled run's container may take to reach
// its end marks before it is removed instead.
const stopRunWait = 5 * time.Second

// stopRun ends a cancelled run in its reused container and reports whether
// the container can serve again (it runs in the background, off the
// cancelled run's slot): one exec kills every process but the
// keeper (which the exec cannot kill: it is the namespace's init), the
// keeper then reaps them and prints its end marks. An exec costs the engine
// far less than removing the container and making another, which the next
// run would wait for (a run made ahead and dropped is cancelled so).
func (d *Executor) stopRun(ctx context.Context, k *worker, sp spec, outEnd, errEnd <-chan runEnd) bool {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopRunWait)
	defer cancel()
	ex, err := d.cli.ExecCreate(sctx, k.sb.id, client.ExecCreateOptions{Cmd: d.stopCommand, User: sp.config.User})
	if err != nil {
		return false
	}
	if _, err := d.cli.ExecStart(sctx, ex.ID, client.ExecStartOptions{Detach: true}); err != nil {
		return false
	}
	clean := true
	for outEnd != nil || errEnd != nil {
		select {
		case e := <-outEnd:
			clean, outEnd = clean && e.err == nil && e.left == 0 && !e.dirty, nil
		case e := <-errEnd:
			clean, errEnd = clean && e.err == nil && e.left == 0 && !e.dirty, nil
		case <-sctx.Done():
			return false
		}
	}
	// The run may have ended on its own before the kill ran: the kill must
	// not reach the container's next run, so the container serves again
	// only once the exec is over.
	for {
		ins, err := d.cli.ExecInspect(sctx, ex.ID, client.ExecInspectOptions{})
		if err != nil {
			return false
		}
		if !ins.Running {
			return clean
		}
		select {
		case <-time.After(5 * time.Millisecond):
		case <-sctx.Done():
			return false
		}
	}
}
