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
	both := Router{Docker: namedBackend("docker"), Local: namedBackend("local")}
	remedies := Remedies{Docker: "get an engine", Local: "allow local runs"}
	for _, tc := range []struct {
		name    string
		router  Router
		env     executor.Environment
		want    string
		wantErr string
	}{
		{"image to docker", both, executor.Environment{Image: "img"}, "docker", ""},
		{"repo to local", both, executor.Environment{Repo: "/r"}, "local", ""},
		{"image without docker", Router{Local: namedBackend("local")}, executor.Environment{Image: "img"}, "", "no Docker executor"},
		{"repo without local", Router{Docker: namedBackend("docker")}, executor.Environment{Repo: "/r"}, "", "no local executor"},
		// The remedy is the caller's: the flags differ between commands.
		{"image without docker, remedy", Router{Local: namedBackend("local"), Remedies: remedies}, executor.Environment{Image: "img"}, "", "no Docker executor: get an engine"},
		{"repo without local, remedy", Router{Docker: namedBackend("docker"), Remedies: remedies}, executor.Environment{Repo: "/r"}, "", "no local executor: allow local runs"},
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
				if err := tc.router.Supports(tc.env); !errors.Is(err, ErrNoBackend) {
					t.Fatalf("Supports: %v, want ErrNoBackend", err)
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
