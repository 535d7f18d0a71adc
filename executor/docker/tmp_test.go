package docker

import (
	"testing"

	"github.com/bestpatch/bestpatch/executor"
)

// A run gets a fresh tmpfs at /tmp where the image's /tmp is empty: it can
// run a program from there, it is no bigger than the run's memory limit,
// and nothing an earlier run wrote there is left. Where the image keeps
// files in /tmp, the run sees them and /tmp stays in the image.
func TestDockerTmpInMemory(t *testing.T) {
	d := newTestDocker(t, Config{})
	needImages(t, d, shOnlyImage)
	// sh-only with a file in /tmp.
	kept, _ := derivedImage(t, d, "/tmp/keep", "kept\n")
	t.Cleanup(d.ready.drain)

	// Each check is a pytest-style line, so the outcomes say which failed.
	check := `fs=; opts=; while read -r _ at typ o _; do [ "$at" = /tmp ] && fs=$typ opts=$o; done </proc/mounts
m=FAILED; [ "$fs" = tmpfs ] && m=PASSED
s=FAILED; case ",$opts," in *,size=65536k,*) s=PASSED ;; esac
x=FAILED; cp /bin/true /tmp/prog && /tmp/prog && x=PASSED
l=FAILED; [ ! -e /tmp/left ] && l=PASSED; echo left >/tmp/left
k=FAILED; [ "$(cat /tmp/keep 2>/dev/null)" = kept ] && k=PASSED
set -- "$m t::tmpfs" "$s t::size" "$x t::exec" "$l t::fresh" "$k t::kept"; ` + pytestSummary
	tests := []struct {
		image string
		want  map[string]string
	}{
		{shOnlyImage, map[string]string{"t::tmpfs": "PASS", "t::size": "PASS", "t::exec": "PASS", "t::fresh": "PASS", "t::kept": "FAIL"}},
		{kept, map[string]string{"t::tmpfs": "FAIL", "t::size": "FAIL", "t::exec": "PASS", "t::fresh": "PASS", "t::kept": "PASS"}},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			for i := range 2 { // the second run must not see the first's file
				res := runOK(t, d, executor.Run{Env: executor.Environment{Image: tt.image, Limits: executor.Limits{MemoryMB: 64}}, Command: check, Format: executor.Pytest})
				got := outcomes(res.Cases)
				for id, want := range tt.want {
					if got[id] != want {
						t.Errorf("run %d: %s: %s, want %s\n%s", i, id, got[id], want, res.Output)
					}
				}
			}
		})
	}
}

// A run with a report file keeps /tmp in the image, without looking at the
// image: the report is read from the stopped container.
func TestTmpInMemoryReport(t *testing.T) {
	d := &Executor{}
	got, err := d.tmpInMemory(t.Context(), "sha256:none", true)
	if err != nil || got {
		t.Errorf("tmpInMemory with a report = %v, %v; want false, nil", got, err)
	}
}
