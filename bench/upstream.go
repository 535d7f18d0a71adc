package bench

import (
	"context"
	"fmt"
	"go/build"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"
)

// upstream is one module as published, in a git repository, with what its
// tasks are drawn from: its sources, its tests, and the cases that pass.
type upstream struct {
	mod  Module
	repo string
	// sources are the non-test Go files built on this platform, by path;
	// tests are the _test.go files. Both are the published contents.
	sources map[string][]byte
	tests   map[string][]byte
	// stable holds the cases that passed in both runs of the published
	// suite; cases that flipped between them are left out of every check.
	stable map[string]bool
	// tops counts the stable top-level tests.
	tops int
	// covered holds, by file, the line ranges the suite executes; nil when
	// coverage could not be measured (every site is then tried).
	covered map[string][][2]int
}

// openUpstream prepares the module in dir and runs its suite twice.
func openUpstream(ctx context.Context, mod Module, dir string, s *suite) (*upstream, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := mod.prepare(ctx, dir); err != nil {
		return nil, err
	}
	u := &upstream{mod: mod, repo: dir, sources: map[string][]byte{}, tests: map[string][]byte{}, stable: map[string]bool{}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if base := d.Name(); rel != "." && (base == ".git" || base == "testdata" || base == "vendor" || strings.HasPrefix(base, "_") || strings.HasPrefix(base, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(rel, "_test.go") {
			u.tests[rel] = b
			return nil
		}
		if ok, err := build.Default.MatchFile(filepath.Dir(p), d.Name()); err == nil && ok {
			u.sources[rel] = b
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	runs := make([]outcomes, 2)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		u.covered = coverage(gctx, s, mod, dir)
		return gctx.Err()
	})
	for i := range runs {
		g.Go(func() error {
			res, out, err := s.run(gctx, dir, "", nil)
			if err != nil {
				return err
			}
			if !built(res) {
				return fmt.Errorf("the published suite of %s@%s does not run (%s %s): pick another version", mod.Path, mod.Version, res.Status, res.Reason)
			}
			runs[i] = out
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	tops := map[string]bool{}
	for id, o := range runs[0] {
		if o == pass && runs[1][id] == pass {
			u.stable[id] = true
			tops[topLevel(id)] = true
		}
	}
	u.tops = len(tops)
	if u.tops == 0 {
		return nil, fmt.Errorf("no test of %s@%s passes: nothing can catch a bug", mod.Path, mod.Version)
	}
	return u, nil
}

// bugDraw lists the bug-mode mutations of the tested packages on lines the
// suite executes, in draw order: operators taken round-robin in a shuffled order, a random site of
// each, so that every kind of bug shows up early.
func (u *upstream) bugDraw(rng *rand.Rand) ([]Mutation, error) {
	byOp := map[string][]Mutation{}
	for _, file := range slices.Sorted(maps.Keys(u.sources)) {
		if !u.mod.covers(path.Dir(file)) {
			continue
		}
		if name, _ := packageName(u.sources[file]); name == "main" {
			continue
		}
		ms, err := Mutations(file, u.sources[file], false)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if u.executed(m) {
				byOp[m.Op] = append(byOp[m.Op], m)
			}
		}
	}
	var out []Mutation
	for {
		ops := slices.Clone(bugOps)
		rng.Shuffle(len(ops), func(i, j int) { ops[i], ops[j] = ops[j], ops[i] })
		took := false
		for _, op := range ops {
			if ms := byOp[op]; len(ms) > 0 {
				i := rng.IntN(len(ms))
				out = append(out, ms[i])
				byOp[op] = slices.Delete(ms, i, i+1)
				took = true
			}
		}
		if !took {
			return out, nil
		}
	}
}

// importPath is the import path of the package in a module directory.
func (u *upstream) importPath(dir string) string {
	if dir == "." || dir == "" {
		return u.mod.Path
	}
	return u.mod.Path + "/" + dir
}

// dirOf is the module directory of an import path of this module.
func (u *upstream) dirOf(pkg string) string {
	rest := strings.TrimPrefix(strings.TrimPrefix(pkg, u.mod.Path), "/")
	if rest == "" {
		return "."
	}
	return rest
}

// findTest returns the test file declaring the top-level test "pkg::Name".
func (u *upstream) findTest(top string) (file, name string, err error) {
	pkg, name, _ := strings.Cut(top, "::")
	dir := u.dirOf(pkg)
	for _, f := range slices.Sorted(maps.Keys(u.tests)) {
		if path.Dir(f) != dir {
			continue
		}
		names, err := testFuncNames(u.tests[f])
		if err != nil {
			return "", "", err
		}
		if slices.Contains(names, name) {
			return f, name, nil
		}
	}
	return "", "", fmt.Errorf("no test file of %s declares %s", pkg, name)
}

// coverage runs the suite once with a coverage profile and returns the
// covered line ranges by file: a bug on a line no test executes cannot make
// a test fail, so its trial would be wasted. It returns nil when the
// profile cannot be made.
func coverage(ctx context.Context, s *suite, mod Module, dir string) map[string][][2]int {
	profile := filepath.Join(filepath.Dir(dir), filepath.Base(dir)+".cover")
	pkgs := strings.Join(mod.packages(), ",")
	res, _, err := s.runCommand(ctx, dir, "", nil, s.command+" -covermode=set -coverpkg="+pkgs+" -coverprofile="+profile)
	if err != nil || !built(res) {
		return nil
	}
	b, err := os.ReadFile(profile)
	if err != nil {
		return nil
	}
	return parseCoverage(string(b), mod.Path)
}

// parseCoverage reads a Go coverage profile ("mode: set", then lines
// "importpath/file.go:L1.C1,L2.C2 statements count") into the covered line
// ranges by module-relative file.
func parseCoverage(profile, module string) map[string][][2]int {
	covered := map[string][][2]int{}
	for line := range strings.Lines(profile) {
		loc, rest, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || strings.HasSuffix(rest, " 0") {
			continue
		}
		file, span, ok := strings.Cut(loc, ":")
		if !ok {
			continue
		}
		var l1, c1, l2, c2 int
		if _, err := fmt.Sscanf(span, "%d.%d,%d.%d", &l1, &c1, &l2, &c2); err != nil {
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(file, module), "/")
		covered[rel] = append(covered[rel], [2]int{l1, l2})
	}
	return covered
}

// executed reports whether the suite runs the line of a mutation.
func (u *upstream) executed(m Mutation) bool {
	if u.covered == nil {
		return true
	}
	for _, r := range u.covered[m.File] {
		if r[0] <= m.Line && m.Line <= r[1] {
			return true
		}
	}
	return false
}
