package docker

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/executortest"
	"github.com/moby/moby/api/types/volume"
	"github.com/moby/moby/client"
)

// workdirProbe is a run's command that reports, as pytest cases, whether
// its workdir is a mount of its own (t::mounted), whether a file an earlier
// run wrote there is absent (t::fresh), and whether the repository is the
// image's (t::tree: git sees no change), then writes that file.
func workdirProbe(workdir string) string {
	return fmt.Sprintf(`m=FAILED; grep -q ' %[1]s ' /proc/self/mountinfo && m=PASSED
f=PASSED; [ -e %[1]s/bp_marker ] && f=FAILED
g=PASSED; [ -d %[1]s/.git ] && [ -n "$(git -c safe.directory='*' status --porcelain 2>&1)" ] && g=FAILED
touch %[1]s/bp_marker
`, workdir) + executortest.Summary(`$m t::mounted`, `$f t::fresh`, `$g t::tree`)
}

// With WorkdirVolume each run's workdir is a volume of its own, a copy of
// the image's: a separate mount, fresh for every run (a file one run writes is
// absent in the next), the repository unchanged; by default, or
// when the image has no such directory (the run then fails as it always
// did: no repository), the workdir stays in the image. No
// volume is left after the runs nor after Close (newTestDocker).
func TestDockerWorkdirVolume(t *testing.T) {
	for _, tc := range []struct {
		name        string
		cfg         Config
		workdir     string
		wantMounted bool
		wantInfra   string // the run fails so, as without a volume
	}{
		{name: "WorkdirVolume", cfg: Config{WorkdirVolume: true}, wantMounted: true},
		{name: "default", cfg: Config{}},
		{name: "no such directory in the image", cfg: Config{WorkdirVolume: true}, workdir: "/bp-nowhere", wantInfra: "not a git repository: /bp-nowhere"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDocker(t, tc.cfg)
			needImages(t, d, shOnlyImage)
			wd := tc.workdir
			if wd == "" {
				wd = DefaultWorkdir
			}
			run := executor.Run{
				Env:     executor.Environment{Image: shOnlyImage, Workdir: tc.workdir},
				Command: workdirProbe(wd),
				Format:  executor.Pytest,
				Timeout: time.Minute,
			}
			want := fmt.Sprint(map[string]string{"t::mounted": map[bool]string{true: "PASS", false: "FAIL"}[tc.wantMounted], "t::fresh": "PASS", "t::tree": "PASS"})
			for i := range 3 {
				res := runOK(t, d, run)
				if tc.wantInfra != "" {
					if res.Status != executor.Infra || !strings.Contains(res.Reason, tc.wantInfra) {
						t.Fatalf("run %d: status %s (%s), want infra: %s", i, res.Status, res.Reason, tc.wantInfra)
					}
					continue
				}
				if got := fmt.Sprint(outcomes(res.Cases)); res.Status != executor.Completed || got != want {
					t.Fatalf("run %d: status %s (%s) cases %s, want completed with %s\n%s", i, res.Status, res.Reason, got, want, res.Output)
				}
			}
			// The containers made ahead wait with their volumes, labelled
			// as they are.
			d.ready.settle()
			if c, v := len(ownedContainers(t, d)), len(ownedVolumes(t, d)); tc.wantMounted && (c == 0 || v != c) || !tc.wantMounted && v != 0 {
				t.Errorf("%d containers made ahead and %d volumes of this backend, want as many volumes as containers (%v)", c, v, tc.wantMounted)
			}
			if left := leftBehind(t, d); len(left) > 0 {
				t.Errorf("containers left after the runs: %d", len(left))
			}
			if left := ownedVolumes(t, d); len(left) > 0 {
				t.Errorf("volumes left after the runs: %d", len(left))
			}
		})
	}
}

// imageDir tells a directory of the image from a file, a link and a path
// the image does not have.
func TestDockerImageDir(t *testing.T) {
	d := newTestDocker(t, Config{})
	needImages(t, d, shOnlyImage)
	ins, err := d.cli.ImageInspect(t.Context(), shOnlyImage)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{"/testbed": true, "/etc": true, "/etc/passwd": false, "/bin/sh": false, "/bin": false, "/bp-nowhere": false} {
		got, err := d.imageDir(t.Context(), ins.ID, p)
		if err != nil || got != want {
			t.Errorf("imageDir(%s) = %v, %v; want %v", p, got, err, want)
		}
	}
}

// ownedVolumes lists the volumes of this backend value's containers.
func ownedVolumes(t testing.TB, d *Executor) []volume.Volume {
	t.Helper()
	list, err := d.cli.VolumeList(context.Background(), client.VolumeListOptions{
		Filters: make(client.Filters).Add("label", LabelOwner+"="+d.owner.String()),
	})
	if err != nil {
		t.Fatalf("list volumes: %v", err)
	}
	return list.Items
}
