package selector

import (
	"context"
	"errors"
	"fmt"

	"github.com/bestpatch/bestpatch/executor"
)

// ErrNoBackend means a run's environment needs a backend this process does
// not have (no Docker engine, or the unsandboxed local executor is off).
var ErrNoBackend = errors.New("no executor for this environment")

// Router sends each run to the backend for its environment: a Docker image
// to Docker, a local checkout to Local. A process that serves many tasks (the
// daemon, a batch) cannot pick one backend for all of them.
type Router struct {
	Docker Executor // docker.Executor
	Local  Executor // local.Executor
	// Remedies end the error of a run whose backend is missing.
	Remedies Remedies
}

// Remedies say how the user of a process gets each backend it lacks: the
// flags of the command that made the Router, which this package does not
// know. An empty one is left out of the error.
type Remedies struct {
	Docker string // e.g. "use --executor docker or auto with a reachable Docker engine"
	Local  string
}

// Supports says whether the router has a backend for an environment, and
// if not, which one is missing (wrapping ErrNoBackend).
func (r Router) Supports(env executor.Environment) error {
	switch {
	case env.Image != "" && r.Docker == nil:
		return fmt.Errorf("%w: the task runs in Docker image %s, and this process has no Docker executor", ErrNoBackend, env.Image)
	case env.Image == "" && r.Local == nil:
		return fmt.Errorf("%w: the task runs on the local checkout %s (unsandboxed, on this host), and this process has no local executor", ErrNoBackend, env.Repo)
	}
	return nil
}

// Run runs a run on the backend for its environment. A run whose backend is
// missing is an error (ErrNoBackend) that says how to get one, by Remedies.
func (r Router) Run(ctx context.Context, run executor.Run) (executor.Result, error) {
	if err := r.Supports(run.Env); err != nil {
		remedy := r.Remedies.Local
		if run.Env.Image != "" {
			remedy = r.Remedies.Docker
		}
		if remedy != "" {
			err = fmt.Errorf("%w: %s", err, remedy)
		}
		return executor.Result{}, err
	}
	if run.Env.Image != "" {
		return r.Docker.Run(ctx, run)
	}
	return r.Local.Run(ctx, run)
}
