package executor

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// owner identifies the process (and the backend value in it) that creates
// containers or scratch directories, so that a later process can tell its
// leftovers from those of processes still running.
type owner struct {
	host     string
	pid      int
	start    string // "" where /proc is not available
	instance string
}

func newOwner() (owner, error) {
	host, err := os.Hostname()
	if err != nil {
		return owner{}, fmt.Errorf("read the host name to label what this process creates: %w", err)
	}
	pid := os.Getpid()
	return owner{host: host, pid: pid, start: processStart(pid), instance: newRunID()}, nil
}

func (o owner) String() string {
	return o.host + "/" + strconv.Itoa(o.pid) + "/" + o.instance
}

// parseOwner reads a LabelOwner value; ok is false for a malformed one.
func parseOwner(label, start string) (o owner, ok bool) {
	host, rest, ok1 := strings.Cut(label, "/")
	pidStr, instance, ok2 := strings.Cut(rest, "/")
	pid, err := strconv.Atoi(pidStr)
	if !ok1 || !ok2 || err != nil || pid <= 0 || host == "" {
		return owner{}, false
	}
	return owner{host: host, pid: pid, start: start, instance: instance}, true
}

// orphanedOn reports whether what o created is an orphan as seen from host:
// o ran on this host and its process is gone (or its PID now belongs to a
// younger process). What other hosts created is never an orphan here: their
// owners cannot be checked from this host.
func (o owner) orphanedOn(host string) bool {
	if o.host != host {
		return false
	}
	if !processAlive(o.pid) {
		return true
	}
	now := processStart(o.pid)
	return o.start != "" && now != "" && now != o.start
}

// processAlive reports whether a process with this PID exists (possibly
// owned by another user) and is not a zombie: a killed owner that its parent
// has not reaped yet is dead all the same.
func processAlive(pid int) bool {
	if f := procStat(pid); f != nil {
		return f[0] != "Z" && f[0] != "X"
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

// processStart returns a process's start time in clock ticks since boot
// (field 22 of /proc/PID/stat), or "" where that cannot be read.
func processStart(pid int) string {
	if f := procStat(pid); f != nil {
		return f[19]
	}
	return ""
}

// procStat returns the fields of /proc/PID/stat from field 3 (the state)
// on, or nil where there is no such process or no /proc.
func procStat(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return nil
	}
	// fields[0] is field 3 (state), so field 22 (start time) is fields[19].
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 20 {
		return nil
	}
	return fields
}
