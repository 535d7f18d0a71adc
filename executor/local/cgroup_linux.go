package local

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bestpatch/bestpatch/executor"
)

// runCgroupPrefix starts the name of every run's memory cgroup:
// bestpatch-run-<pid>-<start>-<random>, the owner's PID and start time, so
// that a later Local can remove the ones a killed process left.
const runCgroupPrefix = "bestpatch-run-"

// runCgroups makes a memory cgroup of its own for each Local run, so that an
// OOM kill is attributed to the run whose process the kernel killed and to
// nothing else. The counter of the cgroup bestpatch itself runs in is no
// evidence: other processes share it (a shell, a CI runner, the whole
// machine), and any of them being killed would mark a run infra.
//
// Run cgroups are made below this process's own memory cgroup: on cgroup v1
// when its directory is writable (root, or a directory chowned to bestpatch's
// user); on cgroup v2 when the memory controller can be handed to its
// children (a delegated cgroup, e.g. systemd's Delegate=yes, where bestpatch
// is alone: it then moves itself into a leaf child, as container runtimes
// do, because v2 lets only cgroups without processes of their own have
// controlled children). The zero value makes none.
type runCgroups struct {
	parent string // where run cgroups are made; "" when they cannot be
	v2     bool
	prefix string // runCgroupPrefix plus this process's PID and start time
}

// runCgroup is the memory cgroup of one run.
type runCgroup struct {
	dir string
	v2  bool
}

// newRunCgroups finds where this process can make run cgroups, checking that
// it can by making and removing one, and removes the run cgroups of
// processes that are gone. It fails, saying why, when none can be made.
func newRunCgroups() (runCgroups, error) {
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return runCgroups{}, fmt.Errorf("read this process's cgroups: %w", err)
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return runCgroups{}, fmt.Errorf("read this process's mounts: %w", err)
	}
	dir, v2, err := memoryCgroupDir(string(self), string(mounts))
	if err != nil {
		return runCgroups{}, err
	}
	if v2 {
		if err := delegateMemory(dir); err != nil {
			return runCgroups{}, err
		}
	}
	pid := os.Getpid()
	c := runCgroups{parent: dir, v2: v2, prefix: fmt.Sprintf("%s%d-%s-", runCgroupPrefix, pid, executor.ProcessStart(pid))}
	c.sweep()
	probe, err := c.make()
	if err != nil {
		return runCgroups{}, err
	}
	if _, err := probe.oomKills(); err != nil {
		_ = probe.remove()
		return runCgroups{}, err
	}
	if err := probe.remove(); err != nil {
		return runCgroups{}, err
	}
	return c, nil
}

// memoryCgroupDir returns the directory of this process's memory cgroup
// from /proc/self/cgroup and /proc/self/mountinfo, and whether it is on
// cgroup v2. A memory controller on v1 takes precedence: it cannot be on
// both, and on a hybrid host v2 then has none.
func memoryCgroupDir(cgroups, mountinfo string) (dir string, v2 bool, err error) {
	var v1Path, v2Path string
	for line := range strings.Lines(cgroups) {
		f := strings.SplitN(strings.TrimSpace(line), ":", 3)
		switch {
		case len(f) != 3:
		case f[0] == "0" && f[1] == "":
			v2Path = f[2]
		case slices.Contains(strings.Split(f[1], ","), "memory"):
			v1Path = f[2]
		}
	}
	for line := range strings.Lines(mountinfo) {
		// id parent major:minor root mountpoint options [optional...] - fstype source superoptions
		pre, post, ok := strings.Cut(strings.TrimSpace(line), " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 3 {
			continue
		}
		root, point := f[3], f[4]
		switch {
		case v1Path != "" && g[0] == "cgroup" && slices.Contains(strings.Split(g[2], ","), "memory"):
			return below(point, root, v1Path, false)
		case v1Path == "" && v2Path != "" && g[0] == "cgroup2":
			return below(point, root, v2Path, true)
		}
	}
	return "", false, errors.New("this process's memory cgroup is not mounted (no cgroup v1 hierarchy with the memory controller, no cgroup v2)")
}

// below returns the directory of cgroup path under a cgroup file system
// mounted at point whose root is root.
func below(point, root, path string, v2 bool) (string, bool, error) {
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false, fmt.Errorf("this process's memory cgroup %s is outside the cgroup file system mounted at %s (root %s)", path, point, root)
	}
	return filepath.Join(point, rel), v2, nil
}

// delegateMemory makes sure the children of cgroup v2 directory dir get the
// memory controller. v2 allows that only for a cgroup without processes of
// its own (or the root): when this process is alone in dir, it moves into a
// leaf child of dir first.
func delegateMemory(dir string) error {
	controllers, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return fmt.Errorf("read the controllers of this process's cgroup: %w", err)
	}
	if !slices.Contains(strings.Fields(string(controllers)), "memory") {
		return fmt.Errorf("the memory controller is not enabled for this process's cgroup %s", dir)
	}
	subtree := filepath.Join(dir, "cgroup.subtree_control")
	if on, err := os.ReadFile(subtree); err == nil && slices.Contains(strings.Fields(string(on)), "memory") {
		return nil
	}
	err = os.WriteFile(subtree, []byte("+memory"), 0o644)
	if err == nil || !errors.Is(err, syscall.EBUSY) {
		return wrapDelegation(dir, err)
	}
	procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return wrapDelegation(dir, err)
	}
	me := strconv.Itoa(os.Getpid())
	if others := slices.DeleteFunc(strings.Fields(string(procs)), func(p string) bool { return p == me }); len(others) > 0 {
		return fmt.Errorf("cannot give run cgroups the memory controller: this process shares its cgroup %s with %d other process(es); run bestpatch in a delegated cgroup of its own (systemd: Delegate=yes)", dir, len(others))
	}
	leaf := filepath.Join(dir, "bestpatch-"+me)
	if err := os.Mkdir(leaf, 0o755); err != nil {
		return wrapDelegation(dir, err)
	}
	if err := os.WriteFile(filepath.Join(leaf, "cgroup.procs"), []byte(me), 0o644); err != nil {
		_ = os.Remove(leaf)
		return wrapDelegation(dir, err)
	}
	if err := os.WriteFile(subtree, []byte("+memory"), 0o644); err != nil {
		_ = os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(me), 0o644)
		_ = os.Remove(leaf)
		return wrapDelegation(dir, err)
	}
	return nil
}

func wrapDelegation(dir string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("cannot give run cgroups the memory controller in this process's cgroup %s (cgroup v2 needs a cgroup delegated to bestpatch, e.g. systemd's Delegate=yes): %w", dir, err)
}

// sweep removes the run cgroups that Locals of processes no longer alive
// left (a kill -9 of bestpatch). A cgroup whose processes still run cannot
// be removed and is left for a later sweep.
func (c runCgroups) sweep() {
	entries, err := os.ReadDir(c.parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), runCgroupPrefix)
		f := strings.SplitN(rest, "-", 3)
		if !ok || !e.IsDir() || len(f) != 3 {
			continue
		}
		pid, err := strconv.Atoi(f[0])
		// Cgroups are of this host: the owner's host is this one.
		if err != nil || pid <= 0 || !(executor.Owner{PID: pid, Start: f[1]}).OrphanedOn("") {
			continue
		}
		_ = os.Remove(filepath.Join(c.parent, e.Name()))
	}
}

// make makes a run cgroup; it returns nil when c makes none.
func (c runCgroups) make() (*runCgroup, error) {
	if c.parent == "" {
		return nil, nil
	}
	dir, err := os.MkdirTemp(c.parent, c.prefix+"*")
	if err != nil {
		return nil, fmt.Errorf("make a memory cgroup for the run in %s: %w", c.parent, err)
	}
	return &runCgroup{dir: dir, v2: c.v2}, nil
}

// enter moves process pid, and so all it will start, into g.
func (g *runCgroup) enter(pid int) error {
	if err := os.WriteFile(filepath.Join(g.dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("move the run's process into its memory cgroup %s: %w", g.dir, err)
	}
	return nil
}

// oomKills reads how many processes of g the kernel's OOM killer killed:
// "oom_kill" in memory.oom_control (v1, g's own processes) or memory.events
// (v2, g and its descendants).
func (g *runCgroup) oomKills() (int64, error) {
	file := filepath.Join(g.dir, "memory.oom_control")
	if g.v2 {
		file = filepath.Join(g.dir, "memory.events")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, fmt.Errorf("read the OOM kill count of the run's memory cgroup: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "oom_kill "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read the OOM kill count in %s: %w", file, err)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("no oom_kill count in %s (a kernel older than 4.13?)", file)
}

// kill kills every process in g: what the run left behind, including
// processes that left its session.
func (g *runCgroup) kill() {
	for range 100 {
		pids := g.procs()
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL) // it may be gone already
		}
	}
}

// procs lists the processes in g (zombies are not listed).
func (g *runCgroup) procs() []int {
	b, err := os.ReadFile(filepath.Join(g.dir, "cgroup.procs"))
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// remove kills what is left in g and removes it. A killed process leaves
// its cgroup when it has exited, a moment after the signal.
func (g *runCgroup) remove() error {
	deadline := time.Now().Add(localDrain)
	for {
		g.kill()
		err := os.Remove(g.dir)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("remove the run's memory cgroup: %w", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
