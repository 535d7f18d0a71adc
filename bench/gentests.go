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

// repro marks a generated test meant to reproduce the bug: its kind
// (reproducing, weak or partial) is decided by how it behaves.
const repro = "repro"

// writeTests makes the candidate generated tests of a task as patches on
// its visible repository: copies of up to two hidden tests (not those left
// visible), whole and, for a table-driven test, keeping one row of its
// table (up to maxRowCopies: a test that checks part of what the hidden one
// checks); three passing copies of visible tests; one that always fails and,
// in half the tasks, one that does not compile. Their files sort after the
// package's own tests (zz_bp_*), so go test runs them last: a copy that
// changes package state cannot break the original tests that run before it.
// keepTests later keeps those that behave as a task needs.
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
	var hidden []string
	for _, h := range st.hidden {
		if !slices.Contains(st.visible, h) {
			hidden = append(hidden, h)
		}
	}
	tm.rng.Shuffle(len(hidden), func(i, j int) { hidden[i], hidden[j] = hidden[j], hidden[i] })
	n := 0
	for _, h := range hidden[:min(2, len(hidden))] {
		f, name, err := tm.u.findTest(h)
		if err != nil {
			return nil, err
		}
		rows, err := rowCopies(tm.u.tests[f], name, maxRowCopies)
		if err != nil {
			rows = nil
		}
		for _, src := range append([][]byte{tm.u.tests[f]}, rows...) {
			n++
			copyName := renameTest(name, fmt.Sprintf("BPRepro%d", n))
			b, err := copyFuncs(src, [][2]string{{name, copyName}})
			if err != nil {
				continue
			}
			if err := add(repro, path.Join(path.Dir(f), fmt.Sprintf("zz_bp_repro%d_test.go", n)), copyName, b); err != nil {
				return nil, err
			}
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
	passing := 0
	for i, v := range slices.Concat(near, far) {
		if passing == 3 {
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
		passing++
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

// Shares of the tasks whose generated tests reproduce the bug strongly
// (a test every wrong candidate fails) and weakly (only tests a wrong or
// partial fix passes too); the rest reproduce nothing.
const (
	strongShare = 0.3
	weakShare   = 0.45
)

// keepTests keeps the generated tests a task gets. A reproducing copy is
// kept only if it fails on base and passes with the exact fix; how it
// behaves on the wrong candidates graded (pool) makes it weak (a wrong fix
// passes it), partial (a one-site fix of a two-site bug passes it) or
// reproducing (every one fails it). Then the task's reproduction is drawn:
// strong (one reproducing test), weak (up to two weak or partial tests) or
// none, falling back to what exists. Passing copies must pass on base and
// with the fix, the always-failing test must fail on base; the
// not-compiling one is kept as it is. The kept tests are shuffled and named
// t1, t2, ... (names that do not give their kind away).
func (tm *taskMaker) keepTests(gens []genTest, onBase, onFix outcomes, pool []*graded) ([]testArtifact, string) {
	passesAll := func(out outcomes, funcs []string) bool {
		all, _, n := summarize(out, funcs)
		return n > 0 && all
	}
	var noise, strong, weak []testArtifact
	for _, g := range gens {
		baseAll, baseAny, baseN := summarize(onBase, g.funcs)
		fixAll, _, fixN := summarize(onFix, g.funcs)
		t := testArtifact{kind: g.kind, patch: g.patch.Patch}
		switch g.kind {
		case repro:
			if baseN == 0 || baseAll || fixN == 0 || !fixAll {
				continue
			}
			t.kind = TestReproducing
			for _, gr := range pool {
				switch {
				case gr.entry.Kind == KindPartial && passesAll(gr.out, g.funcs):
					t.kind = TestPartial
				case gr.entry.Kind == KindWrong && passesAll(gr.out, g.funcs) && t.kind != TestPartial:
					t.kind = TestWeak
				}
			}
			if t.kind == TestReproducing {
				strong = append(strong, t)
			} else {
				weak = append(weak, t)
			}
		case TestPassing:
			if baseN > 0 && baseAll && fixN > 0 && fixAll {
				noise = append(noise, t)
			}
		case TestFailing:
			if baseN > 0 && !baseAny {
				noise = append(noise, t)
			}
		default:
			noise = append(noise, t)
		}
	}
	draw := tm.rng.Float64()
	kept, reproduction := noise, ReproNone
	switch {
	case draw < strongShare+weakShare && draw >= strongShare && len(weak) > 0:
		tm.rng.Shuffle(len(weak), func(i, j int) { weak[i], weak[j] = weak[j], weak[i] })
		kept, reproduction = append(kept, weak[:min(2, len(weak))]...), ReproWeak
	case draw < strongShare+weakShare && len(strong) > 0:
		kept, reproduction = append(kept, strong[0]), ReproStrong // a whole copy when there is one
	case draw < strongShare+weakShare && len(weak) > 0:
		kept, reproduction = append(kept, weak[0]), ReproWeak
	}
	kept = slices.Clone(kept)
	tm.rng.Shuffle(len(kept), func(i, j int) { kept[i], kept[j] = kept[j], kept[i] })
	for i := range kept {
		kept[i].id = fmt.Sprintf("t%d", i+1)
	}
	return kept, reproduction
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
