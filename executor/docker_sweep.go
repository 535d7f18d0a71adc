package executor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// Labels on every container of the Docker backend. Sweep acts only on
// containers that carry LabelOwner.
const (
	// LabelRun holds the run's ID (the container is named bestpatch-<ID>).
	LabelRun = "dev.bestpatch.run"
	// LabelOwner holds "HOST/PID/INSTANCE": the host name, the process ID
	// and the random ID of the Docker value that created the container.
	LabelOwner = "dev.bestpatch.owner"
	// LabelOwnerStart holds the owner process's start time (clock ticks
	// since boot, from /proc), so that a reused PID is not taken for the
	// owner still alive.
	LabelOwnerStart = "dev.bestpatch.owner.start"
)

// owner identifies the process (and the Docker value in it) that creates
// containers, so that a later process can tell its leftovers from the
// containers of processes still running.
type owner struct {
	host     string
	pid      int
	start    string // "" where /proc is not available
	instance string
}

func newOwner() (owner, error) {
	host, err := os.Hostname()
	if err != nil {
		return owner{}, fmt.Errorf("docker backend: read the host name for container labels: %w", err)
	}
	pid := os.Getpid()
	return owner{host: host, pid: pid, start: processStart(pid), instance: newRunID()}, nil
}

func (o owner) String() string {
	return o.host + "/" + strconv.Itoa(o.pid) + "/" + o.instance
}

func (o owner) labels(run string) map[string]string {
	l := map[string]string{LabelRun: run, LabelOwner: o.String()}
	if o.start != "" {
		l[LabelOwnerStart] = o.start
	}
	return l
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

// orphanedOn reports whether a container owned by o is an orphan as seen
// from host: o ran on this host and its process is gone (or its PID now
// belongs to a younger process). Containers of other hosts are never
// orphans here: their owners cannot be checked from this host.
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

// Sweep removes the containers that this project's labels mark as orphaned:
// created on this host by a process that is no longer alive (a daemon that
// crashed or was killed before its deferred removals ran). Containers of
// live processes, of other hosts, and without the project's owner label are
// never touched. It returns the names of the containers removed.
func (d *Docker) Sweep(ctx context.Context) ([]string, error) {
	list, err := d.cli.ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", LabelOwner),
	})
	if err != nil {
		return nil, unreachable(d.cli.DaemonHost(), err)
	}
	var removed []string
	var errs []error
	for _, c := range list.Items {
		o, ok := parseOwner(c.Labels[LabelOwner], c.Labels[LabelOwnerStart])
		if !ok || !o.orphanedOn(d.owner.host) {
			continue
		}
		name := c.ID
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		_, err := d.cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		switch {
		case err == nil:
			removed = append(removed, name)
		case cerrdefs.IsNotFound(err) || cerrdefs.IsConflict(err):
			// Gone already, or being removed by the engine.
		default:
			errs = append(errs, fmt.Errorf("remove orphaned container %s (owner %s): %w", name, c.Labels[LabelOwner], err))
		}
	}
	return removed, errors.Join(errs...)
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
