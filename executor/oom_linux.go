package executor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cgroupRoot is where the cgroup file systems are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// oomCounter reads the count of processes the kernel's OOM killer killed in
// this process's memory cgroup: "oom_kill" in memory.oom_control (cgroup v1,
// the processes of that cgroup itself) or memory.events (cgroup v2, that
// cgroup and those below it). A Local run's processes are in the cgroup of
// the process that runs them, so a count that grows during a run means one
// of them, or of a run beside it, was killed for memory: both are reported,
// since the kernel does not say which.
type oomCounter struct {
	file string // "" when there is nothing to read
}

// newOOMCounter finds this process's memory cgroup counter.
func newOOMCounter() (oomCounter, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return oomCounter{}, fmt.Errorf("read this process's cgroups: %w", err)
	}
	var v1, v2 string
	for line := range strings.Lines(string(b)) {
		f := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(f) != 3 {
			continue
		}
		switch {
		case f[0] == "0" && f[1] == "":
			v2 = filepath.Join(cgroupRoot, f[2], "memory.events")
		case strings.Contains(","+f[1]+",", ",memory,"):
			v1 = filepath.Join(cgroupRoot, "memory", f[2], "memory.oom_control")
		}
	}
	// A host with both (hybrid) has the memory controller on v1.
	for _, file := range []string{v1, v2} {
		if file == "" {
			continue
		}
		c := oomCounter{file: file}
		if _, ok := c.read(); ok {
			return c, nil
		}
	}
	return oomCounter{}, errors.New("no memory cgroup with an oom_kill count (memory.oom_control on cgroup v1, memory.events on v2) is readable for this process")
}

// read returns the count; ok is false when it cannot be read.
func (c oomCounter) read() (kills int64, ok bool) {
	if c.file == "" {
		return 0, false
	}
	b, err := os.ReadFile(c.file)
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
		if k == "oom_kill" {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
