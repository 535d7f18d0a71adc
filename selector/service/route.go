package service

import (
	"context"
	"fmt"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/selector"
)

// Router is an executor that sends each run to the backend for its
// environment: a Docker image to Docker, a local checkout to Local. A
// daemon serves whatever jobs come, so it cannot pick one backend per
// process as `bestpatch select` does.
type Router struct {
	Docker selector.Executor
	Local  selector.Executor
}

// Run runs a run on the backend for its environment. A run whose backend
// this daemon lacks is an error: the run goes back to the queue for a
// daemon that has it (and ends as an infrastructure failure if none does).
func (r Router) Run(ctx context.Context, run executor.Run) (executor.Result, error) {
	switch {
	case run.Env.Image != "" && r.Docker != nil:
		return r.Docker.Run(ctx, run)
	case run.Env.Image != "":
		return executor.Result{}, fmt.Errorf("run needs Docker image %s, and this daemon has no Docker executor: start it with --executor docker or auto and a reachable engine", run.Env.Image)
	case r.Local != nil:
		return r.Local.Run(ctx, run)
	default:
		return executor.Result{}, fmt.Errorf("run needs the local checkout %s, and this daemon has no local executor: start it with --executor local or auto", run.Env.Repo)
	}
}
