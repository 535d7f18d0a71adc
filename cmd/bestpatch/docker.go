package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/bestpatch/bestpatch/selector"
)

func newDockerExecutor(ctx context.Context, log *slog.Logger) (selector.Executor, func(), error) {
	return nil, nil, errors.New("docker executor: not wired yet")
}
