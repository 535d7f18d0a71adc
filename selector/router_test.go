package selector

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor"
)

type namedBackend string

func (n namedBackend) Run(context.Context, executor.Run) (executor.Result, error) {
	return executor.Result{Reason: string(n)}, nil
}

func TestRouter(t *testing.T) {
	image := func(e executor.Environment) bool { return e.Image != "" }
	everything := func(executor.Environment) bool { return true }
	docker := func(exec Executor, remedy string) Route {
		return Route{Name: "docker", Handles: image, Exec: exec, Remedy: remedy}
	}
	local := func(exec Executor, remedy string) Route {
		return Route{Name: "local", Handles: everything, Exec: exec, Remedy: remedy}
	}
	both := Router{Routes: []Route{docker(namedBackend("docker"), ""), local(namedBackend("local"), "")}}
	for _, tc := range []struct {
		name    string
		router  Router
		env     executor.Environment
		want    string
		wantErr string
	}{
		{"image to docker", both, executor.Environment{Image: "img"}, "docker", ""},
		{"repo to local", both, executor.Environment{Repo: "/r"}, "local", ""},
		// The first route that handles an environment takes it, even one
		// that handles every environment.
		{"first route first", Router{Routes: []Route{local(namedBackend("local"), ""), docker(namedBackend("docker"), "")}}, executor.Environment{Image: "img"}, "local", ""},
		{"image without docker", Router{Routes: []Route{docker(nil, ""), local(namedBackend("local"), "")}}, executor.Environment{Image: "img"}, "", "runs in Docker image img, and this process has no docker executor"},
		{"repo without local", Router{Routes: []Route{docker(namedBackend("docker"), ""), local(nil, "")}}, executor.Environment{Repo: "/r"}, "", "on the local checkout /r (unsandboxed, on this host), and this process has no local executor"},
		{"no route handles it", Router{Routes: []Route{docker(namedBackend("docker"), "get an engine")}}, executor.Environment{Repo: "/r"}, "", "no executor of this process runs that"},
		{"no routes", Router{}, executor.Environment{Image: "img"}, "", "no executor of this process runs that"},
		// The remedy is the caller's: the flags differ between commands.
		{"image without docker, remedy", Router{Routes: []Route{docker(nil, "get an engine"), local(namedBackend("local"), "allow local runs")}}, executor.Environment{Image: "img"}, "", "no docker executor: get an engine"},
		{"repo without local, remedy", Router{Routes: []Route{docker(namedBackend("docker"), "get an engine"), local(nil, "allow local runs")}}, executor.Environment{Repo: "/r"}, "", "no local executor: allow local runs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tc.router.Run(context.Background(), executor.Run{Env: tc.env})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrNoBackend) {
					t.Fatalf("err = %v, want %q (ErrNoBackend)", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "--") {
					t.Errorf("err = %v: a flag that no caller named", err)
				}
				// A daemon refuses a job at submit with what Supports
				// says: the same error, remedy included.
				if serr := tc.router.Supports(tc.env); !errors.Is(serr, ErrNoBackend) || serr.Error() != err.Error() {
					t.Fatalf("Supports: %v, want Run's error %v", serr, err)
				}
				return
			}
			if err := tc.router.Supports(tc.env); err != nil {
				t.Fatalf("Supports: %v", err)
			}
			if err != nil || res.Reason != tc.want {
				t.Fatalf("went to %q (err %v), want %q", res.Reason, err, tc.want)
			}
		})
	}
}
