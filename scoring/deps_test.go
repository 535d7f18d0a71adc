package scoring

import (
	"os/exec"
	"slices"
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
		"github.com/bestpatch/bestpatch/executor", // the executor and its backends
		"github.com/bestpatch/bestpatch/selector",
	}
	// The executor's leaves that scoring shares with it (the outcome type, the
	// test-file matcher) are allowed as long as they import only the standard
	// library.
	leaves := []string{
		"github.com/bestpatch/bestpatch/executor/outcome",
		"github.com/bestpatch/bestpatch/executor/testfile",
	}
	for _, leaf := range leaves {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", leaf).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", leaf, err)
		}
		if got := strings.Fields(string(out)); !slices.Equal(got, []string{leaf}) {
			t.Errorf("%s depends on %q: it is a leaf scoring imports, so it imports the standard library only", leaf, got)
		}
	}
	for _, dep := range deps {
		if slices.Contains(leaves, dep) {
			continue
		}
		for _, b := range banned {
			if dep == b || strings.HasPrefix(dep, b+"/") {
				t.Errorf("scoring depends on %s: scoring is pure (no I/O, no processes, no engine); move what needs it out of scoring", dep)
			}
		}
	}
}
