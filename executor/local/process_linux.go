package local

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// waitExited blocks until process pid has exited without reaping it. While
// it is an unreaped zombie its pid, and so its session id, cannot be reused:
// the session's leftovers can be killed by id without hitting a stranger.
func waitExited(pid int) error {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// killSession kills every live process of session sid: the run script
// (started with Setsid, so its pid is the session id) and everything it
// started that did not call setsid itself, including the process group
// timeout(1) makes for the test command, which a kill of the script's own
// group would miss. It repeats until a scan finds nobody new, so a process
// forked during a scan is caught by the next one.
func killSession(sid int) {
	killed := map[int]bool{}
	for range 100 {
		fresh := 0
		for _, pid := range sessionMembers(sid) {
			if !killed[pid] {
				killed[pid] = true
				fresh++
			}
			_ = syscall.Kill(pid, syscall.SIGKILL) // it may be gone already
		}
		if fresh == 0 {
			return
		}
	}
}

// sessionMembers lists the processes of session sid that are not zombies,
// read from /proc.
func sessionMembers(sid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // exited meanwhile
		}
		// "pid (comm) state ppid pgrp session ...": comm may hold spaces
		// and parentheses, so the fields start after the last ')'.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(stat[i+1:])
		if len(f) < 4 || string(f[0]) == "Z" || string(f[0]) == "X" {
			continue
		}
		if s, err := strconv.Atoi(string(f[3])); err == nil && s == sid {
			pids = append(pids, pid)
		}
	}
	return pids
}
