package local

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/executortest"
)

func TestLocalHostilePatches(t *testing.T) {
	l, _ := newTestLocal(t)
	outside := t.TempDir()
	executortest.WriteFiles(t, outside, map[string]string{"target.txt": "outside\n"})
	repo := executortest.HostileRepo(t, outside)
	for _, tc := range executortest.HostilePatches("bash", executor.MaxPatchBytes) {
		t.Run(tc.Name, func(t *testing.T) {
			res, err := l.Run(t.Context(), executor.Run{
				Env: executor.Environment{Repo: repo}, Patch: tc.Patch, TestFiles: []string{"*_test.go"},
				Command: executortest.HostileCheck(outside), Format: executor.Pytest, Timeout: time.Minute,
			})
			if err != nil {
				t.Fatal(err)
			}
			executortest.CheckHostile(t, tc, string(res.Status), res.Reason, res.Output, res.Restored, outcomes(res.Cases))
			entries, _ := os.ReadDir(outside)
			if b, _ := os.ReadFile(filepath.Join(outside, "target.txt")); len(entries) != 1 || string(b) != "outside\n" {
				t.Errorf("the directory outside the repository changed: %d entries, target.txt %q", len(entries), b)
			}
		})
	}
}
