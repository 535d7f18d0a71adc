package docker

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bestpatch/bestpatch/executor"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// Labels on every container of the Docker backend. Sweep acts only on
// containers that carry LabelOwner.
const (
	// LabelRun holds the run's ID (the container is named bestpatch-<ID>).
	LabelRun = "dev.bestpatch.run"
	// LabelOwner holds "HOST/PID/INSTANCE": the host name, the process ID
	// and the random ID of the Docker value that created the container.
	LabelOwner = "dev.bestpatch.owner"
	// LabelOwnerStart holds the owner process's start time (clock ticks
	// since boot, from /proc), so that a reused PID is not taken for the
	// owner still alive.
	LabelOwnerStart = "dev.bestpatch.owner.start"
)

// labels are the labels of run's container made by o.
func labels(o executor.Owner, run string) map[string]string {
	l := map[string]string{LabelRun: run, LabelOwner: o.String()}
	if o.Start != "" {
		l[LabelOwnerStart] = o.Start
	}
	return l
}

// Sweep removes the containers that this project's labels mark as orphaned:
// created on this host by a process that is no longer alive (a daemon that
// crashed or was killed before its deferred removals ran). Containers of
// live processes, of other hosts, and without the project's owner label are
// never touched. It also removes the read-only copies of image paths whose
// image is gone (docs/DOCKER.md, "Read-only paths"). It returns the names
// of the containers removed.
func (d *Executor) Sweep(ctx context.Context) ([]string, error) {
	list, err := d.cli.ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", LabelOwner),
	})
	if err != nil {
		return nil, unreachable(d.cli.DaemonHost(), err)
	}
	var removed []string
	var errs []error
	for _, c := range list.Items {
		o, ok := executor.ParseOwner(c.Labels[LabelOwner], c.Labels[LabelOwnerStart])
		if !ok || !o.OrphanedOn(d.owner.Host) {
			continue
		}
		name := c.ID
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		_, err := d.cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		switch {
		case err == nil:
			removed = append(removed, name)
		case cerrdefs.IsNotFound(err) || cerrdefs.IsConflict(err):
			// Gone already, or being removed by the engine.
		default:
			errs = append(errs, fmt.Errorf("remove orphaned container %s (owner %s): %w", name, c.Labels[LabelOwner], err))
		}
	}
	errs = append(errs, d.removeVolumes(ctx, make(client.Filters).Add("label", LabelOwner), func(l map[string]string) bool {
		o, ok := executor.ParseOwner(l[LabelOwner], l[LabelOwnerStart])
		return ok && o.OrphanedOn(d.owner.Host)
	}), d.sweepReadOnlyCopies(ctx))
	return removed, errors.Join(errs...)
}

// removeVolumes removes the volumes that filter lists and orphaned says
// yes to: the workdir volumes (Config.WorkdirVolume) that removed containers
// left, as when a container was removed without its volumes or its create
// failed half-way. A volume still in use is left to its container.
func (d *Executor) removeVolumes(ctx context.Context, filter client.Filters, orphaned func(labels map[string]string) bool) error {
	list, err := d.cli.VolumeList(ctx, client.VolumeListOptions{Filters: filter})
	if err != nil {
		return fmt.Errorf("list the volumes of bestpatch's containers: %w", err)
	}
	var errs []error
	n := 0
	for _, v := range list.Items {
		if !orphaned(v.Labels) {
			continue
		}
		_, err := d.cli.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{})
		switch {
		case err == nil:
			n++
		case cerrdefs.IsNotFound(err) || cerrdefs.IsConflict(err):
			// Gone already, or in use by a container that still exists.
		default:
			errs = append(errs, fmt.Errorf("remove orphaned volume %s (owner %s): %w", v.Name, v.Labels[LabelOwner], err))
		}
	}
	if n > 0 {
		d.log.Info("removed orphaned volumes", "count", n)
	}
	return errors.Join(errs...)
}
