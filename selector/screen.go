package selector

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bestpatch/bestpatch/executor"
)

// baseMode is how a job with generated tests learns which of them to keep:
// a test that does not apply or does not compile (or fails collection) on
// base is left out of the candidates' runs, so that it cannot poison them.
type baseMode int

const (
	// modeWaiting: the first base run, which applies every generated test,
	// is not in yet; candidates wait for it.
	modeWaiting baseMode = iota
	// modePlain: the first base run broke no unit; every generated test
	// that applied is kept.
	modePlain
	// modeScreened: the first base run broke units, and its errors name the
	// files at fault (Result.BrokenFiles): the generated tests with a file
	// named are dropped without a run of their own. base/2 runs the kept
	// tests and confirms the screening: it must break no unit the first
	// run did not, and name no kept test's file.
	modeScreened
	// modeIsolated: the first base run broke units that its errors do not
	// attribute (the format names no file), or the screening did not hold:
	// the original suite and each generated test run alone on base.
	modeIsolated
)

// mode is the plan's base mode, a function of the recorded base runs.
func (p *Plan) mode() baseMode {
	if len(p.tests) == 0 {
		return modePlain
	}
	first, ok := p.results["base/1"]
	switch {
	case !ok:
		return modeWaiting
	case len(first.Broken) == 0:
		return modePlain
	case len(first.BrokenFiles) == 0:
		return modeIsolated
	}
	if second, ok := p.results["base/2"]; ok && !p.screenHeld(first, second) {
		return modeIsolated
	}
	return modeScreened
}

// screenHeld reports whether the confirming base run (the kept tests only)
// agrees with the screening: it completed, broke no unit the first run
// did not break, and its errors name no file of a kept test.
func (p *Plan) screenHeld(first, second executor.Result) bool {
	if second.Status != executor.Completed {
		return false
	}
	for _, u := range second.Broken {
		if !slices.Contains(first.Broken, u) {
			return false
		}
	}
	for _, t := range p.screenKept() {
		for _, f := range p.testFiles(t.ID) {
			if slices.Contains(second.BrokenFiles, f) {
				return false
			}
		}
	}
	return true
}

// testFiles are the files a generated test adds.
func (p *Plan) testFiles(id string) []string {
	var out []string
	for _, src := range p.declared[id].sources {
		out = append(out, src.Path)
	}
	return out
}

// appliedReason says why the first base run leaves a generated test out
// whatever the mode: it did not complete, or the test did not apply.
func (p *Plan) appliedReason(id string) string {
	res := p.results["base/1"]
	if res.Status != executor.Completed {
		return fmt.Sprintf("base run with it did not complete (%s)", res.Status)
	}
	if ok, known := res.TestsApplied[id]; known && !ok {
		return "its patch does not apply to the base commit"
	}
	return ""
}

// screenReason says why the first base run's errors drop a generated test:
// they name one of its files.
func (p *Plan) screenReason(id string) string {
	first := p.results["base/1"]
	var named []string
	for _, f := range p.testFiles(id) {
		if slices.Contains(first.BrokenFiles, f) {
			named = append(named, f)
		}
	}
	if len(named) == 0 {
		return ""
	}
	return "it does not compile (or fails collection) on base: the errors name " + strings.Join(named, ", ")
}

// screenKept are the generated tests the first base run keeps when its
// errors name files: those that applied and have no file named.
func (p *Plan) screenKept() []executor.TestPatch {
	var kept []executor.TestPatch
	for _, t := range p.tests {
		if p.appliedReason(t.ID) == "" && p.screenReason(t.ID) == "" {
			kept = append(kept, t)
		}
	}
	return kept
}

// screenLost reports whether the first base run lost units to the dropped
// tests that the confirming run has (a Go package with a test that does
// not compile runs none of its tests): their original cases then come from
// one base run only, and one more base run is needed to see whether they
// are flaky. A unit that is itself a dropped test's file loses nothing.
func (p *Plan) screenLost() bool {
	first, ok1 := p.results["base/1"]
	second, ok2 := p.results["base/2"]
	if !ok1 || !ok2 {
		return false
	}
	for _, u := range first.Broken {
		if slices.Contains(second.Broken, u) {
			continue
		}
		dropped := false
		for _, t := range p.tests {
			if p.screenReason(t.ID) != "" && slices.Contains(p.testFiles(t.ID), u) {
				dropped = true
			}
		}
		if !dropped {
			return true
		}
	}
	return false
}

// setName names a candidate run by the generated tests it applies: "all",
// or "kept-" and one digit per generated test (1: applied), so that runs
// of different test sets never share an ID.
func (p *Plan) setName(tests []executor.TestPatch) string {
	if len(tests) == len(p.tests) {
		return "all"
	}
	var b strings.Builder
	b.WriteString("kept-")
	for _, t := range p.tests {
		if slices.ContainsFunc(tests, func(k executor.TestPatch) bool { return k.ID == t.ID }) {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	return b.String()
}

// setRun is a candidate group's run with a set of generated tests.
func (p *Plan) setRun(g *group, tests []executor.TestPatch) PlannedRun {
	return p.run("cand/"+g.key+"/"+p.setName(tests), g.members, g.patch, tests)
}
