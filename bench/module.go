package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bestpatch/bestpatch/bench/testsubject"
)

// Module is a real Go module that tasks are made from.
type Module struct {
	// Path and Version name the module on the module proxy.
	Path    string `json:"path"`
	Version string `json:"version"`
	// Packages are the package patterns tested, relative to the module root
	// ("./..." when empty). Bugs are injected only in their files.
	Packages []string `json:"packages,omitempty"`
	// Skip is a `go test -skip` pattern for tests left out of every run:
	// tests that need what the task images lack, or take seconds each.
	Skip string `json:"skip,omitempty"`
	// Env are environment variables every run sets (locale-dependent tests).
	Env map[string]string `json:"env,omitempty"`
}

// DefaultModules are the modules `bestpatch bench gen` uses unless told
// otherwise: small, well-tested libraries with fast suites.
//
// github.com/tidwall/gjson is known (see ModuleByPath) but not a default:
// nearly every bug injected into its parser panics, and a panic ends the
// whole test binary, so "some but not most tests fail" almost never holds
// (0 qualifying sites in 15, 1 in 50, measured).
func DefaultModules() []Module {
	return slices.DeleteFunc(knownModules(), func(m Module) bool { return m.Path == "github.com/tidwall/gjson" })
}

// knownModules are the modules with a tested configuration.
func knownModules() []Module {
	return []Module{
		{Path: "github.com/google/uuid", Version: "v1.6.0"},
		// ./dynamic builds a plugin (cgo); TestInlining shells out to the
		// compiler for seconds.
		{Path: "github.com/cespare/xxhash/v2", Version: "v2.3.0", Packages: []string{"."}, Skip: "^TestInlining$"},
		// The random-input tests take seconds each and are not reproducible.
		{Path: "github.com/tidwall/gjson", Version: "v1.18.0", Skip: "^(TestValidRandom|TestRandomData|TestRandomValidStrings|TestJSONString)$"},
		// Widths depend on the locale: pin it so host and image agree. The
		// checksum tests walk every code point for seconds.
		{Path: "github.com/mattn/go-runewidth", Version: "v0.0.16", Skip: "^(TestTableChecksums|TestRuneWidthChecksums|TestDefaultLUT)$",
			Env: map[string]string{"LANG": "C", "LC_ALL": "", "LC_CTYPE": "", "RUNEWIDTH_EASTASIAN": "0"}},
		{Path: "github.com/kr/text", Version: "v0.2.0"},
		// The matchers and the package that compiles globs into them: two test
		// binaries a run instead of nine.
		{Path: "github.com/gobwas/glob", Version: "v0.2.3", Packages: []string{".", "./match"}},
	}
}

// ModuleByPath returns the known module with that path (at another version
// when spec is MOD@VERSION), or any module given as MOD@VERSION.
func ModuleByPath(spec string) (Module, error) {
	p, v, hasVersion := strings.Cut(spec, "@")
	for _, m := range knownModules() {
		if m.Path == p {
			if hasVersion {
				m.Version = v
			}
			return m, nil
		}
	}
	if !hasVersion {
		return Module{}, fmt.Errorf("module %q is not one of the defaults: give its version as MODULE@VERSION", spec)
	}
	return Module{Path: p, Version: v}, nil
}

// TestCommand is the command that runs the module's tests as `go test -json`.
// Vet is off: it adds a third to every run and judges style, not behaviour.
func (m Module) TestCommand() string {
	cmd := "go test -json -count=1 -vet=off"
	if m.Skip != "" {
		cmd += " -skip '" + m.Skip + "'"
	}
	return cmd + " " + strings.Join(m.packages(), " ")
}

func (m Module) packages() []string {
	if len(m.Packages) == 0 {
		return []string{"./..."}
	}
	return m.Packages
}

// covers reports whether the package in dir (slash path relative to the
// module root, "." for the root) is among the tested packages.
func (m Module) covers(dir string) bool {
	for _, p := range m.packages() {
		p = strings.TrimPrefix(p, "./")
		if p == "" {
			p = "."
		}
		if rest, ok := strings.CutSuffix(p, "..."); ok {
			rest = strings.TrimSuffix(rest, "/")
			if rest == "" || rest == "." || dir == rest || strings.HasPrefix(dir, rest+"/") {
				return true
			}
			continue
		}
		if path.Clean(p) == dir {
			return true
		}
	}
	return false
}

// slug is the module's name in instance IDs: owner__repo.
func (m Module) slug() string {
	p := strings.TrimPrefix(m.Path, "github.com/")
	parts := strings.Split(p, "/")
	if len(parts) > 2 {
		parts = parts[:2]
	}
	return strings.Join(parts, "__")
}

// prepare copies the module from the proxy into a fresh git repository at
// dir, with a go.mod (old modules have none) and a complete go.sum, so that
// its tests run without touching the network again.
func (m Module) prepare(ctx context.Context, dir string) error {
	src, err := testsubject.Download(ctx, m.Path, m.Version)
	if err != nil {
		return err
	}
	if err := testsubject.CopyTree(src, dir); err != nil {
		return fmt.Errorf("copy %s@%s to %s: %w", m.Path, m.Version, dir, err)
	}
	gomod := filepath.Join(dir, "go.mod")
	if _, err := os.Stat(gomod); os.IsNotExist(err) {
		if err := os.WriteFile(gomod, []byte("module "+m.Path+"\n\ngo 1.12\n"), 0o644); err != nil {
			return err
		}
	}
	cmd := exec.CommandContext(ctx, "go", append([]string{"list", "-deps", "-test"}, m.packages()...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("resolve the dependencies of %s@%s (go list): %w\n%s", m.Path, m.Version, err, out)
	}
	if _, err := testsubject.Git(dir, "init", "-q", "-b", "main"); err != nil {
		return err
	}
	return testsubject.Commit(dir, "upstream "+m.Path+"@"+m.Version)
}
