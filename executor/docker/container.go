package docker

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// stageDir is where a run's $BP_DIR is written in the container, by the
// run's own user (the stage comes on stdin, see sandboxBoot): /tmp is
// writable by any user.
const stageDir = "/tmp/bestpatch"

// maxReportSize caps the JUnit report read back from a container.
const maxReportSize = 64 << 20

// removeTimeout bounds the removal of a container, done with a fresh
// context so that it happens even when the run's context is cancelled.
const removeTimeout = time.Minute

// containerScript runs run.sh, then reports the resource limits the run hit,
// read from the container's own cgroup (v2 or v1) with shell builtins only:
// after a fork bomb there may be no room left to fork. /bin/sh, not bash:
// minimal images have no bash.
const containerScript = `/bin/sh "$BP_DIR/run.sh"
code=$?
for f in /sys/fs/cgroup/pids.events /sys/fs/cgroup/pids/pids.events; do
	if [ -r "$f" ]; then
		while read -r k v; do [ "$k" = max ] && printf 'bestpatch:pids-max=%s\n' "$v" >&2; done <"$f"
		break
	fi
done
for f in /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control; do
	if [ -r "$f" ]; then
		while read -r k v; do [ "$k" = oom_kill ] && printf 'bestpatch:oom-kill=%s\n' "$v" >&2; done <"$f"
		break
	fi
done
exit $code
`

// gitStatEnv makes git compare files by mtime and size only. In a fresh
// container every file's inode and ctime differ from what the image's git
// index recorded, so a plain `git reset --hard` rewrites the whole tree:
// seconds of work, and every Python bytecode file goes stale (sympy's
// import went from 1 s to 11 s). GIT_CONFIG_COUNT needs git 2.31+; an older
// git ignores it and is only slower.
var gitStatEnv = []string{
	"GIT_CONFIG_COUNT=2",
	"GIT_CONFIG_KEY_0=core.checkStat", "GIT_CONFIG_VALUE_0=minimal",
	"GIT_CONFIG_KEY_1=core.trustCtime", "GIT_CONFIG_VALUE_1=false",
}

// spec is what a run's containers are made of; every retry uses it afresh.
// Runs with the same key can use each other's containers made ahead.
type spec struct {
	config *container.Config
	host   *container.HostConfig
	limits executor.Limits
	key    string
}

func (d *Executor) containerSpec(run executor.Run, st executor.Stage) spec {
	lim := mergeLimits(run.Env.Limits, d.cfg.Limits)
	workdir := run.Env.Workdir
	if workdir == "" {
		workdir = DefaultWorkdir
	}
	env := append(st.Env(stageDir), gitStatEnv...)
	if d.cfg.Observe != nil {
		env = append(env, "BP_TIMES=1")
	}
	for _, k := range slices.Sorted(maps.Keys(run.Env.Env)) {
		env = append(env, k+"="+run.Env.Env[k])
	}
	// The engine refuses a CPU limit above its CPU count; a bigger request
	// gets the whole engine.
	if engine := float64(d.slots.cpuCap) / 1000; engine > 0 && lim.CPUs > engine {
		lim.CPUs = engine
	}
	mem := int64(lim.MemoryMB) << 20
	pids := lim.PIDs
	yes := true
	sp := spec{
		limits: lim,
		config: &container.Config{
			Image:           run.Env.Image,
			Cmd:             []string{"/bin/sh", "-c", sandboxBoot},
			Env:             env,
			WorkingDir:      workdir,
			User:            run.Env.User,
			AttachStdin:     true,
			OpenStdin:       true,
			StdinOnce:       true,
			AttachStdout:    true,
			AttachStderr:    true,
			NetworkDisabled: true,
		},
		host: &container.HostConfig{
			NetworkMode: "none",
			Resources: container.Resources{
				Memory:     mem,
				MemorySwap: mem, // no swap: a memory hog is killed, not slowed to a crawl
				NanoCPUs:   int64(lim.CPUs * 1e9),
				PidsLimit:  &pids,
			},
			CapDrop:     []string{"ALL"},
			SecurityOpt: []string{"no-new-privileges"},
			// An init as PID 1 reaps zombies, and its exit ends every process
			// the tests left behind.
			Init: &yes,
			// The output is streamed by attach; the engine keeps no log, so a
			// run that prints without end cannot fill the engine's disk.
			LogConfig: container.LogConfig{Type: "none"},
			Mounts:    d.mounts,
		},
	}
	sp.key = specKey(sp)
	return sp
}

// with returns the spec with what the image adds: its mounts (read-only
// copies, the workdir volume) and a tmpfs at /tmp.
func (sp spec) with(su setup) spec {
	if len(su.mounts) == 0 && !su.tmpfs {
		return sp
	}
	host := *sp.host
	host.Mounts = append(slices.Clip(host.Mounts), su.mounts...)
	if su.tmpfs {
		// HostConfig.Tmpfs, not a tmpfs mount: the Mounts API takes the
		// exec option only from API 1.46, and engines as old as 1.41 are
		// supported.
		host.Tmpfs = map[string]string{tmpDir: tmpfsOptions(sp.limits.MemoryMB)}
	}
	sp.host = &host
	sp.key = specKey(sp)
	return sp
}

// specKey is the content address of a container spec: its image, command,
// environment, user, limits and security settings.
func specKey(sp spec) string {
	b, _ := json.Marshal(struct {
		C *container.Config
		H *container.HostConfig
	}{sp.config, sp.host})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// attempt is one try at a run: take a container made ahead (or make one
// now), send it the stage, stream its output, wait, read the state (and the
// JUnit report), then hand the container to removal. An error means the
// engine failed (retryable unless permanent) or ctx ended.
func (d *Executor) attempt(ctx context.Context, run executor.Run, st executor.Stage, sp spec, tm *RunTiming) (res executor.Result, err error) {
	step := time.Now()
	sb, ok := d.ready.take(sp.key)
	if !ok {
		if sb, err = d.makeSandbox(ctx, sp); err != nil {
			return executor.Result{}, err
		}
		tm.Create, tm.Start = sb.create, sb.start
	}
	tm.Ready = time.Since(step)
	// Make the next run's container while this one runs.
	d.ready.fill(sp)
	defer d.ready.discard(ctx, sb)

	coll, err := executor.NewCollector(run.Format, st)
	if err != nil {
		return executor.Result{}, permanent(err)
	}
	limits := &limitMarks{}
	stderr := io.MultiWriter(coll.Stderr(), executor.NewLineSplitter(executor.MaxLine, limits.line))
	copied := stream(sb.att, coll.Stdout(), stderr)

	// The backstop: run.sh kills the tests at the timeout; this kills the
	// container if the script itself hangs (a reset or patch that never ends).
	backstop := time.NewTimer(st.Timeout + d.cfg.SetupGrace)
	defer backstop.Stop()
	started := time.Now()
	sent := send(sb.att, d.payload(st), true)
	backstopHit := false
	var exit waitOutcome
wait:
	for {
		select {
		case err := <-sent:
			if err != nil {
				return executor.Result{}, fmt.Errorf("send the run's inputs to container %s: %w", sb.name, err)
			}
			tm.Send = time.Since(started)
			sent = nil
		case exit = <-sb.exited:
			if exit.err != nil {
				if ctx.Err() != nil {
					return executor.Result{}, ctx.Err()
				}
				return executor.Result{}, fmt.Errorf("wait for container %s: %w", sb.name, exit.err)
			}
			break wait
		case <-backstop.C:
			backstopHit = true
			kctx, kcancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
			_, _ = d.cli.ContainerKill(kctx, sb.id, client.ContainerKillOptions{Signal: "KILL"})
			kcancel()
			exit = <-sb.exited
			break wait
		case <-ctx.Done():
			return executor.Result{}, ctx.Err()
		}
	}
	// The attach stream ends when the container's streams close.
	select {
	case <-copied:
	case <-time.After(30 * time.Second):
		sb.att.Close()
		<-copied
	case <-ctx.Done():
		return executor.Result{}, ctx.Err()
	}

	exited := time.Now()
	ins, err := d.cli.ContainerInspect(ctx, sb.id, client.ContainerInspectOptions{})
	if err != nil {
		return executor.Result{}, fmt.Errorf("inspect container %s: %w", sb.name, err)
	}
	if st.Report != "" {
		if err := d.readReport(ctx, sb.id, coll); err != nil {
			return executor.Result{}, fmt.Errorf("read the JUnit report from container %s: %w", sb.name, err)
		}
	}

	res = coll.Result()
	tm.Collect = time.Since(exited)
	tm.scriptSteps(coll.Stamps(), started, exited)
	state := ins.Container.State
	code := int(exit.code)
	oomKilled := false
	if state != nil {
		code, oomKilled = state.ExitCode, state.OOMKilled
	}
	return d.verdict(res, ending{backstop: backstopHit, code: code, oomKilled: oomKilled, limits: *limits}, sp), nil
}

// ending is how a run's script ended: killed by the backstop, its exit
// status, and the limits it hit.
type ending struct {
	backstop  bool
	code      int
	oomKilled bool // the engine's own report (a fresh container's)
	limits    limitMarks
}

// verdict turns what the collector made of a run's output into its result,
// given how its script ended: a run that outlived the backstop, hit the
// memory or process limit or filled the disk is not a test failure.
func (d *Executor) verdict(res executor.Result, e ending, sp spec) executor.Result {
	switch {
	case e.backstop:
		res.Status = executor.TimedOut
		res.Reason = fmt.Sprintf("the container ran past the run's timeout plus %s of setup and was killed: the run script itself hung (reset, patch or copy)", d.cfg.SetupGrace)
	case e.oomKilled || e.limits.oomKills > 0:
		res.Status = executor.Infra
		res.Reason = executor.OutOfMemoryReason + fmt.Sprintf("a process was killed at the run's memory limit of %d MiB (container exit %d); raise limits.memory_mb if the tests need more", sp.limits.MemoryMB, e.code)
	case e.limits.pidsMax > 0:
		res.Status = executor.Infra
		res.Reason = fmt.Sprintf("process limit reached: forks failed %d times at the run's limit of %d processes (a fork bomb, or tests that need more: raise limits.pids)", e.limits.pidsMax, sp.limits.PIDs)
	case diskFull(res.Reason) || diskFull(res.Output):
		res.Status = executor.Infra
		res.Reason = "the disk is full in the container (No space left on device): free space on the Docker engine's disk (docker system prune) and run again"
	case res.Status == executor.Infra && e.code != 0:
		res.Reason += fmt.Sprintf(" (container exit status %d)", e.code)
	}
	return res
}

// payload is what a sandbox reads on stdin for a run: the script that
// writes the stage and the container script into $BP_DIR, then runs the
// container script with stdin closed.
func (d *Executor) payload(st executor.Stage) []byte {
	return append(stageScript(st), fmt.Sprintf("exec /bin/sh %s </dev/null\n", executor.ShellQuote(stageDir+"/"+containerFile))...)
}

// stageScript is the script that writes the stage and the container script
// into $BP_DIR: the start of every run's payload.
func stageScript(st executor.Stage) []byte {
	st.Files = append(slices.Clip(st.Files), executor.StagedFile{Path: containerFile, Mode: 0o644, Data: []byte(containerScript)})
	return st.Script(stageDir)
}

// readReport copies $BP_DIR/report.xml out of the stopped container into
// the collector; a missing file is left to the collector's markers.
func (d *Executor) readReport(ctx context.Context, cid string, coll *executor.Collector) error {
	out, err := d.cli.CopyFromContainer(ctx, cid, client.CopyFromContainerOptions{SourcePath: stageDir + "/" + executor.ReportFile})
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return nil
		}
		return err
	}
	defer out.Content.Close()
	tr := tar.NewReader(out.Content)
	for {
		hdr, err := tr.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if hdr.Typeflag == tar.TypeReg {
			coll.ReadReport(io.LimitReader(tr, maxReportSize))
			return nil
		}
	}
}

// limitMarks are the container script's resource markers on stderr.
type limitMarks struct {
	pidsMax  int
	oomKills int
}

func (m *limitMarks) line(line []byte, _ bool) {
	marker, ok := strings.CutPrefix(string(line), "bestpatch:")
	if !ok {
		return
	}
	key, val, _ := strings.Cut(marker, "=")
	n, err := strconv.Atoi(strings.TrimSpace(val))
	if err != nil {
		return
	}
	switch key {
	case "pids-max":
		m.pidsMax = n
	case "oom-kill":
		m.oomKills = n
	}
}

func diskFull(s string) bool { return strings.Contains(s, "No space left on device") }
