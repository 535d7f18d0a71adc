package docker

import (
	"context"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

func TestReadOnlyRefused(t *testing.T) {
	for _, tc := range []struct {
		path, want string // want: "" when the path may be mounted
	}{
		{"/usr/local/go", ""},
		{"/opt/miniconda3", ""},
		{"/testbedx", ""},
		{"usr/local/go", "absolute"},
		{"/usr/local/go/", "absolute, clean"},
		{"/usr/../etc", "clean"},
		{"/", "/testbed"},
		{"/testbed", "/testbed"},
		{"/testbed/vendor", "/testbed"},
		{"/tmp", "/tmp"},
		{"/tmp/bestpatch", "/tmp"},
		{"/proc/self", "/proc"},
		{"/dev", "/dev"},
	} {
		got := readOnlyRefused(tc.path, "/testbed")
		if (tc.want == "") != (got == "") || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("readOnlyRefused(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}

// An image that labels a path read-only gets it from a copy made once per
// engine, mounted read-only: the content is the image's, a run cannot
// write it, and a second backend (another process) uses the same copy.
func TestDockerReadOnlyPaths(t *testing.T) {
	d := newTestDocker(t, Config{})
	needImages(t, d, shOnlyImage)
	ctx := t.Context()
	// A labelled image made from sh-only, whose /opt/outside holds target.txt.
	c, err := d.cli.ContainerCreate(ctx, client.ContainerCreateOptions{Config: &container.Config{Image: shOnlyImage, Cmd: []string{"true"}, Labels: labels(d.owner, executor.NewRunID())}})
	if err != nil {
		t.Fatal(err)
	}
	image := "bestpatch/test-readonly:" + executor.NewRunID()[:8]
	_, err = d.cli.ContainerCommit(ctx, c.ID, client.ContainerCommitOptions{Reference: image, Changes: []string{"LABEL " + LabelReadOnlyPaths + `="/opt/outside /tmp/refused"`}})
	_, _ = d.cli.ContainerRemove(context.Background(), c.ID, client.ContainerRemoveOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	ins, err := d.cli.ImageInspect(ctx, image)
	if err != nil {
		t.Fatal(err)
	}
	copies := func() []string {
		list, err := d.cli.VolumeList(context.Background(), client.VolumeListOptions{Filters: make(client.Filters).Add("label", LabelReadOnlyOf+"="+ins.ID+":/opt/outside")})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, v := range list.Items {
			names = append(names, v.Name)
		}
		return names
	}
	t.Cleanup(func() {
		d.ready.drain() // a volume in use by a container cannot go
		for _, v := range copies() {
			_, _ = d.cli.VolumeRemove(context.Background(), v, client.VolumeRemoveOptions{Force: true})
		}
		_, _ = d.cli.ImageRemove(context.Background(), image, client.ImageRemoveOptions{Force: true})
	})

	check := `c=FAILED; [ "$(cat /opt/outside/target.txt)" = outside ] && c=PASSED
w=FAILED; touch /opt/outside/new 2>/dev/null || w=PASSED
m=FAILED; while read -r _ at _ opts _; do [ "$at" = /opt/outside ] && case ",$opts," in *,ro,*) m=PASSED ;; esac; done </proc/mounts
set -- "$c t::content" "$w t::not_writable" "$m t::mounted_ro"; ` + pytestSummary
	for i, dd := range []*Executor{d, newTestDocker(t, Config{})} {
		res := runOK(t, dd, executor.Run{Env: executor.Environment{Image: image}, Command: check, Format: executor.Pytest})
		for _, id := range []string{"t::content", "t::not_writable", "t::mounted_ro"} {
			if got := outcomes(res.Cases)[id]; got != "PASS" {
				t.Errorf("backend %d: %s: %s\n%s", i, id, got, res.Output)
			}
		}
	}
	// One copy and its marker: the second backend found the first's.
	if got := copies(); len(got) != 2 {
		t.Errorf("volumes %v, want one copy and its marker", got)
	}
}

// Sweep removes the read-only copies of an image the engine no longer has,
// markers included, and keeps those of an image it still has.
func TestDockerSweepReadOnlyCopies(t *testing.T) {
	d := newTestDocker(t, Config{})
	needImages(t, d, shOnlyImage)
	ctx := t.Context()
	// Two labelled images made from sh-only; the first is removed.
	image := func() (ref, id string) {
		c, err := d.cli.ContainerCreate(ctx, client.ContainerCreateOptions{Config: &container.Config{Image: shOnlyImage, Cmd: []string{"true"}, Labels: labels(d.owner, executor.NewRunID())}})
		if err != nil {
			t.Fatal(err)
		}
		ref = "bestpatch/test-readonly-sweep:" + executor.NewRunID()[:8]
		_, err = d.cli.ContainerCommit(ctx, c.ID, client.ContainerCommitOptions{Reference: ref, Changes: []string{"LABEL " + LabelReadOnlyPaths + "=/opt/outside"}})
		_, _ = d.cli.ContainerRemove(context.Background(), c.ID, client.ContainerRemoveOptions{Force: true})
		if err != nil {
			t.Fatal(err)
		}
		ins, err := d.cli.ImageInspect(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		runOK(t, d, executor.Run{Env: executor.Environment{Image: ref}, Command: "true", Format: executor.Pytest})
		return ref, ins.ID
	}
	copies := func(id string) []string {
		list, err := d.cli.VolumeList(context.Background(), client.VolumeListOptions{Filters: make(client.Filters).Add("label", LabelReadOnlyOf+"="+id+":/opt/outside")})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, v := range list.Items {
			names = append(names, v.Name)
		}
		return names
	}
	gone, goneID := image()
	kept, keptID := image()
	t.Cleanup(func() {
		d.ready.drain()
		for _, id := range []string{goneID, keptID} {
			for _, v := range copies(id) {
				_, _ = d.cli.VolumeRemove(context.Background(), v, client.VolumeRemoveOptions{Force: true})
			}
		}
		_, _ = d.cli.ImageRemove(context.Background(), kept, client.ImageRemoveOptions{Force: true})
	})
	if len(copies(goneID)) != 2 || len(copies(keptID)) != 2 {
		t.Fatalf("before: copies %v and %v, want a copy and its marker each", copies(goneID), copies(keptID))
	}
	d.ready.drain() // the containers made ahead mount the copies
	if _, err := d.cli.ImageRemove(ctx, gone, client.ImageRemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if got := copies(goneID); len(got) != 0 {
		t.Errorf("after Sweep: the removed image's copies %v are left", got)
	}
	if got := copies(keptID); len(got) != 2 {
		t.Errorf("after Sweep: the kept image's copies are %v, want a copy and its marker", got)
	}
}
