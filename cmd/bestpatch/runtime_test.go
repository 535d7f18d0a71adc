package main

import (
	"context"
	"errors"
	"fmt"
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
	cli := func(name string) (runtimeFlags, func(backend) string) {
		r := runtimeFlags{executor: name}
		return r, r.remedy
	}
	serve := func(name string, unsafeLocal bool) (runtimeFlags, func(backend) string) {
		f := serveFlags{runtime: runtimeFlags{executor: name}, unsafeLocal: unsafeLocal}
		r, err := f.executorChoice(log)
		if err != nil {
			t.Fatal(err)
		}
		return r, f.remedy
	}
	image, repo := executor.Environment{Image: "bestpatch-no-such-image"}, executor.Environment{Repo: t.TempDir()}
	for _, tc := range []struct {
		name       string
		flags      func() (runtimeFlags, func(backend) string)
		env        executor.Environment
		want, not  string
		needDocker bool
	}{
		{"select --executor local, image task", func() (runtimeFlags, func(backend) string) { return cli("local") }, image,
			"use --executor docker or auto", "daemon", false},
		{"serve --unsafe-local-executor --executor local, image run", func() (runtimeFlags, func(backend) string) { return serve("local", true) }, image,
			"start every daemon on this NATS server with --executor docker or auto", "use --executor", false},
		{"select --executor docker, repo task", func() (runtimeFlags, func(backend) string) { return cli("docker") }, repo,
			"use --executor local or auto", "--unsafe-local-executor", true},
		{"serve (Docker only), repo run", func() (runtimeFlags, func(backend) string) { return serve("auto", false) }, repo,
			"this daemon runs Docker tasks only: if every NATS client is trusted, start every daemon on this NATS server with --unsafe-local-executor", "use --executor", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, remedy := tc.flags()
			exec, closeFn, err := r.newExecutor(context.Background(), log, remedy)
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

// --executor names a backend of backends.go, or auto: the Router holds a
// route for every backend, in their order, and opens the ones the flag and
// the tasks need (auto with a task on a checkout needs no Docker engine).
func TestExecutorFlag(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	repoTask := selector.Task{Env: executor.Environment{Repo: t.TempDir()}}
	var names []string
	for _, b := range backends() {
		names = append(names, b.name)
	}
	for _, tc := range []struct {
		name, flag string
		tasks      []selector.Task
		opened     string
		err        string
	}{
		{"unknown", "podman", nil, "", `--executor "podman" is not known: use docker, local or auto`},
		{"local", "local", nil, "[local]", ""},
		{"auto, a task on a checkout", "auto", []selector.Task{repoTask}, "[local]", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runtimeFlags{executor: tc.flag}
			exec, closeFn, err := r.newExecutor(t.Context(), log, r.remedy, tc.tasks...)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer closeFn()
			var routes, opened []string
			for _, rt := range exec.(selector.Router).Routes {
				routes = append(routes, rt.Name)
				if rt.Exec != nil {
					opened = append(opened, rt.Name)
				}
			}
			if fmt.Sprint(routes) != fmt.Sprint(names) || fmt.Sprint(opened) != tc.opened {
				t.Errorf("routes %v, opened %v; want routes %v, opened %s", routes, opened, names, tc.opened)
			}
		})
	}
}

// serve refuses --docker-reuse: its jobs come from every NATS client, and a
// reused container would let one job's runs see another's leftovers.
func TestServeRefusesDockerReuse(t *testing.T) {
	f := serveFlags{runtime: runtimeFlags{executor: "docker", dockerReuse: true}}
	if _, err := f.executorChoice(slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "--docker-reuse is refused by serve") {
		t.Errorf("executorChoice with --docker-reuse: %v, want the refusal", err)
	}
	f.runtime.dockerReuse = false
	if _, err := f.executorChoice(slog.New(slog.DiscardHandler)); err != nil {
		t.Errorf("executorChoice without --docker-reuse: %v", err)
	}
}
