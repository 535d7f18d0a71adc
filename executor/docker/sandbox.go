package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// sandboxBoot is the command of every run's container. A container is made
// ahead of its run (docs/DOCKER.md, "Containers made ahead"): it resets the
// work tree at once, off the run's critical path, then waits for its run on
// stdin. What comes on stdin is the run's stage as a script (Stage.Script)
// that writes $BP_DIR and execs the container script with stdin closed, so
// the tests never read it. BP_CLEAN tells run.sh the tree is already reset.
const sandboxBoot = `if command -v git >/dev/null 2>&1 \
	&& git -c safe.directory='*' reset -q --hard >/dev/null 2>&1 \
	&& git -c safe.directory='*' clean -qfd >/dev/null 2>&1; then
	BP_CLEAN=1
	export BP_CLEAN
fi
exec /bin/sh -s
`

// containerFile is the container script's name in $BP_DIR.
const containerFile = "container.sh"

// sandbox is one started container waiting for the one run it is for: no
// sandbox ever runs twice.
type sandbox struct {
	id, name string
	att      client.HijackedResponse
	exited   chan waitOutcome // the engine's report of the container's exit
	stopWait context.CancelFunc
	made     time.Time
	// create and start are how long the engine took to make it.
	create, start time.Duration
}

type waitOutcome struct {
	code int64
	err  error
}

// makeSandbox creates a container of spec sp, attaches to its streams,
// starts it and returns it waiting for its run. On error nothing is left
// behind. (Run has inspected the image: a missing one is reported there.)
func (d *Executor) makeSandbox(ctx context.Context, sp spec) (sb *sandbox, err error) {
	id := executor.NewRunID()
	name := "bestpatch-" + id
	cfg := *sp.config
	cfg.Labels = labels(d.owner, id)
	if err := d.slots.pace(ctx); err != nil {
		return nil, err
	}
	step := time.Now()
	created, err := d.create(ctx, client.ContainerCreateOptions{Name: name, Config: &cfg, HostConfig: withVolumeLabels(sp.host, cfg.Labels)})
	if err != nil {
		return nil, fmt.Errorf("create container %s from %s: %w", name, cfg.Image, err)
	}
	sb = &sandbox{id: created.ID, name: name, create: time.Since(step)}
	defer func() {
		if err != nil {
			d.removeNow(ctx, sb)
		}
	}()
	if err := ctx.Err(); err != nil {
		return sb, err
	}
	att, err := d.cli.ContainerAttach(ctx, sb.id, client.ContainerAttachOptions{Stream: true, Stdin: true, Stdout: true, Stderr: true})
	if err != nil {
		return sb, fmt.Errorf("attach to container %s: %w", name, err)
	}
	sb.att = att.HijackedResponse
	// The wait lives as long as the container, not as ctx: removal ends it.
	wctx, stop := context.WithCancel(context.Background())
	sb.stopWait = stop
	waited := d.cli.ContainerWait(wctx, sb.id, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	sb.exited = make(chan waitOutcome, 1)
	go func() {
		// Buffered: nobody may be reading when the container exits (a
		// sandbox removed unused).
		select {
		case w := <-waited.Result:
			o := waitOutcome{code: w.StatusCode}
			if w.Error != nil && w.Error.Message != "" {
				o.err = errors.New(w.Error.Message)
			}
			sb.exited <- o
		case err := <-waited.Error:
			sb.exited <- waitOutcome{err: err}
		}
	}()
	step = time.Now()
	if _, err := d.cli.ContainerStart(ctx, sb.id, client.ContainerStartOptions{}); err != nil {
		return sb, fmt.Errorf("start container %s: %w", name, err)
	}
	sb.start = time.Since(step)
	sb.made = time.Now()
	return sb, nil
}

// create creates a container, letting the engine finish even when ctx
// ends meanwhile (bounded by removeTimeout): an abandoned create request
// can still make the container after the caller looked for it, which then
// outlives every clean-up; finished, it is known and the caller removes it.
func (d *Executor) create(ctx context.Context, opts client.ContainerCreateOptions) (client.ContainerCreateResult, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
	defer cancel()
	return d.cli.ContainerCreate(cctx, opts)
}

// removeNow removes a sandbox's container, with a context of its own so
// that it happens even when ctx is cancelled.
func (d *Executor) removeNow(ctx context.Context, sb *sandbox) {
	if sb.att.Conn != nil {
		sb.att.Close()
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
	defer cancel()
	if _, err := d.cli.ContainerRemove(rctx, sb.id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !cerrdefs.IsNotFound(err) {
		d.log.Error("cannot remove container; the next Sweep will", "container", sb.name, "err", err)
	}
	if sb.stopWait != nil {
		sb.stopWait()
	}
}

// send writes a run's stage to a container's stdin, then, when closeWrite,
// closes it: a fresh container's script then runs (a reused container's
// keeper reads on). A write that fails is reported on the returned channel.
func send(att client.HijackedResponse, script []byte, closeWrite bool) <-chan error {
	sent := make(chan error, 1)
	go func() {
		_, err := att.Conn.Write(script)
		if closeWrite {
			if cerr := att.CloseWrite(); err == nil {
				err = cerr
			}
		}
		sent <- err
	}()
	return sent
}

// stream copies a fresh container's output until its streams close.
func stream(att client.HijackedResponse, stdout, stderr io.Writer) <-chan error {
	copied := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(stdout, stderr, att.Reader)
		copied <- err
	}()
	return copied
}

// removeUnstarted removes this backend's containers that were created and
// never started: ones the engine made after their create request was
// abandoned (a cancelled context), which no run knows; then its volumes
// that no container uses.
func (d *Executor) removeUnstarted() {
	ctx, cancel := context.WithTimeout(context.Background(), removeTimeout)
	defer cancel()
	list, err := d.cli.ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", LabelOwner+"="+d.owner.String()).Add("status", "created"),
	})
	if err != nil {
		d.log.Warn("cannot list containers left unstarted; the next Sweep removes them", "err", err)
		return
	}
	for _, c := range list.Items {
		d.removeNow(ctx, &sandbox{id: c.ID, name: c.ID})
	}
	// Volumes no container of this backend uses any more (a create that
	// failed after making its workdir volume).
	own := make(client.Filters).Add("label", LabelOwner+"="+d.owner.String()).Add("dangling", "true")
	if err := d.removeVolumes(ctx, own, func(map[string]string) bool { return true }); err != nil {
		d.log.Warn("cannot remove this backend's unused volumes; the next Sweep removes them", "err", err)
	}
}
