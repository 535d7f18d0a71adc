package docker

import (
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/executortest"
)

// The same hostile patches in a container of an image without bash: the
// refusals hold, links in the image's repository are seen, and the tests run
// with sh.
func TestDockerHostilePatches(t *testing.T) {
	d := newTestDocker(t, Config{})
	needImages(t, d, shOnlyImage)
	for _, tc := range executortest.HostilePatches("sh", executor.MaxPatchBytes) {
		t.Run(tc.Name, func(t *testing.T) {
			res := runOK(t, d, executor.Run{
				Env: executor.Environment{Image: shOnlyImage}, Patch: tc.Patch, TestFiles: []string{"*_test.go"},
				Command: executortest.HostileCheck("/opt/outside"), Format: executor.Pytest, Timeout: time.Minute,
			})
			executortest.CheckHostile(t, tc, string(res.Status), res.Reason, res.Output, res.Restored, outcomes(res.Cases))
		})
	}
}
