//go:build unix && !linux

package executor

import (
	"errors"
	"syscall"
)

// waitExited returns at once: without /proc and waitid(WNOWAIT), cmd.Wait
// alone waits for the script.
func waitExited(int) error { return nil }

// killSession kills the run script's process group. Without /proc the rest
// of its session (timeout(1)'s group) cannot be found.
func killSession(sid int) { _ = syscall.Kill(-sid, syscall.SIGKILL) }

// oomCounter would read OOM kills from the memory cgroup, which only Linux has.
type oomCounter struct{ file string }

func newOOMCounter() (oomCounter, error) {
	return oomCounter{}, errors.New("OOM kills can only be watched on Linux (memory cgroups)")
}

func (oomCounter) read() (int64, bool) { return 0, false }
