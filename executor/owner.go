package executor

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Owner identifies the process (and the backend value in it) that creates
// containers or scratch directories, so that a later process can tell its
// leftovers from those of processes still running. Both backends label
// what they make with it.
type Owner struct {
	Host     string
	PID      int
	Start    string // "" where /proc is not available
	Instance string
}

// NewOwner identifies this process, with a fresh instance for one backend
// value.
func NewOwner() (Owner, error) {
	host, err := os.Hostname()
	if err != nil {
		return Owner{}, fmt.Errorf("read the host name to label what this process creates: %w", err)
	}
	pid := os.Getpid()
	return Owner{Host: host, PID: pid, Start: ProcessStart(pid), Instance: NewRunID()}, nil
}

// String is the owner as a label: HOST/PID/INSTANCE (ParseOwner reads it).
func (o Owner) String() string {
	return o.Host + "/" + strconv.Itoa(o.PID) + "/" + o.Instance
}

// ParseOwner reads what String wrote, with the start time labelled beside
// it; ok is false for a malformed label.
func ParseOwner(label, start string) (o Owner, ok bool) {
	host, rest, ok1 := strings.Cut(label, "/")
	pidStr, instance, ok2 := strings.Cut(rest, "/")
	pid, err := strconv.Atoi(pidStr)
	if !ok1 || !ok2 || err != nil || pid <= 0 || host == "" {
		return Owner{}, false
	}
	return Owner{Host: host, PID: pid, Start: start, Instance: instance}, true
}

// OrphanedOn reports whether what o created is an orphan as seen from host:
// o ran on this host and its process is gone (or its PID now belongs to a
// younger process). What other hosts created is never an orphan here: their
// owners cannot be checked from this host.
func (o Owner) OrphanedOn(host string) bool {
	if o.Host != host {
		return false
	}
	if !processAlive(o.PID) {
		return true
	}
	now := ProcessStart(o.PID)
	return o.Start != "" && now != "" && now != o.Start
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

// ProcessStart returns a process's start time in clock ticks since boot
// (field 22 of /proc/PID/stat), or "" where that cannot be read.
func ProcessStart(pid int) string {
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

// NewRunID names one run's container or cgroup: unique across runs, hosts
// and restarts.
func NewRunID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
