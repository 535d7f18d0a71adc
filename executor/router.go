package executor

import (
	"context"
	"fmt"
)

// Backend is one way to execute runs: Local or Docker.
type Backend interface {
	Run(ctx context.Context, run Run) (Result, error)
}

// Router sends each run to the backend for its environment: a Docker image
// to Docker, a local checkout to Local. A process that serves many tasks (the
// daemon, a batch) cannot pick one backend for all of them.
type Router struct {
	Docker Backend
	Local  Backend
}

// Run runs a run on the backend for its environment. A run whose backend is
// missing is an error that says how to get one.
func (r Router) Run(ctx context.Context, run Run) (Result, error) {
	switch {
	case run.Env.Image != "" && r.Docker != nil:
		return r.Docker.Run(ctx, run)
	case run.Env.Image != "":
		return Result{}, fmt.Errorf("run needs Docker image %s, and this process has no Docker executor: use --executor docker or auto with a reachable engine", run.Env.Image)
	case r.Local != nil:
		return r.Local.Run(ctx, run)
	default:
		return Result{}, fmt.Errorf("run needs the local checkout %s, and this process has no local executor: use --executor local or auto", run.Env.Repo)
	}
}
