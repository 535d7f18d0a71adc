package bench

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/bestpatch/bestpatch/executor"
)

// genTest is one generated test before validation.
type genTest struct {
	kind, file string
	// funcs are the top-level tests it declares, as case-ID prefixes.
	funcs []string
	patch executor.TestPatch
}

// writeTests makes the noisy generated tests of a task as patches on its
// visible repository: up to two reproducing tests (copies of hidden tests,
// renamed, in a new file), passing copies of visible tests up to four in
// all, one that always fails and, in half the tasks, one that does not
// compile. Their files sort
// after the package's own tests (zz_bp_*), so go test runs them last: a copy
// that changes package state cannot break the original tests that run
// before it.
func (tm *taskMaker) writeTests(repo string, st *site, visibleTests map[string][]byte) ([]genTest, error) {
	var gens []genTest
	add := func(kind, file, fn string, src []byte) error {
		p, err := diffFiles(repo, map[string][]byte{file: src})
		if err != nil {
			return err
		}
		gens = append(gens, genTest{
			kind: kind, file: file, funcs: []string{tm.u.importPath(path.Dir(file)) + "::" + fn},
			patch: executor.TestPatch{ID: fmt.Sprintf("g%d", len(gens)), Patch: p},
		})
		return nil
	}
	hidden := slices.Clone(st.hidden)
	tm.rng.Shuffle(len(hidden), func(i, j int) { hidden[i], hidden[j] = hidden[j], hidden[i] })
	for i, h := range hidden[:min(2, len(hidden))] {
		f, name, err := tm.u.findTest(h)
		if err != nil {
			return nil, err
		}
		copyName := renameTest(name, fmt.Sprintf("BPRepro%d", i+1))
		src, err := copyFuncs(tm.u.tests[f], [][2]string{{name, copyName}})
		if err != nil {
			continue
		}
		if err := add(TestReproducing, path.Join(path.Dir(f), fmt.Sprintf("zz_bp_repro%d_test.go", i+1)), copyName, src); err != nil {
			return nil, err
		}
	}
	// Passing copies of visible tests, of the bug's package first.
	dir := path.Dir(st.muts[0].File)
	var near, far [][2]string // file, name
	for _, f := range slices.Sorted(maps.Keys(visibleTests)) {
		names, err := testFuncNames(visibleTests[f])
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if !strings.HasPrefix(n, "Test") || !tm.stableTop(tm.u.importPath(path.Dir(f))+"::"+n) {
				continue
			}
			if path.Dir(f) == dir {
				near = append(near, [2]string{f, n})
			} else {
				far = append(far, [2]string{f, n})
			}
		}
	}
	tm.rng.Shuffle(len(near), func(i, j int) { near[i], near[j] = near[j], near[i] })
	tm.rng.Shuffle(len(far), func(i, j int) { far[i], far[j] = far[j], far[i] })
	for i, v := range slices.Concat(near, far) {
		if len(gens) == 4 {
			break
		}
		copyName := renameTest(v[1], fmt.Sprintf("BPPass%d", i+1))
		src, err := copyFuncs(visibleTests[v[0]], [][2]string{{v[1], copyName}})
		if err != nil {
			continue
		}
		if err := add(TestPassing, path.Join(path.Dir(v[0]), fmt.Sprintf("zz_bp_pass%d_test.go", i+1)), copyName, src); err != nil {
			return nil, err
		}
	}
	pkg, err := packageName(tm.u.sources[st.muts[0].File])
	if err != nil {
		return nil, err
	}
	if err := add(TestFailing, path.Join(dir, "zz_bp_expect_test.go"), "TestBPExpectedBehaviour", fmt.Appendf(nil, failingTest, pkg)); err != nil {
		return nil, err
	}
	// Half the tasks get a test that breaks its package's build: the costly
	// kind of noise (the selector isolates it with extra runs).
	if tm.rng.IntN(2) == 0 {
		if err := add(TestBroken, path.Join(dir, "zz_bp_broken_test.go"), "TestBPBroken", fmt.Appendf(nil, brokenTest, pkg)); err != nil {
			return nil, err
		}
	}
	return gens, nil
}

// compiling lists the patches of the generated tests meant to compile.
func compiling(gens []genTest) []executor.TestPatch {
	var out []executor.TestPatch
	for _, g := range gens {
		if g.kind != TestBroken {
			out = append(out, g.patch)
		}
	}
	return out
}

// keepTests keeps the generated tests that behaved as their kind says on
// base and with the exact fix, shuffles them and names them t1, t2, ...
// (names that do not give their kind away).
func (tm *taskMaker) keepTests(gens []genTest, onBase, onFix outcomes) []testArtifact {
	var kept []testArtifact
	for _, g := range gens {
		baseAll, baseAny, baseN := summarize(onBase, g.funcs)
		fixAll, _, fixN := summarize(onFix, g.funcs)
		ok := true
		switch g.kind {
		case TestReproducing:
			ok = baseN > 0 && !baseAll && fixN > 0 && fixAll
		case TestPassing:
			ok = baseN > 0 && baseAll && fixN > 0 && fixAll
		case TestFailing:
			ok = baseN > 0 && !baseAny
		}
		if ok {
			kept = append(kept, testArtifact{kind: g.kind, patch: g.patch.Patch})
		}
	}
	tm.rng.Shuffle(len(kept), func(i, j int) { kept[i], kept[j] = kept[j], kept[i] })
	for i := range kept {
		kept[i].id = fmt.Sprintf("t%d", i+1)
	}
	return kept
}

func (tm *taskMaker) stableTop(top string) bool {
	for c := range tm.u.stable {
		if topLevel(c) == top {
			return true
		}
	}
	return false
}

// summarize reports, over the cases under the given top-level tests,
// whether all passed, whether any passed, and how many there were.
func summarize(out outcomes, tops []string) (all, any bool, n int) {
	all = true
	for c, o := range out {
		if !slices.Contains(tops, topLevel(c)) {
			continue
		}
		n++
		if o == pass {
			any = true
		} else {
			all = false
		}
	}
	return all, any, n
}

const failingTest = `package %s

import "testing"

func TestBPExpectedBehaviour(t *testing.T) {
	t.Fatal("generated test: the behaviour the issue asks for is not there")
}
`

const brokenTest = `package %s

import "testing"

func TestBPBroken(t *testing.T) {
	if got := bpHelperThatDoesNotExist(); got != 1 {
		t.Fatalf("got %%v", got)
	}
}
`

// renameTest renames a top-level test function keeping its kind: TestX ->
// TestTagX; examples get a lower-case suffix (Example_tag), the only form
// that needs no identifier to exist.
func renameTest(name, tag string) string {
	switch {
	case strings.HasPrefix(name, "Example"):
		return "Example_" + strings.ToLower(tag[:1]) + tag[1:]
	case strings.HasPrefix(name, "Fuzz"):
		return "Fuzz" + tag + strings.TrimPrefix(name, "Fuzz")
	}
	return "Test" + tag + strings.TrimPrefix(name, "Test")
}
