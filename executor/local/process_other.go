//go:build unix && !linux

package local

import (
	"syscall"

	"github.com/bestpatch/bestpatch/executor"
)

// waitExited returns at once: without /proc and waitid(WNOWAIT), cmd.Wait
// alone waits for the script.
func waitExited(int) error { return nil }

// killSession kills the run script's process group. Without /proc the rest
// of its session (timeout(1)'s group) cannot be found.
func killSession(sid int) { _ = syscall.Kill(-sid, syscall.SIGKILL) }
