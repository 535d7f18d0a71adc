package main

import (
	"context"
	"log/slog"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/docker"
	"github.com/bestpatch/bestpatch/executor/local"
	"github.com/bestpatch/bestpatch/selector"
)

// backend is one executor backend as the commands wire it.
type backend struct {
	// name is the --executor value that selects it, and its name in errors.
	name string
	// handles says whether it runs an environment. The Router asks the
	// backends in the order backends lists them.
	handles func(executor.Environment) bool
	// note ends the remedy that says how to get the backend: what it needs
	// or what it costs.
	note string
	// open makes the backend; its close releases it.
	open func(ctx context.Context, o backendOptions) (exec selector.Executor, close func(), err error)
}

// backendOptions are what the flags say about the backends.
type backendOptions struct {
	log *slog.Logger
	// dockerReuse: the Docker backend's containers serve several runs
	// (docker.Config.Reuse; --docker-reuse).
	dockerReuse bool
}

// backends are the executor backends, in the order the Router asks them
// which runs an environment. A new backend is its package and one line here.
func backends() []backend {
	return []backend{
		{name: "docker", handles: docker.Handles, note: "with a reachable Docker engine", open: openDocker},
		{name: "local", handles: local.Handles, note: "(unsandboxed: trusted patches only)", open: openLocal},
	}
}

// openLocal makes the Local backend, which warns that it runs patches on
// this host.
func openLocal(_ context.Context, o backendOptions) (selector.Executor, func(), error) {
	l := local.New(local.Config{Logger: o.log})
	return l, func() { l.Close() }, nil
}
