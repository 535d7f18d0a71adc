package main

import (
	"context"
	"log/slog"

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
func openDocker(ctx context.Context, log *slog.Logger) (selector.Executor, func(), error) {
	return newDockerExecutor(ctx, docker.Config{Log: log})
}
