package local

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bestpatch/bestpatch/executor"
)

// scratchPrefix starts the name of every Local's scratch directory:
// bestpatch-local-<pid>-<start>-<host>-<random>. The owner is in the name,
// written in the same step that makes the directory, so a process killed at
// any moment leaves nothing that a sweep cannot attribute.
const scratchPrefix = "bestpatch-local-"

// scratchDir returns l's scratch directory under its temp dir, which holds
// every run's clone and inputs and the snapshots; Close removes it. The
// first call makes it, after sweeping the scratch directories of Locals
// whose processes are gone (killed with kill -9, say).
func (l *Executor) scratchDir() (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.scratch != "" {
		return l.scratch, nil
	}
	own, err := executor.NewOwner()
	if err != nil {
		return "", infraf("%v", err)
	}
	l.sweep(own.Host)
	dir, err := os.MkdirTemp(l.tempDir, fmt.Sprintf("%s%d-%s-%s-*", scratchPrefix, own.PID, own.Start, own.Host))
	if err != nil {
		return "", infraf("create the local executor's scratch directory: %v", err)
	}
	// Runs may be of another user's tests; nobody else needs to read them.
	if err := os.Chmod(dir, 0o700); err != nil {
		return "", infraf("restrict the local executor's scratch directory %s: %v", dir, err)
	}
	l.scratch = dir
	return dir, nil
}

// sweep removes the scratch directories in l's temp dir that Locals of
// processes no longer alive on this host left behind. Directories of live
// processes, of other hosts, and not named by a Local are left alone.
func (l *Executor) sweep(host string) {
	tmp := l.tempDir
	if tmp == "" {
		tmp = os.TempDir()
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		l.log.Warn("cannot list the temp dir to sweep the scratch directories of dead local executors", "dir", tmp, "err", err)
		return
	}
	for _, e := range entries {
		o, ok := parseScratchName(e.Name())
		if !ok || !e.IsDir() || !o.OrphanedOn(host) {
			continue
		}
		dir := filepath.Join(tmp, e.Name())
		if err := removeTree(dir); err != nil {
			l.log.Warn("cannot remove the scratch directory of a dead local executor", "dir", dir, "err", err)
			continue
		}
		l.log.Info("removed the scratch directory of a local executor whose process is gone", "dir", dir, "pid", o.PID)
	}
}

// parseScratchName reads the owner from a scratch directory's name.
func parseScratchName(name string) (executor.Owner, bool) {
	rest, ok := strings.CutPrefix(name, scratchPrefix)
	if !ok {
		return executor.Owner{}, false
	}
	f := strings.SplitN(rest, "-", 3)
	if len(f) != 3 {
		return executor.Owner{}, false
	}
	pid, err := strconv.Atoi(f[0])
	i := strings.LastIndexByte(f[2], '-')
	if err != nil || pid <= 0 || i <= 0 {
		return executor.Owner{}, false
	}
	return executor.Owner{Host: f[2][:i], PID: pid, Start: f[1]}, true
}
