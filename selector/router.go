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

// Route is one executor backend of a Router: the environments it runs and
// the executor that runs them.
type Route struct {
	// Name names the backend in errors: "docker", "local" (the value of
	// --executor that selects it).
	Name string
	// Handles says whether the backend runs an environment.
	Handles func(executor.Environment) bool
	// Exec runs what the backend handles; nil when this process does not
	// have the backend, and a run it handles is then an error.
	Exec Executor
	// Remedy ends the error of a run whose backend is missing: how the user
	// of this process gets it (the flags of the command that made the
	// Router, which this package does not know). Empty: left out.
	Remedy string
}

// Router sends each run to the first of its Routes that handles the run's
// environment. A process that serves many tasks (the daemon, a batch)
// cannot pick one backend for all of them.
type Router struct {
	Routes []Route
}

// route returns the route for env: the first that handles it. A route
// without an executor, or none, is an error wrapping ErrNoBackend that says
// how to get the backend: the route's Remedy.
func (r Router) route(env executor.Environment) (Route, error) {
	for _, rt := range r.Routes {
		if !rt.Handles(env) {
			continue
		}
		if rt.Exec == nil {
			err := fmt.Errorf("%w: the task runs %s, and this process has no %s executor", ErrNoBackend, env.Where(), rt.Name)
			if rt.Remedy != "" {
				err = fmt.Errorf("%w: %s", err, rt.Remedy)
			}
			return Route{}, err
		}
		return rt, nil
	}
	return Route{}, fmt.Errorf("%w: the task runs %s, and no executor of this process runs that", ErrNoBackend, env.Where())
}

// Supports says whether the router has a backend for an environment, and
// if not, the error Run would return: which backend is missing and how to
// get it (wrapping ErrNoBackend). The daemon refuses such a job with it when
// the job is submitted.
func (r Router) Supports(env executor.Environment) error {
	_, err := r.route(env)
	return err
}

// Run runs a run on the backend for its environment. A run whose backend is
// missing is an error (ErrNoBackend) that says how to get one: the route's
// Remedy.
func (r Router) Run(ctx context.Context, run executor.Run) (executor.Result, error) {
	rt, err := r.route(run.Env)
	if err != nil {
		return executor.Result{}, err
	}
	return rt.Exec.Run(ctx, run)
}
