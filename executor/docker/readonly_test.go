package docker

import (
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor"
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
	// A labelled image made from sh-only, whose /opt/outside holds target.txt.
	image, imageID := derivedImage(t, d, "", "", "LABEL "+LabelReadOnlyPaths+`="/opt/outside /tmp/refused"`)
	t.Cleanup(func() { removeReadOnlyCopies(d, t, imageID, "/opt/outside") })

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
	if got := copyVolumes(t, d, imageID, "/opt/outside"); len(got) != 2 {
		t.Errorf("volumes %v, want one copy and its marker", got)
	}
}

// Sweep removes the read-only copies of an image the engine no longer has,
// markers included, and keeps those of an image it still has.
func TestDockerSweepReadOnlyCopies(t *testing.T) {
	d := newTestDocker(t, Config{})
	needImages(t, d, shOnlyImage)
	ctx := t.Context()
	// Two labelled images made from sh-only, each run once; the first is
	// removed.
	image := func() (ref, id string) {
		ref, id = derivedImage(t, d, "", "", "LABEL "+LabelReadOnlyPaths+"=/opt/outside")
		t.Cleanup(func() { removeReadOnlyCopies(d, t, id, "/opt/outside") })
		runOK(t, d, executor.Run{Env: executor.Environment{Image: ref}, Command: "true", Format: executor.Pytest})
		return ref, id
	}
	copies := func(id string) []string { return copyVolumes(t, d, id, "/opt/outside") }
	gone, goneID := image()
	_, keptID := image()
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
