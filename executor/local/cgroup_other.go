//go:build unix && !linux

package local

import (
	"errors"

	"github.com/bestpatch/bestpatch/executor"
)

// runCgroups would make a memory cgroup per run; only Linux has cgroups.
type runCgroups struct{}

// runCgroup is never made outside Linux.
type runCgroup struct{}

func newRunCgroups() (runCgroups, error) {
	return runCgroups{}, errors.New("memory cgroups exist only on Linux")
}

func (runCgroups) make() (*runCgroup, error) { return nil, nil }
func (*runCgroup) enter(int) error           { return errors.New("memory cgroups exist only on Linux") }
func (*runCgroup) oomKills() (int64, error) {
	return 0, errors.New("memory cgroups exist only on Linux")
}
func (*runCgroup) kill()         {}
func (*runCgroup) remove() error { return nil }
