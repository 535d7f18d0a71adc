package docker

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/bestpatch/bestpatch/executor"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
)

// workdirVolumes decides, once per image and workdir, whether runs get
// their workdir on a volume of their own (Config.WorkdirVolume;
// docs/DOCKER.md, "The workdir on a volume").
type workdirVolumes struct {
	mu    sync.Mutex
	isDir map[string]bool // image ID + workdir -> a directory in the image
}

// workdirMount is the mount that gives a container its own copy of the
// image's workdir: an anonymous volume (no source) that the engine fills
// from the image when the container is created, and removes with it
// (ContainerRemove's RemoveVolumes). Its git calls then read an ordinary
// file system instead of the storage driver (fuse-overlayfs here: git
// status 600 ms on the overlay, 40 ms on the volume). ok is false, and the
// workdir stays in the image's file system, when the option is off or the
// workdir is not a directory in the image (a missing path, a file, a
// symbolic link).
func (d *Executor) workdirMount(ctx context.Context, imageID, workdir string) (m mount.Mount, ok bool, err error) {
	if !d.cfg.WorkdirVolume {
		return mount.Mount{}, false, nil
	}
	key := imageID + "\x00" + workdir
	d.wd.mu.Lock()
	dir, known := d.wd.isDir[key]
	d.wd.mu.Unlock()
	if !known {
		if dir, err = d.imageDir(ctx, imageID, workdir); err != nil {
			return mount.Mount{}, false, err
		}
		d.wd.mu.Lock()
		d.wd.isDir[key] = dir
		d.wd.mu.Unlock()
		if !dir {
			d.log.Info("the workdir is not a directory in the image; runs keep it in the image's file system", "image", imageID, "workdir", workdir)
		}
	}
	if !dir {
		return mount.Mount{}, false, nil
	}
	// NoCopy false: the engine copies the image's directory into the
	// fresh volume. The volume's labels are set per container (withVolumeLabels).
	return mount.Mount{Type: mount.TypeVolume, Target: workdir, VolumeOptions: &mount.VolumeOptions{NoCopy: false}}, true, nil
}

// imageDir says whether p is a directory in image id (not a symbolic
// link).
func (d *Executor) imageDir(ctx context.Context, id, p string) (bool, error) {
	return d.lookInImage(ctx, id, p, func(cid string) (bool, error) {
		st, err := d.cli.ContainerStatPath(ctx, cid, client.ContainerStatPathOptions{Path: p})
		if err != nil {
			return false, err
		}
		return st.Stat.Mode.IsDir() && st.Stat.LinkTarget == "", nil
	})
}

// lookInImage answers a question about path p in image id with look, run
// on a container created from the image and never started: false when p
// is missing in the image.
func (d *Executor) lookInImage(ctx context.Context, id, p string, look func(container string) (bool, error)) (bool, error) {
	probe, err := d.createIdle(ctx, "bestpatch-probe-", id, nil)
	if err != nil {
		return false, fmt.Errorf("create a container of image %s to look at %s: %w", id, p, err)
	}
	defer d.removeNow(ctx, probe)
	ok, err := look(probe.id)
	switch {
	case cerrdefs.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("look at %s in image %s: %w", p, id, err)
	}
	return ok, nil
}

// createIdle creates a container of image id that is never started, with
// no network and no capabilities, named prefix plus a run ID: the engine
// does the work at create (a look at a path, the copy of the image's
// content into mounted volumes). The caller removes it (removeNow).
func (d *Executor) createIdle(ctx context.Context, prefix, id string, mounts []mount.Mount) (*sandbox, error) {
	sb := &sandbox{name: prefix + executor.NewRunID()}
	created, err := d.create(ctx, client.ContainerCreateOptions{
		Name: sb.name,
		Config: &container.Config{
			Image: id, Entrypoint: []string{"/bin/sh"}, Cmd: []string{"-c", ":"},
			NetworkDisabled: true, Labels: labels(d.owner, executor.NewRunID()),
		},
		HostConfig: &container.HostConfig{
			NetworkMode: "none", CapDrop: []string{"ALL"}, SecurityOpt: []string{"no-new-privileges"},
			Mounts: mounts,
		},
	})
	if err != nil {
		return nil, err
	}
	sb.id = created.ID
	if err := ctx.Err(); err != nil {
		d.removeNow(ctx, sb)
		return nil, err
	}
	return sb, nil
}

// withVolumeLabels returns host with the container's labels on each of its
// anonymous volumes, so that the volumes, like the containers, are known by
// owner (Sweep, Close). host itself is left as it is: specs are shared.
func withVolumeLabels(host *container.HostConfig, l map[string]string) *container.HostConfig {
	if !slices.ContainsFunc(host.Mounts, anonymousVolume) {
		return host
	}
	h := *host
	h.Mounts = slices.Clone(host.Mounts)
	for i, m := range h.Mounts {
		if !anonymousVolume(m) {
			continue
		}
		opts := mount.VolumeOptions{}
		if m.VolumeOptions != nil {
			opts = *m.VolumeOptions
		}
		opts.Labels = maps.Clone(l)
		h.Mounts[i].VolumeOptions = &opts
	}
	return &h
}

func anonymousVolume(m mount.Mount) bool { return m.Type == mount.TypeVolume && m.Source == "" }
