package docker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/bestpatch/bestpatch/executor"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
	"golang.org/x/sync/singleflight"
)

// Labels of the read-only copies of image paths (docs/DOCKER.md,
// "Read-only paths").
const (
	// LabelReadOnlyPaths, on an image, names the paths its runs only read
	// (absolute, space-separated), such as a toolchain: every run mounts a
	// read-only copy of each, made from the image once per engine, instead
	// of reading them through the container's storage driver.
	LabelReadOnlyPaths = "dev.bestpatch.readonly-paths"
	// LabelReadOnlyOf, on a volume, holds the image ID and the path it is
	// a copy of ("sha256:...:/usr/local/go").
	LabelReadOnlyOf = "dev.bestpatch.readonly-of"
	// LabelReadOnlyVolume, on a marker volume, names the complete copy: a
	// marker is created only once its copy is made, so a copy cut short
	// (a crash) is never mounted.
	LabelReadOnlyVolume = "dev.bestpatch.readonly-volume"
)

// readOnlyCopies finds or makes the read-only copies of image paths.
type readOnlyCopies struct {
	mu      sync.Mutex
	byKey   map[string]string        // copy key -> volume name
	byImage map[string][]mount.Mount // image ID + workdir -> its mounts
	flight  singleflight.Group
}

// setup is what a run's container gets from its image besides the spec:
// the mounts of the image's read-only copies and workdir volume, and
// whether /tmp is in memory.
type setup struct {
	mounts []mount.Mount
	tmpfs  bool
}

// imageSetup inspects a run's image: a missing image is a permanent
// error; the workdir gets a volume of its own (workdirMount); the paths the
// image's label names become read-only mounts of their copies. A copy that
// cannot be made is logged and left out: the run then reads that path from
// the image, only slower (and the next run of the image tries again). /tmp
// is in memory where tmpInMemory says so (report: the run has a report file).
func (d *Executor) imageSetup(ctx context.Context, image, workdir string, report bool) (setup, error) {
	ins, err := d.cli.ImageInspect(ctx, image)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return setup{}, permanent(&imageMissingError{image: image, err: err})
		}
		return setup{}, err
	}
	mounts := d.readOnlyMounts(ctx, image, ins, workdir)
	wd, ok, err := d.workdirMount(ctx, ins.ID, workdir)
	if err != nil {
		return setup{}, err
	}
	if ok {
		mounts = append(slices.Clip(mounts), wd)
	}
	tmpfs, err := d.tmpInMemory(ctx, ins.ID, report)
	if err != nil {
		return setup{}, err
	}
	return setup{mounts: mounts, tmpfs: tmpfs}, nil
}

// readOnlyMounts are the read-only mounts of the copies of the paths the
// image's label names.
func (d *Executor) readOnlyMounts(ctx context.Context, image string, ins client.ImageInspectResult, workdir string) []mount.Mount {
	var label string
	if ins.Config != nil {
		label = ins.Config.Labels[LabelReadOnlyPaths]
	}
	if label == "" {
		return nil
	}
	known := ins.ID + "\x00" + workdir
	d.ro.mu.Lock()
	mounts, ok := d.ro.byImage[known]
	d.ro.mu.Unlock()
	if ok {
		return mounts
	}
	failed := false
	for _, p := range strings.Fields(label) {
		if why := readOnlyRefused(p, workdir); why != "" {
			d.log.Warn("image label names a path that cannot be read-only; ignored", "image", image, "label", LabelReadOnlyPaths, "path", p, "why", why)
			continue
		}
		vol, err := d.readOnlyCopy(ctx, ins.ID, p)
		if err != nil {
			d.log.Warn("cannot make the read-only copy of an image path; runs read it from the image", "image", image, "path", p, "err", err)
			failed = true
			continue
		}
		mounts = append(mounts, mount.Mount{Type: mount.TypeVolume, Source: vol, Target: p, ReadOnly: true, VolumeOptions: &mount.VolumeOptions{NoCopy: true}})
	}
	if !failed {
		d.ro.mu.Lock()
		d.ro.byImage[known] = mounts
		d.ro.mu.Unlock()
	}
	return mounts
}

// readOnlyRefused says why p cannot be mounted read-only over the image,
// or "" when it can: it must be absolute and clean, and neither hold nor
// sit in the repository, the run's inputs or the kernel's file systems.
func readOnlyRefused(p, workdir string) string {
	if !path.IsAbs(p) || path.Clean(p) != p {
		return "not an absolute, clean path"
	}
	within := func(a, b string) bool { return a == b || strings.HasPrefix(a, strings.TrimSuffix(b, "/")+"/") }
	for _, keep := range []string{workdir, "/tmp", "/proc", "/sys", "/dev"} {
		if within(p, keep) || within(keep, p) {
			return "it is, holds or sits in " + keep + ", which runs write or the kernel provides"
		}
	}
	return ""
}

// readOnlyCopy returns the volume holding a complete copy of path p in
// image id, making it once per engine.
func (d *Executor) readOnlyCopy(ctx context.Context, id, p string) (string, error) {
	sum := sha256.Sum256([]byte(id + "\x00" + p))
	key := hex.EncodeToString(sum[:8])
	d.ro.mu.Lock()
	vol, ok := d.ro.byKey[key]
	d.ro.mu.Unlock()
	if ok {
		return vol, nil
	}
	v, err, _ := d.ro.flight.Do(key, func() (any, error) {
		vol, err := d.makeReadOnlyCopy(ctx, key, id, p)
		if err == nil {
			d.ro.mu.Lock()
			d.ro.byKey[key] = vol
			d.ro.mu.Unlock()
		}
		return vol, err
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// makeReadOnlyCopy finds the copy a marker volume names, or makes one: a
// data volume filled by the engine's own copy of the image's content (a
// container created with the volume mounted at p, never started), then the
// marker that names it.
func (d *Executor) makeReadOnlyCopy(ctx context.Context, key, id, p string) (string, error) {
	marker := "bestpatch-ro-" + key
	if vol, ok, err := d.readOnlyMarker(ctx, marker); err != nil || ok {
		return vol, err
	}
	// A marker whose copy is gone (removed by hand) goes too.
	if _, err := d.cli.VolumeRemove(ctx, marker, client.VolumeRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
		return "", fmt.Errorf("remove volume %s, which names no copy: %w", marker, err)
	}
	data := marker + "-" + executor.NewRunID()[:8]
	of := map[string]string{LabelReadOnlyOf: id + ":" + p}
	if _, err := d.cli.VolumeCreate(ctx, client.VolumeCreateOptions{Name: data, Labels: of}); err != nil {
		return "", fmt.Errorf("create volume %s: %w", data, err)
	}
	drop := func() {
		_, _ = d.cli.VolumeRemove(context.WithoutCancel(ctx), data, client.VolumeRemoveOptions{Force: true})
	}
	// The engine copies the image's content into an empty volume when a
	// container that mounts it is created.
	fill, err := d.createIdle(ctx, "bestpatch-ro-fill-", id, []mount.Mount{{Type: mount.TypeVolume, Source: data, Target: p}})
	if err != nil {
		drop()
		return "", fmt.Errorf("fill volume %s from %s: %w", data, p, err)
	}
	d.removeNow(ctx, fill)
	markerLabels := map[string]string{LabelReadOnlyVolume: data, LabelReadOnlyOf: of[LabelReadOnlyOf]}
	if _, err := d.cli.VolumeCreate(ctx, client.VolumeCreateOptions{Name: marker, Labels: markerLabels}); err != nil {
		drop()
		return "", fmt.Errorf("create volume %s: %w", marker, err)
	}
	// Another process may have made its marker first: the marker decides.
	vol, ok, err := d.readOnlyMarker(ctx, marker)
	if err != nil || !ok {
		drop()
		return "", errors.Join(err, fmt.Errorf("volume %s names no copy", marker))
	}
	if vol != data {
		drop()
	}
	return vol, nil
}

// readOnlyMarker returns the copy a marker volume names, if the marker
// exists and its copy does too.
func (d *Executor) readOnlyMarker(ctx context.Context, marker string) (string, bool, error) {
	m, err := d.cli.VolumeInspect(ctx, marker, client.VolumeInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("inspect volume %s: %w", marker, err)
	}
	vol := m.Volume.Labels[LabelReadOnlyVolume]
	if vol == "" {
		return "", false, nil
	}
	if _, err := d.cli.VolumeInspect(ctx, vol, client.VolumeInspectOptions{}); err != nil {
		if cerrdefs.IsNotFound(err) {
			return "", false, nil
		}
		return "", false, fmt.Errorf("inspect volume %s: %w", vol, err)
	}
	return vol, true, nil
}

// sweepReadOnlyCopies removes the read-only copies (and their markers) of
// images the engine no longer has: each rebuild of an image would
// otherwise leave its copies behind (a Go toolchain's is about 250 MB).
// Markers go first, so that no process finds a marker whose copy is being
// removed; a copy still mounted is left to the next sweep.
func (d *Executor) sweepReadOnlyCopies(ctx context.Context) error {
	list, err := d.cli.VolumeList(ctx, client.VolumeListOptions{Filters: make(client.Filters).Add("label", LabelReadOnlyOf)})
	if err != nil {
		return fmt.Errorf("list the read-only copies of image paths: %w", err)
	}
	gone := map[string]bool{} // image ID -> the engine no longer has it
	imageGone := func(id string) (bool, error) {
		if g, ok := gone[id]; ok {
			return g, nil
		}
		_, err := d.cli.ImageInspect(ctx, id)
		switch {
		case cerrdefs.IsNotFound(err):
			gone[id] = true
		case err != nil:
			return false, err
		default:
			gone[id] = false
		}
		return gone[id], nil
	}
	var markers, copies []string
	var errs []error
	for _, v := range list.Items {
		id, _, ok := strings.Cut(v.Labels[LabelReadOnlyOf], ":/")
		if !ok {
			continue
		}
		g, err := imageGone(id)
		if err != nil {
			errs = append(errs, fmt.Errorf("inspect image %s of volume %s: %w", id, v.Name, err))
			continue
		}
		if !g {
			continue
		}
		if v.Labels[LabelReadOnlyVolume] != "" {
			markers = append(markers, v.Name)
		} else {
			copies = append(copies, v.Name)
		}
	}
	n := 0
	for _, name := range append(markers, copies...) {
		_, err := d.cli.VolumeRemove(ctx, name, client.VolumeRemoveOptions{})
		switch {
		case err == nil:
			n++
		case cerrdefs.IsNotFound(err) || cerrdefs.IsConflict(err):
			// Gone already, or still mounted.
		default:
			errs = append(errs, fmt.Errorf("remove volume %s, a read-only copy of a path of a removed image: %w", name, err))
		}
	}
	if n > 0 {
		d.log.Info("removed the read-only copies of images that are gone", "volumes", n)
	}
	return errors.Join(errs...)
}
