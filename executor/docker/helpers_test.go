package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"log/slog"
	"os/exec"
	"path"
	"testing"

	"github.com/bestpatch/bestpatch/executor"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// The test images, built offline by testdata/images/build.sh (make images).
const (
	goImage    = "bestpatch/go-uuid:latest" // github.com/google/uuid v1.6.0 at /testbed
	goModule   = "github.com/google/uuid"
	sympyImage = "bestpatch/sympy:latest" // Debian's sympy as the repository at /testbed
	// Debian without bash, a small repository at /testbed with links to
	// /opt/outside (testdata/images/build.sh sh-only).
	shOnlyImage = "bestpatch/sh-only:latest"
)

// newTestDocker returns a Docker backend on the engine of the environment,
// or skips the test when no engine answers. At the end of the test it
// checks that no container or volume of this backend is left.
func newTestDocker(t testing.TB, cfg Config) *Executor {
	t.Helper()
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	d, err := New(t.Context(), cfg)
	if err != nil {
		if engineUnreachable(err) {
			t.Skipf("no Docker engine answers, so the Docker tests cannot run: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Close removes the containers made ahead and waits for the
		// removals under way. (The client still answers after Close: it
		// only drops idle connections.)
		d.Close()
		for _, c := range ownedContainers(t, d) {
			t.Errorf("container left behind: %v (%s)", c.Names, c.State)
			_, _ = d.cli.ContainerRemove(context.Background(), c.ID, client.ContainerRemoveOptions{Force: true})
		}
		for _, v := range ownedVolumes(t, d) {
			t.Errorf("volume left behind: %s", v.Name)
			_, _ = d.cli.VolumeRemove(context.Background(), v.Name, client.VolumeRemoveOptions{Force: true})
		}
	})
	return d
}

// leftBehind lists this backend's containers once the ones made ahead for
// later runs are removed and every removal under way has ended: what the
// runs so far left behind.
func leftBehind(t testing.TB, d *Executor) []container.Summary {
	t.Helper()
	d.ready.drain()
	return ownedContainers(t, d)
}

// drain removes a pool's idle containers and waits for every make and
// removal under way, until none is left idle; the pool stays open.
func (p *pool[T]) drain() {
	for {
		p.settle()
		p.mu.Lock()
		left := p.takeAll()
		busy := len(p.making) > 0
		p.mu.Unlock()
		if len(left) == 0 && !busy {
			return
		}
		for _, v := range left {
			p.cfg.remove(context.Background(), v)
		}
	}
}

// waiting lists the idle containers.
func (p *pool[T]) waiting() []T {
	p.mu.Lock()
	defer p.mu.Unlock()
	var all []T
	for _, list := range p.idle {
		for _, one := range list {
			all = append(all, one.v)
		}
	}
	return all
}

// ownedContainers lists the containers this backend value created.
func ownedContainers(t testing.TB, d *Executor) []container.Summary {
	t.Helper()
	list, err := d.cli.ContainerList(context.Background(), client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", LabelOwner+"="+d.owner.String()),
	})
	if err != nil {
		t.Fatalf("list containers: %v", err)
	}
	return list.Items
}

// needImages builds the test images (cached; quick when they exist) if
// one of refs is missing.
func needImages(t testing.TB, d *Executor, refs ...string) {
	t.Helper()
	for _, ref := range refs {
		_, err := d.cli.ImageInspect(t.Context(), ref)
		if err == nil {
			continue
		}
		if !cerrdefs.IsNotFound(err) {
			t.Fatalf("inspect image %s: %v", ref, err)
		}
		t.Logf("image %s is missing: building the test images with testdata/images/build.sh (make images)", ref)
		out, err := exec.CommandContext(t.Context(), "../testdata/images/build.sh", "all").CombinedOutput()
		if err != nil {
			t.Fatalf("testdata/images/build.sh all: %v\n%s", err, out)
		}
		if _, err := d.cli.ImageInspect(t.Context(), ref); err != nil {
			t.Fatalf("image %s still missing after testdata/images/build.sh: %v", ref, err)
		}
	}
}

// runOK runs r and fails the test on an error.
func runOK(t *testing.T, d *Executor, r executor.Run) executor.Result {
	t.Helper()
	res, err := d.Run(t.Context(), r)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Logf("%s in %s: %s %s", r.Env.Image, res.Duration, res.Status, res.Reason)
	return res
}

// outcomes maps case IDs to outcome names, for comparisons.
func outcomes(cases []executor.Case) map[string]string {
	m := map[string]string{}
	for _, c := range cases {
		m[c.ID] = c.Outcome.String()
	}
	return m
}

// derivedImage commits a container of sh-only as a new image, with the
// Dockerfile changes given and, when file is not empty, that file (an
// absolute path) holding content; the image is removed when the test ends
// (after the cleanups registered later). It returns its reference and ID.
func derivedImage(t *testing.T, d *Executor, file, content string, changes ...string) (ref, id string) {
	t.Helper()
	ctx := t.Context()
	c, err := d.cli.ContainerCreate(ctx, client.ContainerCreateOptions{Config: &container.Config{Image: shOnlyImage, Cmd: []string{"true"}, Labels: labels(d.owner, executor.NewRunID())}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		_, _ = d.cli.ContainerRemove(context.Background(), c.ID, client.ContainerRemoveOptions{Force: true})
	}()
	if file != "" {
		if _, err := d.cli.CopyToContainer(ctx, c.ID, client.CopyToContainerOptions{DestinationPath: path.Dir(file), Content: tarOf(t, path.Base(file), content)}); err != nil {
			t.Fatal(err)
		}
	}
	ref = "bestpatch/test-derived:" + executor.NewRunID()[:8]
	if _, err := d.cli.ContainerCommit(ctx, c.ID, client.ContainerCommitOptions{Reference: ref, Changes: changes}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = d.cli.ImageRemove(context.Background(), ref, client.ImageRemoveOptions{Force: true}) })
	ins, err := d.cli.ImageInspect(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	return ref, ins.ID
}

// tarOf is an archive of one file, name, holding content.
func tarOf(t *testing.T, name, content string) io.Reader {
	t.Helper()
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	if err := w.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content))}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, content); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return &b
}

// copyVolumes lists the volumes of image id's read-only copy of p: the
// copy and its marker.
func copyVolumes(t testing.TB, d *Executor, id, p string) []string {
	t.Helper()
	list, err := d.cli.VolumeList(context.Background(), client.VolumeListOptions{Filters: make(client.Filters).Add("label", LabelReadOnlyOf+"="+id+":"+p)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range list.Items {
		names = append(names, v.Name)
	}
	return names
}

// removeReadOnlyCopies removes image id's read-only copies of p, once no
// container made ahead mounts them.
func removeReadOnlyCopies(d *Executor, t testing.TB, id, p string) {
	d.ready.drain() // a volume in use by a container cannot go
	for _, v := range copyVolumes(t, d, id, p) {
		_, _ = d.cli.VolumeRemove(context.Background(), v, client.VolumeRemoveOptions{Force: true})
	}
}
