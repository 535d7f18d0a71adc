package docker

import (
	"context"
	"fmt"
	"io"
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

// newWorkers is the pool of reused containers (workers): Config.Ahead idle
// ones are kept for each spec a run used, made in the background, so that a
// job's first runs, and a run after one whose container is being stopped,
// do not wait for the engine to make and start a container. A worker goes
// back to the pool after each run it may follow with another; the one
// that went idle last is taken first (its file system's caches are the
// warmest), and one whose keeper is gone (it exited, or the container was
// killed while idle) is removed instead.
func newWorkers(d *Executor, ahead int) *pool[*worker] {
	return newPool(poolConfig[*worker]{
		log: d.log, ahead: ahead, idle: readyIdle, newest: true, what: "a reused container",
		make:   d.makeWorker,
		remove: func(ctx context.Context, k *worker) { d.removeNow(ctx, k.sb) },
		usable: (*worker).alive,
	})
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
	k, ok := d.reuse.take(sp.key)
	tm.Reused = ok
	if !ok {
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
			d.reuse.put(k.key, k)
		default:
			d.reuse.discard(ctx, k)
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
			d.reuse.background(func() {
				ok := d.stopRun(ctx, k, sp, outEnd, errEnd)
				if ok {
					own := k.ownLimits(*limits)
					ok = own == (limitMarks{}) && k.out.strays()+k.errs.strays() == strays
				}
				if ok {
					d.reuse.put(k.key, k)
				} else {
					d.reuse.discard(ctx, k)
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
