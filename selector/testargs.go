package selector

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/bluekeyes/go-gitdiff/gitdiff"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/selector/related"
)

// ListRunID is the ID of the run that lists the repository's test files
// for a task whose test arguments are related to the candidates' changes.
const ListRunID = "list/tests"

// testArgs is the plan's side of a task's TestArgs: the fixed arguments,
// and for related tests the listing run and what it chose. The arguments
// of every base and candidate run are a pure function of the task, the
// candidates' patches and the recorded listing, so a replayed plan appends
// the same arguments.
type testArgs struct {
	spec   TestArgs
	format *executor.FormatSpec // names the related test files to the runner
	conv   *related.Convention  // nil unless spec.Related
	// changed are the source files the candidates change, sorted: after
	// each batch of candidates (a job's candidates, or an open job's
	// appends), those of every batch up to it. The related tests come from
	// the first of them that has any (choose), so an open job's related
	// tests, once chosen, stay as they are.
	changed [][]string
	list    executor.Run // the listing run, when conv != nil
}

// newTestArgs prepares a task's test arguments; nil when it has none.
func newTestArgs(t Task) (*testArgs, error) {
	if t.TestArgs == nil {
		return nil, nil
	}
	a := &testArgs{spec: *t.TestArgs}
	if a.spec.Related == "" {
		if len(a.spec.Original) == 0 {
			return nil, invalid("task %q: test_args has neither \"original\" arguments nor a \"related\" convention: without them the command would run every test", t.ID)
		}
		return a, nil
	}
	conv, err := related.Lookup(a.spec.Related)
	if err != nil {
		return nil, invalid("task %q: test_args: %v", t.ID, err)
	}
	a.conv = conv
	if a.format, err = t.Format.Spec(); err != nil {
		return nil, invalid("task %q: %v", t.ID, err) // Validate has checked it
	}
	if !a.format.NamesTestFiles() {
		return nil, invalid("task %q: test_args.related needs a runner that takes test files as arguments, and test_format %q does not say how its runner names one: give test_args.original", t.ID, t.Format)
	}
	patterns := a.spec.ListPatterns
	if len(patterns) == 0 {
		patterns = t.run("", nil).TestFiles
	}
	if len(patterns) == 0 {
		return nil, invalid("task %q: test_args.related needs the patterns of the test files to list: set test_args.list_patterns or test_files", t.ID)
	}
	quoted := make([]string, len(patterns))
	for i, p := range patterns {
		quoted[i] = shellQuote(p)
	}
	a.list = t.run("", nil)
	a.list.Command = "git ls-files -- " + strings.Join(quoted, " ")
	a.list.Format = executor.Listing
	a.list.Report = ""
	a.list.TestFiles = nil
	return a, nil
}

// withBatch returns the arguments after one more batch of candidates,
// given the patches it adds; fixed arguments do not depend on them.
func (a *testArgs) withBatch(t Task, patches []string) *testArgs {
	if a.conv == nil {
		return a
	}
	b := *a
	var changed []string
	if n := len(a.changed); n > 0 {
		changed = slices.Clone(a.changed[n-1])
	}
	for _, p := range patches {
		for _, f := range changedFiles(p) {
			if !slices.Contains(changed, f) && !t.isTestFile(f) {
				changed = append(changed, f)
			}
		}
	}
	slices.Sort(changed)
	b.changed = append(slices.Clip(a.changed), changed)
	return &b
}

// allChanged are the source files every candidate changes.
func (a *testArgs) allChanged() []string {
	if len(a.changed) == 0 {
		return nil
	}
	return a.changed[len(a.changed)-1]
}

// isTestFile reports whether a path is one of the task's test files.
func (t Task) isTestFile(path string) bool { return t.TestFileMatcher().Match(path) }

// changedFiles are the paths a patch changes (both names of a rename); a
// patch that does not parse changes nothing that can be found.
func changedFiles(patch string) []string {
	files, _, err := gitdiff.Parse(strings.NewReader(patch))
	if err != nil {
		return nil
	}
	var out []string
	for _, f := range files {
		for _, n := range []string{f.OldName, f.NewName} {
			if n != "" && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// listRun is the listing run, when the task's arguments are related.
func (p *Plan) listRun() (PlannedRun, bool) {
	if p.args == nil || p.args.conv == nil {
		return PlannedRun{}, false
	}
	return PlannedRun{ID: ListRunID, Key: RunKey(p.args.list), Run: p.args.list}, true
}

// listPending reports whether the listing is still needed before any other
// run can be planned.
func (p *Plan) listPending() bool {
	r, ok := p.listRun()
	if !ok {
		return false
	}
	_, done := p.results[r.ID]
	return !done
}

// chosen is what the related convention chose from a listing, with the
// runner's argument of each related test file.
type chosen struct {
	related.Selection
	// args are the runner's arguments of Selection.Files, sorted, unique.
	args []string
	// directive maps a related test file to its argument.
	directive map[string]string
	// none says why no test is related, when none is.
	none string
	// later are the source files only candidates appended after the
	// related tests were chosen change (an open job's): their own related
	// tests are not run.
	later []string
}

// selection is what the related convention chose from the recorded
// listing, or the reason the job cannot go on.
func (p *Plan) selection() (chosen, error) {
	res, ok := p.results[ListRunID]
	if !ok {
		return chosen{}, nil
	}
	// Every run's command asks for it: choose once per listing. Results are
	// never changed in place, so the listing's case slice identifies it
	// (a plan replayed with other results has another one).
	m := &p.selMemo
	if len(res.Cases) > 0 && m.cases == &res.Cases[0] && m.n == len(res.Cases) {
		return m.sel, m.err
	}
	sel, err := p.choose(res)
	if len(res.Cases) > 0 {
		*m = selectionMemo{cases: &res.Cases[0], n: len(res.Cases), sel: sel, err: err}
	}
	return sel, err
}

// selectionMemo remembers the selection of one listing.
type selectionMemo struct {
	cases *executor.Case
	n     int
	sel   chosen
	err   error
}

// choose runs the convention on a recorded listing, and names the related
// test files in the format's form (FormatSpec.Directive).
func (p *Plan) choose(res executor.Result) (chosen, error) {
	if res.Status != executor.Completed {
		return chosen{}, fmt.Errorf("listing the repository's test files (%s) failed: %s: %s", p.args.list.Command, res.Status, res.Reason)
	}
	files := make([]string, len(res.Cases))
	for i, c := range res.Cases {
		files[i] = c.ID
	}
	// The first batch whose changes have related tests chooses them (an
	// open job's later appends leave them as they are); when none has
	// any, every candidate's changes say so.
	var found related.Selection
	var from []string
	for _, changed := range p.args.changed {
		if found, from = p.args.conv.Find(files, changed), changed; len(found.Files) > 0 {
			break
		}
	}
	sel := chosen{Selection: found, directive: map[string]string{}}
	for _, f := range p.args.allChanged() {
		if !slices.Contains(from, f) {
			sel.later = append(sel.later, f)
		}
	}
	for _, f := range sel.Files {
		arg, err := p.args.format.Directive(f)
		if err != nil {
			return sel, fmt.Errorf("related test %s: %w", f, err)
		}
		sel.directive[f] = arg
		if !slices.Contains(sel.args, arg) {
			sel.args = append(sel.args, arg)
		}
	}
	slices.Sort(sel.args)
	if len(sel.args) == 0 {
		changed := "no source file"
		if all := p.args.allChanged(); len(all) > 0 {
			changed = strings.Join(all, ", ")
		}
		sel.none = fmt.Sprintf("no related test: the candidates change %s, and none has an existing test by the %s convention among the %d test files listed", changed, p.args.conv.Name, len(files))
	}
	return sel, nil
}

// noRelated says why no original test is related to the candidates'
// changes, once the listing is recorded; "" when some are.
func (p *Plan) noRelated() string {
	if p.args == nil || p.args.conv == nil {
		return ""
	}
	sel, err := p.selection()
	if err != nil {
		return ""
	}
	return sel.none
}

// noRelatedRemedy says what to use instead of related tests that do not
// exist.
func (p *Plan) noRelatedRemedy() string {
	if p.p2p != nil {
		// SWE-bench's p2p falls back to related tests when PASS_TO_PASS
		// names no file (sympy's bare names): p2p is no way out here.
		return "use --regression-tests all, or generated tests (--generate-tests N); PASS_TO_PASS names no test file, so p2p looked for related tests"
	}
	return "use --regression-tests p2p or all (SWE-bench), test_args.original (a task file), or generated tests (--generate-tests N)"
}

// halted says why no run of the job can give evidence because of its test
// arguments, or "": the listing of its test files failed, or a related
// test file cannot be named to the runner. The plan needs no further run
// then, and the base row of its matrix says why (the verdict abstains).
func (p *Plan) halted() string {
	if p.args == nil || p.args.conv == nil || p.listPending() {
		return ""
	}
	if _, err := p.selection(); err != nil {
		return err.Error()
	}
	return ""
}

// notRun says why the base runs ran nothing, when they did not: no test is
// related to the candidates' changes and the job has no generated test, so
// every run would have named no test to the runner (nothingToRun).
func (p *Plan) notRun() string {
	if why := p.noRelated(); why != "" && p.nothingToRun(p.tests) {
		return why + ", and no generated test names a test file to run, so nothing was run; to get evidence, " + p.noRelatedRemedy()
	}
	return ""
}

// generatedArgs checks that the runner can be told to run each generated
// test file (a file that declares test functions), in its own form.
func (p *Plan) generatedArgs() error {
	for id, d := range p.declared {
		for _, src := range d.sources {
			if len(src.Funcs) == 0 {
				continue
			}
			if _, err := d.format.Directive(src.Path); err != nil {
				return invalid("task %q: generated test %q: %v", p.job.Task.ID, id, err)
			}
		}
	}
	return nil
}

// command is a run's test command: the task's, followed by its arguments
// (argList), shell-quoted.
func (p *Plan) command(tests []executor.TestPatch) string {
	cmd := p.job.Task.TestCommand
	for _, a := range p.argList(tests) {
		cmd += " " + shellQuote(a)
	}
	return cmd
}

// argList are a run's test arguments: the original tests' and those of the
// generated test files the run applies. Only called once the listing, if
// any, is recorded.
func (p *Plan) argList(tests []executor.TestPatch) []string {
	if p.args == nil {
		return nil
	}
	args := slices.Clone(p.args.spec.Original)
	add := func(a string) {
		if !slices.Contains(args, a) {
			args = append(args, a)
		}
	}
	if p.args.conv != nil {
		sel, _ := p.selection()
		for _, a := range sel.args {
			add(a)
		}
	}
	for _, t := range tests {
		for _, a := range p.declared[t.ID].directives() {
			add(a)
		}
	}
	return args
}

// nothingToRun reports whether a run of these generated tests would name
// no test to the runner although the task's command takes them as
// arguments: no original test is related, and the run applies no generated
// test file. Such a run is never executed (its command would run the whole
// suite); the plan records it as completed with no case.
func (p *Plan) nothingToRun(tests []executor.TestPatch) bool {
	return p.args != nil && p.args.conv != nil && !p.listPending() && len(p.argList(tests)) == 0
}

// directives are the runner's arguments that run the test files a generated
// test adds (the files that declare test functions; data and helpers have
// nothing to run).
func (d declaredTests) directives() []string {
	var out []string
	for _, src := range d.sources {
		if len(src.Funcs) == 0 {
			continue
		}
		if a, err := d.format.Directive(src.Path); err == nil && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// generatedRun is a run outside the plan that applies generated tests: the
// test writer's base runs, an adversarial round's runs. For a task whose
// command takes its tests as arguments (a SWE-bench task) the command names
// the generated test files alone, in the format's form: these runs are
// about the generated tests, and without arguments the command would run
// the whole suite (hours for Django or sympy).
func (t Task) generatedRun(patch string, tests []executor.TestPatch) executor.Run {
	r := t.run(patch, tests)
	spec, err := t.Format.Spec()
	if t.TestArgs == nil || err != nil {
		return r
	}
	var args []string
	for _, tp := range tests {
		for _, a := range declare(spec, tp.Patch).directives() {
			if !slices.Contains(args, a) {
				args = append(args, a)
			}
		}
	}
	for _, a := range args {
		r.Command += " " + shellQuote(a)
	}
	return r
}

// testArgsNote says which original tests the job ran and why, for the
// verdict; "" for a task without test arguments.
func (p *Plan) testArgsNote() string {
	if p.args == nil {
		return ""
	}
	if p.args.conv == nil {
		return fmt.Sprintf("original tests: the task's %d test arguments", len(p.args.spec.Original))
	}
	sel, err := p.selection()
	if err != nil {
		return err.Error()
	}
	if sel.none != "" {
		if p.notRun() != "" {
			return "" // the base row says it, and the verdict abstains with it
		}
		return sel.none + ": the runs ran the generated tests alone, so no regression was looked for"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "original tests related to the candidates' changes (%s convention): ", p.args.conv.Name)
	for i, f := range slices.Sorted(maps.Keys(sel.Matched)) {
		if i > 0 {
			b.WriteString("; ")
		}
		var args []string
		for _, t := range sel.Matched[f] {
			args = append(args, sel.directive[t])
		}
		fmt.Fprintf(&b, "%s -> %s", f, strings.Join(slices.Compact(args), " "))
	}
	if len(sel.Unmatched) > 0 {
		fmt.Fprintf(&b, "; no related test for %s", strings.Join(sel.Unmatched, ", "))
	}
	if len(sel.later) > 0 {
		fmt.Fprintf(&b, "; chosen from the first candidates with related tests, and kept so that no run is done twice: the related tests of %s, changed only by candidates appended later, were not run", strings.Join(sel.later, ", "))
	}
	return b.String()
}

// shellQuote quotes a word for bash unless it is plainly safe.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_./-:=,+@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
