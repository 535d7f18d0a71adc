package docker

import (
	"context"
	"log/slog"
	"os/exec"
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
