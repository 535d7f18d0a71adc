package main

import (
	"context"

	"github.com/bestpatch/bestpatch/executor/docker"
	"github.com/bestpatch/bestpatch/selector"
)

// newDockerExecutor connects to the engine and sweeps the containers that a
// crashed bestpatch left behind.
func newDockerExecutor(ctx context.Context, cfg docker.Config) (selector.Executor, func(), error) {
	log := cfg.Log
	d, err := docker.New(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	if removed, err := d.Sweep(ctx); err != nil {
		log.Warn("sweeping orphaned containers failed", "err", err)
	} else if len(removed) > 0 {
		log.Info("removed orphaned containers", "count", len(removed))
	}
	return d, func() { d.Close() }, nil
}

// openDocker opens the Docker backend for select, batch, bench and serve.
func openDocker(ctx context.Context, o backendOptions) (selector.Executor, func(), error) {
	if o.dockerReuse {
		o.log.Warn("--docker-reuse: a container serves several runs, and what a run writes outside the work tree and /tmp is seen by the next: use it only with trusted candidates (docs/DOCKER.md, \"Reused containers\")")
	}
	return newDockerExecutor(ctx, docker.Config{Log: o.log, Reuse: o.dockerReuse})
}
