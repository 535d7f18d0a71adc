package scoring

import (
	"os/exec"
	"strings"
	"testing"
)

// scoring is pure and light: what it builds on holds no Docker client, no
// NATS, nothing that starts processes, and no executor backend. The list is
// the build's own (go list -deps), so an import through any other package
// counts too.
func TestDependenciesArePure(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 2 || deps[len(deps)-1] != "github.com/bestpatch/bestpatch/scoring" {
		t.Fatalf("go list -deps listed %d packages, not ending with scoring: %q", len(deps), out)
	}
	banned := []string{
		"os/exec",
		"github.com/moby", "github.com/docker",
		"github.com/nats-io",
		"github.com/bestpatch/bestpatch/executor/docker", "github.com/bestpatch/bestpatch/executor/local",
		"github.com/bestpatch/bestpatch/selector",
	}
	for _, dep := range deps {
		for _, b := range banned {
			if dep == b || strings.HasPrefix(dep, b+"/") {
				t.Errorf("scoring depends on %s: scoring is pure (no I/O, no processes, no engine); move what needs it out of scoring", dep)
			}
		}
	}
}
