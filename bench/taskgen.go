package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/bestpatch/bestpatch/bench/testsubject"
	"github.com/bestpatch/bestpatch/executor"
)

// Limits of the search for a task. Each trial is one run of the suite.
const (
	maxBugTrials    = 15 // bug sites tried per task
	maxTwoSite      = 3  // second sites tried for a two-site bug
	maxWrongTrials  = 4  // mutations tried as plausible wrong fixes
	maxWrongFixes   = 3  // wrong fixes kept
	maxRegressTrial = 5  // mutations tried as the regression of a fix
	maxRegressions  = 2  // fixes with a regression kept
	maxHiddenTests  = 4  // at most this many top-level tests may catch a bug
	trialWidth      = 2  // trials of one search run in parallel, accepted in order
	twoSiteShare    = 0.5
	// visibleShare of the tasks leave one catching test in the visible
	// suite: an original test that fails on base.
	visibleShare = 0.25
	// driftShift is how many lines a drifted twin's hunks are off by.
	driftShift = 3
)

// errNoBug says a module ran out of bug sites that qualify.
var errNoBug = errors.New("no bug site qualifies")

// taskMaker makes the tasks of one module, one after the other.
type taskMaker struct {
	u     *upstream
	s     *suite
	rng   *rand.Rand
	out   string // the output directory
	n     int    // candidates per task
	log   *slog.Logger
	draw  []Mutation
	next  int
	used  map[string]bool // functions that already hold a task's bug
	tried map[string]bool // bug sites tried
}

// made is one finished task.
type made struct {
	catalog CatalogTask
	repo    string // the visible repository
	tests   []testArtifact
	problem string
}

type testArtifact struct {
	id, kind, patch string
}

// site is a bug found: its mutations, the files they make, the hidden tests.
type site struct {
	muts   []Mutation
	buggy  map[string][]byte // file -> buggy content
	hidden []string          // top-level tests that catch it
	// visible are catching tests left in the visible suite.
	visible []string
}

// make builds the task id: a qualifying bug, its visible repository, the
// candidates, graded, the generated tests, validated, and the sampled pool.
func (tm *taskMaker) make(ctx context.Context, id string) (*made, error) {
	for {
		st, err := tm.findBug(ctx)
		if err != nil {
			return nil, err
		}
		m, err := tm.build(ctx, id, st)
		if err != nil {
			return nil, err
		}
		if m != nil {
			for _, mu := range st.muts {
				tm.used[mu.File+"#"+mu.Func] = true
			}
			return m, nil
		}
	}
}

// findBug tries sites in draw order until one compiles and makes some but
// not most tests fail; sometimes it adds a second site.
func (tm *taskMaker) findBug(ctx context.Context) (*site, error) {
	for trials := 0; tm.next < len(tm.draw); tm.next++ {
		m := tm.draw[tm.next]
		if tm.used[m.File+"#"+m.Func] || tm.tried[m.ID()] {
			continue
		}
		if trials++; trials > maxBugTrials {
			break
		}
		tm.tried[m.ID()] = true
		st, err := tm.qualify(ctx, m)
		if err != nil {
			return nil, err
		}
		if st == nil {
			continue
		}
		tm.next++
		if tm.rng.Float64() < twoSiteShare {
			if two, err := tm.secondSite(ctx, st); err != nil {
				return nil, err
			} else if two != nil {
				st = two
			}
		}
		return st, nil
	}
	return nil, fmt.Errorf("%s@%s: %w after %d sites", tm.u.mod.Path, tm.u.mod.Version, errNoBug, tm.next)
}

// apply makes the files of a set of mutations applied to the published
// sources.
func (tm *taskMaker) apply(ms ...Mutation) (map[string][]byte, error) {
	byFile := map[string][]Mutation{}
	for _, m := range ms {
		byFile[m.File] = append(byFile[m.File], m)
	}
	files := map[string][]byte{}
	for f, fms := range byFile {
		b, err := Apply(tm.u.sources[f], fms...)
		if err != nil {
			return nil, err
		}
		if string(b) == string(tm.u.sources[f]) {
			return nil, fmt.Errorf("mutation leaves %s unchanged", f)
		}
		files[f] = b
	}
	return files, nil
}

// qualify runs the published suite with the mutations: it qualifies when
// everything builds and between one and maxHiddenTests top-level tests (at
// most a fifth of them) fail. It returns nil when it does not.
func (tm *taskMaker) qualify(ctx context.Context, ms ...Mutation) (*site, error) {
	files, failing, err := tm.failing(ctx, ms...)
	if err != nil || failing == nil {
		return nil, err
	}
	limit := max(1, min(maxHiddenTests, tm.u.tops/5))
	if len(failing) == 0 || len(failing) > limit {
		tm.log.Debug("site passed over", "bug", ms[len(ms)-1].Desc, "failing", len(failing), "limit", limit)
		return nil, nil
	}
	return &site{muts: ms, buggy: files, hidden: slices.Sorted(maps.Keys(failing))}, nil
}

// failing runs the published suite with the mutations and returns the
// files they make and the top-level tests with a stable case that does not
// pass; a nil set when the mutations do not apply or something does not
// build.
func (tm *taskMaker) failing(ctx context.Context, ms ...Mutation) (map[string][]byte, map[string]bool, error) {
	files, err := tm.apply(ms...)
	if err != nil {
		return nil, nil, nil
	}
	patch, err := diffFiles(tm.u.repo, files)
	if err != nil {
		return nil, nil, err
	}
	res, out, err := tm.s.run(ctx, tm.u.repo, patch, nil)
	if err != nil || !built(res) {
		return nil, nil, err
	}
	failing := map[string]bool{}
	for c := range tm.u.stable {
		if out[c] != pass {
			failing[topLevel(c)] = true
		}
	}
	return files, failing, nil
}

// secondSite looks for a second mutation in the same file (same function
// first) that breaks a test by itself and, with the first, still qualifies:
// a two-site bug, whose one-site fixes are partial and each still fail.
func (tm *taskMaker) secondSite(ctx context.Context, first *site) (*site, error) {
	m1 := first.muts[0]
	var same, other []Mutation
	for _, m := range tm.draw {
		if m.File != m1.File || m.overlaps(m1) || m.ID() == m1.ID() {
			continue
		}
		if m.Func == m1.Func {
			same = append(same, m)
		} else {
			other = append(other, m)
		}
	}
	cands := slices.Concat(same, other)
	for i := 0; i < len(cands) && i < maxTwoSite; i++ {
		var (
			both  *site
			alone map[string]bool
		)
		eg, ectx := errgroup.WithContext(ctx)
		eg.Go(func() (err error) { both, err = tm.qualify(ectx, m1, cands[i]); return err })
		eg.Go(func() (err error) { _, alone, err = tm.failing(ectx, cands[i]); return err })
		if err := eg.Wait(); err != nil {
			return nil, err
		}
		if both != nil && len(alone) > 0 {
			return both, nil
		}
	}
	return nil, nil
}

// build makes the task from a qualifying site, or returns nil when the site
// turns out unusable (hiding its tests breaks the build, the exact fix does
// not resolve it).
func (tm *taskMaker) build(ctx context.Context, id string, st *site) (*made, error) {
	log := tm.log.With("task", id)
	repo := filepath.Join(tm.out, ReposDir, id)
	st.visible = nil
	if tm.rng.Float64() < visibleShare {
		st.visible = []string{st.hidden[tm.rng.IntN(len(st.hidden))]}
	}
	visibleTests, ok, err := tm.writeVisible(repo, st)
	if err != nil || !ok {
		return nil, err
	}
	hiddenTop := map[string]bool{}
	for _, h := range st.hidden {
		hiddenTop[h] = true
	}
	restore := map[string][]byte{}
	for f := range visibleTests {
		if string(visibleTests[f]) != string(tm.u.tests[f]) {
			restore[f] = tm.u.tests[f]
		}
	}
	hiddenPatch, err := diffFiles(repo, restore)
	if err != nil {
		return nil, err
	}
	g := &grader{s: tm.s, repo: repo, stable: tm.u.stable, hidden: hiddenTop, hiddenPatch: hiddenPatch}
	fixed := map[string][]byte{}
	for f := range st.buggy {
		fixed[f] = tm.u.sources[f]
	}
	exact, err := diffFiles(repo, fixed)
	if err != nil {
		return nil, err
	}
	gens, err := tm.writeTests(repo, st, visibleTests)
	if err != nil {
		return nil, err
	}

	// Two runs check the site and the generated tests at once: the base with
	// the generated tests (the visible suite must pass), and the exact fix
	// graded with them (it must resolve the task).
	visiblePass := func(res executor.Result, out outcomes) bool {
		if !built(res) {
			return false
		}
		for c := range tm.u.stable {
			if !hiddenTop[topLevel(c)] && out[c] != pass {
				return false
			}
		}
		return true
	}
	checked := compiling(gens)
	var (
		baseRes executor.Result
		onBase  outcomes
		ex      *graded
		onFix   outcomes
	)
	eg, ectx := errgroup.WithContext(ctx)
	eg.Go(func() (err error) { baseRes, onBase, err = tm.s.run(ectx, repo, "", checked); return err })
	eg.Go(func() (err error) {
		ex, onFix, err = g.gradeWith(ectx, KindExact, KindExact, exact, checked)
		return err
	})
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	if !visiblePass(baseRes, onBase) {
		// The generated tests may be what broke the build: try without.
		res, out, err := tm.s.run(ctx, repo, "", nil)
		if err != nil {
			return nil, err
		}
		if !visiblePass(res, out) {
			log.Debug("site passed over: the visible suite does not pass on base", "bug", st.muts[0].Desc)
			return nil, os.RemoveAll(repo)
		}
		log.Warn("generated tests dropped: they break the build on base", "bug", st.muts[0].Desc)
		gens, checked = nil, nil
		if ex, onFix, err = g.gradeWith(ctx, KindExact, KindExact, exact, nil); err != nil {
			return nil, err
		}
	}
	if !ex.entry.Resolved {
		log.Debug("site passed over: the exact fix does not resolve it", "status", ex.entry.Status)
		return nil, os.RemoveAll(repo)
	}
	// Every other grading run carries the generated tests: how they fare
	// on the wrong candidates tells a weak test from a strong one.
	g.extra = checked
	graded, err := tm.candidates(ctx, g, st, repo, visibleTests, ex)
	if err != nil {
		return nil, err
	}
	tests, reproduction := tm.keepTests(gens, onBase, onFix, graded)
	var pool []Entry
	for _, gr := range graded {
		pool = append(pool, gr.entry)
	}
	m := &made{repo: repo, tests: tests, problem: problem(tm.u.mod, st)}
	m.catalog = CatalogTask{
		InstanceID: id, Module: tm.u.mod.Path + "@" + tm.u.mod.Version,
		Hidden: st.hidden, Visible: st.visible, Entries: pool, Reproduction: reproduction,
	}
	for _, mu := range st.muts {
		m.catalog.Bugs = append(m.catalog.Bugs, Bug{File: mu.File, Func: mu.Func, Line: mu.Line, Op: mu.Op, Desc: mu.Desc})
	}
	for _, t := range tests {
		m.catalog.Tests = append(m.catalog.Tests, TestInfo{ID: t.id, Kind: t.kind})
	}
	m.catalog.Pools = drawPools(tm.rng, id, pool, tm.n)
	log.Info("task made", "bug", st.muts[0].Desc, "sites", len(st.muts), "hidden", len(st.hidden), "visible", len(st.visible), "kinds", len(pool), "tests", len(tests), "reproduction", reproduction)
	return m, nil
}

// writeVisible writes the task's repository: the module with the bug, the
// catching tests removed, committed as one commit (no history gives the fix
// away). It returns the visible test files, and false when a hidden test
// cannot be removed.
func (tm *taskMaker) writeVisible(repo string, st *site) (map[string][]byte, bool, error) {
	tests := maps.Clone(tm.u.tests)
	byFile := map[string][]string{}
	for _, h := range st.hidden {
		if slices.Contains(st.visible, h) {
			continue
		}
		f, name, err := tm.u.findTest(h)
		if err != nil {
			return nil, false, nil
		}
		byFile[f] = append(byFile[f], name)
	}
	for f, names := range byFile {
		b, err := removeFuncs(tests[f], names)
		if err != nil {
			return nil, false, nil
		}
		tests[f] = b
	}
	if err := os.RemoveAll(repo); err != nil {
		return nil, false, err
	}
	if err := testsubject.CopyTree(tm.u.repo, repo); err != nil {
		return nil, false, err
	}
	if err := os.RemoveAll(filepath.Join(repo, ".git")); err != nil {
		return nil, false, err
	}
	if err := writeFiles(repo, st.buggy); err != nil {
		return nil, false, err
	}
	if err := writeFiles(repo, tests); err != nil {
		return nil, false, err
	}
	if _, err := testsubject.Git(repo, "init", "-q", "-b", "main"); err != nil {
		return nil, false, err
	}
	return tests, true, commitFixed(repo, "base")
}

// candidates makes every kind of candidate the site allows and grades each;
// candidates that are not what their kind claims (a does-not-apply patch
// that applies, a twin that does not resolve or leaves another tree) are
// left out.
func (tm *taskMaker) candidates(ctx context.Context, g *grader, st *site, repo string, visibleTests map[string][]byte, exact *graded) ([]*graded, error) {
	pool := []*graded{exact}
	wrongs, err := tm.wrongFixes(ctx, g, st)
	if err != nil {
		return nil, err
	}
	pool = append(pool, wrongs...)
	regress, err := tm.regressions(ctx, g, st)
	if err != nil {
		return nil, err
	}
	pool = append(pool, regress...)

	// The rest needs one grading run each, all independent.
	type todo struct{ name, kind, patch string }
	var todos []todo
	// Two-site bugs sit in one file (see secondSite).
	bugFile := st.muts[0].File
	tf, tc := twins(st.buggy[bugFile], tm.u.sources[bugFile])
	for _, t := range []struct {
		kind string
		src  []byte
	}{{KindTwinFormat, tf}, {KindTwinComment, tc}} {
		p, err := diffFiles(repo, map[string][]byte{bugFile: t.src})
		if err != nil {
			return nil, err
		}
		todos = append(todos, todo{t.kind, t.kind, p})
	}
	renamed, err := hoistedTwins(tm.u.sources[bugFile], st.muts[0], 2)
	if err != nil {
		return nil, err
	}
	for i, src := range renamed {
		p, err := diffFiles(repo, map[string][]byte{bugFile: src})
		if err != nil {
			return nil, err
		}
		todos = append(todos, todo{fmt.Sprintf("%s-%d", KindTwinRenamed, i+1), KindTwinRenamed, p})
	}
	if p, ok := driftedContext(exact.entry.Patch, driftShift); ok {
		todos = append(todos, todo{KindTwinDrifted, KindTwinDrifted, p})
	}
	if len(st.muts) == 2 {
		for i, keep := range st.muts {
			files, err := tm.apply(keep)
			if err != nil {
				return nil, err
			}
			for f := range st.buggy {
				if _, ok := files[f]; !ok {
					files[f] = tm.u.sources[f]
				}
			}
			p, err := diffFiles(repo, files)
			if err != nil {
				return nil, err
			}
			todos = append(todos, todo{fmt.Sprintf("%s-%d", KindPartial, i+1), KindPartial, p})
		}
	}
	first := st.muts[0]
	noop, err := insertLine(st.buggy[first.File], first.Line, "// NOTE: this condition was reviewed; behaviour unchanged.")
	if err != nil {
		return nil, err
	}
	p, err := diffFiles(repo, map[string][]byte{first.File: noop})
	if err != nil {
		return nil, err
	}
	todos = append(todos, todo{KindNoop, KindNoop, p})
	if stale, ok := staleContext(exact.entry.Patch); ok {
		todos = append(todos, todo{KindNoApply, KindNoApply, stale})
	}
	if base := firstOf(pool, KindWrong, KindRegression); base != nil {
		p, err := tm.tamper(repo, st, visibleTests, base)
		if err != nil {
			return nil, err
		}
		if p != "" {
			todos = append(todos, todo{KindTampering, KindTampering, p})
		}
	}

	grades := make([]*graded, len(todos))
	eg, ectx := errgroup.WithContext(ctx)
	for i, t := range todos {
		eg.Go(func() error {
			gr, err := g.grade(ectx, t.name, t.kind, t.patch)
			grades[i] = gr
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	pool = append(pool, grades...)
	// The empty patch leaves the base as it is: qualify already ran the full
	// suite on it and hidden tests failed.
	pool = append(pool, &graded{entry: Entry{Name: KindEmpty, Kind: KindEmpty, Status: "not run: the base, graded when the bug qualified"}})
	var kept []*graded
	for _, gr := range pool {
		switch gr.entry.Kind {
		case KindNoApply:
			if gr.entry.Status != string(executor.ApplyFailed) {
				continue // it applied after all: not what it claims to be
			}
		case KindTwinRenamed:
			if !gr.entry.Resolved {
				continue
			}
		case KindTwinDrifted:
			if !gr.entry.Resolved || gr.applied != "patch --fuzz" || gr.tree != exact.tree {
				continue // git apply took it, or fuzz placed it elsewhere
			}
		}
		kept = append(kept, gr)
	}
	slices.SortStableFunc(kept, func(a, b *graded) int { return strings.Compare(a.entry.Name, b.entry.Name) })
	return kept, nil
}

// firstOf returns the first graded candidate of the first kind present.
func firstOf(pool []*graded, kinds ...string) *graded {
	for _, k := range kinds {
		for _, gr := range pool {
			if gr.entry.Kind == k {
				return gr
			}
		}
	}
	return nil
}

// wrongFixes looks for up to maxWrongFixes plausible wrong fixes: the published code
// with another mutation at the bug's site (inside the mutated node first,
// then elsewhere in the same function, nearest first) that builds and
// still fails a hidden test.
func (tm *taskMaker) wrongFixes(ctx context.Context, g *grader, st *site) ([]*graded, error) {
	m := st.muts[0]
	all, err := Mutations(m.File, tm.u.sources[m.File], true)
	if err != nil {
		return nil, err
	}
	var inside, near []Mutation
	for _, w := range all {
		if w.Func != m.Func {
			continue
		}
		if w.within(m.Start, m.End) {
			inside = append(inside, w)
		} else {
			near = append(near, w)
		}
	}
	tm.rng.Shuffle(len(inside), func(i, j int) { inside[i], inside[j] = inside[j], inside[i] })
	slices.SortStableFunc(near, func(a, b Mutation) int { return abs(a.Start-m.Start) - abs(b.Start-m.Start) })
	var patches []string
	for _, w := range slices.Concat(inside, near) {
		if len(patches) == maxWrongTrials {
			break
		}
		// The other site of a two-site bug is fixed: only this one is wrong.
		files, err := tm.apply(w)
		if err != nil {
			continue
		}
		for f := range st.buggy {
			if _, ok := files[f]; !ok {
				files[f] = tm.u.sources[f]
			}
		}
		if sameFiles(files, st.buggy) {
			continue
		}
		p, err := diffFiles(g.repo, files)
		if err != nil {
			return nil, err
		}
		patches = append(patches, p)
	}
	return searchInOrder(ctx, patches, maxWrongFixes, func(ctx context.Context, i int, p string) (*graded, error) {
		gr, err := g.grade(ctx, "", KindWrong, p)
		if err != nil || !gr.built || gr.entry.Resolved || !gr.failsHidden {
			return nil, err
		}
		return gr, nil
	}, func(i int, gr *graded) { gr.entry.Name = fmt.Sprintf("%s-%d", KindWrong, i+1) })
}

// regressions look for the exact fix plus a mutation in another function
// that breaks a visible test.
func (tm *taskMaker) regressions(ctx context.Context, g *grader, st *site) ([]*graded, error) {
	bugFuncs := map[string]bool{}
	for _, m := range st.muts {
		bugFuncs[m.File+"#"+m.Func] = true
	}
	var cands []Mutation
	for _, m := range tm.draw {
		if !bugFuncs[m.File+"#"+m.Func] {
			cands = append(cands, m)
		}
	}
	tm.rng.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	var patches []string
	for _, r := range cands {
		if len(patches) == maxRegressTrial {
			break
		}
		files, err := tm.apply(r)
		if err != nil {
			continue
		}
		for f := range st.buggy {
			if _, ok := files[f]; !ok {
				files[f] = tm.u.sources[f]
			}
		}
		p, err := diffFiles(g.repo, files)
		if err != nil {
			return nil, err
		}
		patches = append(patches, p)
	}
	return searchInOrder(ctx, patches, maxRegressions, func(ctx context.Context, _ int, p string) (*graded, error) {
		gr, err := g.grade(ctx, "", KindRegression, p)
		if err != nil || !gr.built || gr.failsHidden || len(gr.visibleFailing) == 0 {
			return nil, err
		}
		return gr, nil
	}, func(i int, gr *graded) { gr.entry.Name = fmt.Sprintf("%s-%d", KindRegression, i+1) })
}

// tamper is base's patch plus an edit to a visible test file of the bug's
// package: a test that base fails (or any) is skipped or deleted.
func (tm *taskMaker) tamper(repo string, st *site, visibleTests map[string][]byte, base *graded) (string, error) {
	dir := path.Dir(st.muts[0].File)
	type victim struct{ file, name string }
	var preferred, others []victim
	for _, f := range slices.Sorted(maps.Keys(visibleTests)) {
		if path.Dir(f) != dir {
			continue
		}
		names, err := testFuncNames(visibleTests[f])
		if err != nil {
			return "", err
		}
		for _, n := range names {
			if !strings.HasPrefix(n, "Test") {
				continue
			}
			v := victim{f, n}
			if base.visibleFailing[tm.u.importPath(dir)+"::"+n] {
				preferred = append(preferred, v)
			} else {
				others = append(others, v)
			}
		}
	}
	cands := preferred
	if len(cands) == 0 {
		cands = others
	}
	if len(cands) == 0 {
		return "", nil
	}
	v := cands[tm.rng.IntN(len(cands))]
	src := visibleTests[v.file]
	var edited []byte
	param, at, err := testParam(src, v.name)
	if err != nil {
		return "", err
	}
	if param != "" && tm.rng.IntN(2) == 0 {
		edited = slices.Concat(src[:at], []byte("\n\t"+param+".Skip(\"flaky on CI, see issue tracker\")\n"), src[at:])
	} else if edited, err = removeFuncs(src, []string{v.name}); err != nil {
		return "", nil
	}
	files, err := patchFiles(repo, base.entry.Patch)
	if err != nil {
		return "", err
	}
	files[v.file] = edited
	return diffFiles(repo, files)
}

// problem is the task's issue text.
func problem(mod Module, st *site) string {
	m := st.muts[0]
	return fmt.Sprintf("%s: %s in %s returns wrong results since a recent change. It used to work as documented; please fix it without changing the tests.", mod.Path, m.Func, m.File)
}

func sameFiles(a, b map[string][]byte) bool {
	return maps.EqualFunc(a, b, func(x, y []byte) bool { return string(x) == string(y) })
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// searchInOrder tries candidates width at a time and keeps the first k that
// try accepts, in candidate order, so the outcome does not depend on which
// run ends first. accept numbers each one kept.
func searchInOrder(ctx context.Context, patches []string, k int, try func(context.Context, int, string) (*graded, error), accept func(int, *graded)) ([]*graded, error) {
	var found []*graded
	for start := 0; start < len(patches) && len(found) < k; start += trialWidth {
		batch := patches[start:min(start+trialWidth, len(patches))]
		res := make([]*graded, len(batch))
		eg, ectx := errgroup.WithContext(ctx)
		for i, p := range batch {
			eg.Go(func() (err error) { res[i], err = try(ectx, start+i, p); return err })
		}
		if err := eg.Wait(); err != nil {
			return nil, err
		}
		for _, r := range res {
			if r != nil && len(found) < k {
				accept(len(found), r)
				found = append(found, r)
			}
		}
	}
	return found, nil
}
