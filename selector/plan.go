package selector

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/bestpatch/bestpatch/executor"
)

// OriginalArtifact is the artifact ID of the task's original test suite.
const OriginalArtifact = "original"

// defaultBaseRuns repeats the base run once to find flaky cases: one extra
// run per job, against N candidate runs.
const defaultBaseRuns = 2

// defaultTimeout bounds one run's test command when the task sets none.
const defaultTimeout = 30 * time.Minute

// PlannedRun is one run a job needs.
type PlannedRun struct {
	// ID is stable for a job and a given set of results: the same plan
	// replayed from stored results names the same runs (the daemon relies on
	// it to hand runs out through a work queue).
	ID string `json:"id"`
	// Key is the content address of the run (environment, patch, tests,
	// command): equal keys give equal results, so results are cached by it.
	Key string `json:"key"`
	// Candidates are the IDs of the candidates whose evidence this run is.
	Candidates []string     `json:"candidates,omitempty"`
	Run        executor.Run `json:"run"`
	// Fresh runs must execute: they are never served from the result cache
	// (nor stored in it). The repeated base runs are fresh: their point is
	// to run the same thing again and catch the cases whose outcome changes,
	// which a result served by content could never show.
	Fresh bool `json:"fresh,omitempty"`
}

// group is a set of candidates whose run patches (executor.RunPatch: test
// files stripped) normalize alike; they share every run.
type group struct {
	key     string // short content key of the normalized run patch
	patch   string // the patch that is run (the first member's run patch)
	members []string
}

// Plan is the state machine of one job's runs. It is a pure function of the
// job and the results recorded so far, whatever their order: Needed reports
// the runs still missing, Done says when every needed result is in, and
// Matrix assembles the evidence. Plan is not safe for concurrent use.
type Plan struct {
	job      Job
	tests    []executor.TestPatch
	declared map[string]declaredTests // by generated test ID
	groups   []group
	byID     map[string]*group // candidate ID -> its group
	empty    []string          // candidates with an empty patch: never run
	baseRuns int
	results  map[string]executor.Result
	args     *testArgs   // the task's test arguments (testargs.go), nil without
	p2p      *passToPass // the task's PASS_TO_PASS (passtopass.go), nil without
	selMemo  selectionMemo
}

// NewPlan validates a job and plans its runs.
func NewPlan(job Job) (*Plan, error) {
	if err := job.Validate(); err != nil {
		return nil, err
	}
	p := &Plan{
		job:      job,
		declared: map[string]declaredTests{},
		byID:     map[string]*group{},
		baseRuns: job.Options.BaseRuns,
		results:  map[string]executor.Result{},
		p2p:      newPassToPass(job.Task.PassToPass),
	}
	if p.baseRuns <= 0 {
		p.baseRuns = defaultBaseRuns
	}
	format, err := job.Task.Format.Spec()
	if err != nil {
		return nil, invalid("task %q: %v", job.Task.ID, err) // Validate has checked it
	}
	for _, g := range job.Task.GeneratedTests {
		p.tests = append(p.tests, executor.TestPatch{ID: g.ID, Patch: g.Patch})
		p.declared[g.ID] = declare(format, g.Patch)
	}
	index := map[string]int{}
	testFiles := job.Task.TestFileMatcher().Patterns()
	for _, c := range job.Candidates {
		patch := c.Patch
		if run, ok := executor.RunPatch(patch, testFiles); ok {
			patch = run // what the executor applies: test files stripped
		}
		full, empty := dedupeKey(patch)
		if empty {
			p.empty = append(p.empty, c.ID)
			continue
		}
		k := full[:12]
		i, ok := index[k]
		if !ok {
			i = len(p.groups)
			index[k] = i
			p.groups = append(p.groups, group{key: k, patch: patch})
		}
		p.groups[i].members = append(p.groups[i].members, c.ID)
	}
	for i := range p.groups {
		for _, id := range p.groups[i].members {
			p.byID[id] = &p.groups[i]
		}
	}
	patches := make([]string, len(p.groups))
	for i, g := range p.groups {
		patches[i] = g.patch
	}
	if p.args, err = newTestArgs(job.Task, patches); err != nil {
		return nil, err
	}
	if p.args != nil {
		if err := p.generatedArgs(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Job returns the planned job.
func (p *Plan) Job() Job { return p.job }

// Distinct is the number of distinct non-empty candidate patches.
func (p *Plan) Distinct() int { return len(p.groups) }

// Record stores the result of a run. A run ID the plan does not know is an
// error; recording the same run twice keeps the first result, so that a
// redelivered run cannot overwrite or double-count evidence.
func (p *Plan) Record(id string, res executor.Result) error {
	if _, ok := p.find(id); !ok {
		return fmt.Errorf("job %s: result for unknown run %q", p.job.ID, id)
	}
	if _, dup := p.results[id]; !dup {
		p.results[id] = res
	}
	return nil
}

// Result returns a recorded result.
func (p *Plan) Result(id string) (executor.Result, bool) {
	r, ok := p.results[id]
	return r, ok
}

// find looks a run up among every run the plan could ever need.
func (p *Plan) find(id string) (PlannedRun, bool) {
	for _, r := range p.universe() {
		if r.ID == id {
			return r, true
		}
	}
	return PlannedRun{}, false
}

// universe lists every run this job could need, follow-ups included: none
// for an execution-free job.
func (p *Plan) universe() []PlannedRun {
	if p.job.Options.executionFree() {
		return nil
	}
	var all []PlannedRun
	if r, ok := p.listRun(); ok {
		all = append(all, r)
	}
	all = append(all, p.baseRepeats()...)
	if len(p.tests) > 0 {
		all = append(all, p.run("base/iso/"+OriginalArtifact, nil, "", nil))
		for _, t := range p.tests {
			all = append(all, p.run("base/iso/gen:"+t.ID, nil, "", []executor.TestPatch{t}))
		}
	}
	for i := range p.groups {
		g := &p.groups[i]
		all = append(all, p.candidateRuns(g)...)
	}
	return all
}

func (p *Plan) candidateRuns(g *group) []PlannedRun {
	runs := []PlannedRun{p.run("cand/"+g.key+"/all", g.members, g.patch, p.tests)}
	if len(p.tests) == 0 {
		return runs
	}
	kept := p.keptTests()
	runs = append(runs,
		p.run("cand/"+g.key+"/kept", g.members, g.patch, kept),
		p.run("cand/"+g.key+"/iso/"+OriginalArtifact, g.members, g.patch, nil))
	for _, t := range p.tests {
		runs = append(runs, p.run("cand/"+g.key+"/iso/gen:"+t.ID, g.members, g.patch, []executor.TestPatch{t}))
	}
	return runs
}

func (p *Plan) run(id string, members []string, patch string, tests []executor.TestPatch) PlannedRun {
	r := p.job.Task.run(patch, tests)
	r.Command = p.command(tests)
	return PlannedRun{ID: id, Key: RunKey(r), Candidates: members, Run: r}
}

// run is the executor's Run of a patch (empty: the base) against tests, with
// the task's environment, command and defaults.
func (t Task) run(patch string, tests []executor.TestPatch) executor.Run {
	timeout := time.Duration(t.Timeout)
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	return executor.Run{
		Env:       t.Env,
		Patch:     patch,
		Tests:     tests,
		TestFiles: t.TestFileMatcher().Patterns(),
		Command:   t.TestCommand,
		Format:    t.Format,
		Report:    t.Report,
		Timeout:   timeout,
	}
}

// RunKey is the content address of a run: everything that decides its result
// except the timeout (results that hit a timeout are not cached), and the
// version of the executor's semantics (executor.Semantics), so that a result
// cached by a bestpatch whose runs meant something else is never served.
func RunKey(r executor.Run) string { return runKey(r, executor.Semantics) }

func runKey(r executor.Run, semantics int) string {
	h := sha256.New()
	fmt.Fprintf(h, "bestpatch run, semantics %d\n", semantics)
	r.Timeout = 0
	b, _ := jsonMarshal(r)
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// baseRepeats are the base runs with every generated test, base/1 to
// base/N; every one after the first is Fresh.
func (p *Plan) baseRepeats() []PlannedRun {
	var runs []PlannedRun
	for i := 1; i <= p.baseRuns; i++ {
		r := p.run(fmt.Sprintf("base/%d", i), nil, "", p.tests)
		r.Fresh = i > 1
		runs = append(runs, r)
	}
	return runs
}

// baseComplete reports whether every base run needed is recorded.
func (p *Plan) baseComplete() bool {
	for _, r := range p.baseNeeded() {
		if _, ok := p.results[r.ID]; !ok {
			return false
		}
	}
	return true
}

func (p *Plan) baseNeeded() []PlannedRun {
	runs := p.baseRepeats()
	if p.baseIsolated() {
		runs = append(runs, p.run("base/iso/"+OriginalArtifact, nil, "", nil))
		for _, t := range p.tests {
			runs = append(runs, p.run("base/iso/gen:"+t.ID, nil, "", []executor.TestPatch{t}))
		}
	}
	return runs
}

// baseIsolated reports whether the base needs isolation runs: generated
// tests are present and a base run broke some unit.
func (p *Plan) baseIsolated() bool {
	if len(p.tests) == 0 {
		return false
	}
	for i := 1; i <= p.baseRuns; i++ {
		if r, ok := p.results[fmt.Sprintf("base/%d", i)]; ok && len(r.Broken) > 0 {
			return true
		}
	}
	return false
}

// baseSeen reports whether any base run is recorded.
func (p *Plan) baseSeen() bool {
	for i := 1; i <= p.baseRuns; i++ {
		if _, ok := p.results[fmt.Sprintf("base/%d", i)]; ok {
			return true
		}
	}
	return false
}

// preexistingBroken are the units broken on base without any generated test.
func (p *Plan) preexistingBroken() []string {
	if p.baseIsolated() {
		return p.results["base/iso/"+OriginalArtifact].Broken
	}
	return p.results["base/1"].Broken
}

// keptTests are the generated tests that applied and compiled on base. Only
// meaningful once the base is complete.
func (p *Plan) keptTests() []executor.TestPatch {
	var kept []executor.TestPatch
	for _, t := range p.tests {
		if p.dropReason(t.ID) == "" {
			kept = append(kept, t)
		}
	}
	return kept
}

// dropReason says why a generated test is left out of candidate runs, or ""
// when it is kept.
func (p *Plan) dropReason(id string) string {
	res := p.results["base/1"]
	if p.baseIsolated() {
		res = p.results["base/iso/gen:"+id]
	}
	if res.Status != executor.Completed {
		return fmt.Sprintf("base run with it did not complete (%s)", res.Status)
	}
	if ok, known := res.TestsApplied[id]; known && !ok {
		return "its patch does not apply to the base commit"
	}
	if p.baseIsolated() && len(newlyBroken(res.Broken, p.preexistingBroken())) > 0 {
		return "it does not compile (or fails collection) on base: " + fmt.Sprint(newlyBroken(res.Broken, p.preexistingBroken()))
	}
	return ""
}

func newlyBroken(broken, before []string) []string {
	var out []string
	for _, b := range broken {
		if !slices.Contains(before, b) {
			out = append(out, b)
		}
	}
	return out
}

// Needed lists the runs whose results the job still needs, in a stable
// order. It is deterministic in the recorded results; runs already recorded
// are not listed, runs handed out but not yet recorded are. A run with
// nothing to run (nothingToRun) is recorded here, as completed with no
// case, and never listed.
func (p *Plan) Needed() []PlannedRun {
	if p.job.Options.executionFree() {
		return nil
	}
	if r, ok := p.listRun(); ok && p.listPending() {
		// Every other run's command depends on the listing.
		return []PlannedRun{r}
	}
	if p.halted() != "" {
		return nil
	}
	var need []PlannedRun
	settled := false
	add := func(r PlannedRun) {
		switch _, ok := p.results[r.ID]; {
		case ok:
		case p.nothingToRun(r.Run.Tests):
			// Nothing for the runner to run: completed, with no case. What
			// it settles may make other runs needed: look again.
			p.results[r.ID] = executor.Result{Status: executor.Completed}
			settled = true
		default:
			need = append(need, r)
		}
	}
	for _, r := range p.baseNeeded() {
		add(r)
	}
	base := p.baseComplete()
	for i := range p.groups {
		for _, r := range p.groupNeeded(&p.groups[i], base) {
			add(r)
		}
	}
	if settled {
		return p.Needed()
	}
	return need
}

// groupNeeded decides a candidate group's runs. Once a first base run shows
// that the generated tests compile, candidates start with every generated
// test (the common case: one run per candidate); once the base is known, a
// run poisoned by a test that does not compile on base is redone with the
// kept tests, and a run broken by the candidate itself is split into the
// original suite alone and each kept generated test alone.
func (p *Plan) groupNeeded(g *group, baseDone bool) []PlannedRun {
	runs := p.candidateRuns(g)
	if len(p.tests) == 0 {
		return runs
	}
	all, kept, isoOrig := runs[0], runs[1], runs[2]
	allRes, haveAll := p.results[all.ID]
	if !baseDone {
		if haveAll || !p.baseSeen() || p.baseIsolated() {
			// Wait for a first base run, and once the base shows broken
			// units, for it to tell which generated tests compile, rather
			// than run a candidate that a broken test would poison.
			return nil
		}
		return []PlannedRun{all}
	}
	keptTests := p.keptTests()
	full, fullID := all, all.ID
	if haveAll && !p.poisoned(allRes) {
		// The optimistic run holds clean evidence for every test.
	} else if len(keptTests) < len(p.tests) {
		full, fullID = kept, kept.ID
	}
	res, ok := p.results[fullID]
	if !ok {
		return []PlannedRun{full}
	}
	if !p.poisoned(res) || len(keptTests) == 0 {
		return nil
	}
	need := []PlannedRun{isoOrig}
	orig, ok := p.results[isoOrig.ID]
	if !ok || orig.Status != executor.Completed || p.poisoned(orig) {
		// Broken by the candidate itself: nothing more to learn from splitting.
		return need
	}
	for _, r := range runs[3:] {
		if slices.ContainsFunc(keptTests, func(t executor.TestPatch) bool { return r.ID == "cand/"+g.key+"/iso/gen:"+t.ID }) {
			need = append(need, r)
		}
	}
	return need
}

// poisoned reports whether a completed run broke units that build on base.
func (p *Plan) poisoned(res executor.Result) bool {
	return res.Status == executor.Completed && len(newlyBroken(res.Broken, p.preexistingBroken())) > 0
}

// Done reports whether every needed result is recorded.
func (p *Plan) Done() bool { return len(p.Needed()) == 0 }

// Dropped reports the generated tests left out and why, once the base is known.
func (p *Plan) Dropped() map[string]string {
	out := map[string]string{}
	if !p.baseComplete() || p.job.Options.executionFree() {
		return out
	}
	for _, t := range p.tests {
		if why := p.dropReason(t.ID); why != "" {
			out[t.ID] = why
		}
	}
	return out
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
