package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/selector"
)

// A run that needs a backend the process lacks fails naming the way out of
// the command that runs it: select's and batch's --executor, serve's
// --unsafe-local-executor (a repo run that reaches a Docker-only daemon
// through the shared queue).
func TestMissingBackendRemedy(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	cli := func(name string) (runtimeFlags, selector.Remedies) {
		r := runtimeFlags{executor: name}
		return r, r.remedies()
	}
	serve := func(name string, unsafeLocal bool) (runtimeFlags, selector.Remedies) {
		f := serveFlags{runtime: runtimeFlags{executor: name}, unsafeLocal: unsafeLocal}
		r, err := f.executorChoice(log)
		if err != nil {
			t.Fatal(err)
		}
		return r, f.remedies()
	}
	image, repo := executor.Environment{Image: "bestpatch-no-such-image"}, executor.Environment{Repo: t.TempDir()}
	for _, tc := range []struct {
		name       string
		flags      func() (runtimeFlags, selector.Remedies)
		env        executor.Environment
		want, not  string
		needDocker bool
	}{
		{"select --executor local, image task", func() (runtimeFlags, selector.Remedies) { return cli("local") }, image,
			"use --executor docker or auto", "daemon", false},
		{"serve --unsafe-local-executor --executor local, image run", func() (runtimeFlags, selector.Remedies) { return serve("local", true) }, image,
			"start every daemon on this NATS server with --executor docker or auto", "use --executor", false},
		{"select --executor docker, repo task", func() (runtimeFlags, selector.Remedies) { return cli("docker") }, repo,
			"use --executor local or auto", "--unsafe-local-executor", true},
		{"serve (Docker only), repo run", func() (runtimeFlags, selector.Remedies) { return serve("auto", false) }, repo,
			"this daemon runs Docker tasks only: if every NATS client is trusted, start every daemon on this NATS server with --unsafe-local-executor", "use --executor", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, remedies := tc.flags()
			exec, closeFn, err := r.newExecutor(context.Background(), log, remedies)
			if err != nil && tc.needDocker {
				t.Skipf("needs a Docker engine: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer closeFn()
			_, err = exec.Run(context.Background(), executor.Run{Env: tc.env, Command: "true", Format: executor.GoJSON})
			if !errors.Is(err, selector.ErrNoBackend) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), tc.not) {
				t.Errorf("err = %v; want ErrNoBackend saying %q, not %q", err, tc.want, tc.not)
			}
		})
	}
}
