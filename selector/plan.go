package selector

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/scoring"
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
	policy   scoring.Policy // the job's, parsed once (Job.validate)
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
	// closed is false while an open job (Options.Stream) may still receive
	// candidates (Extend).
	closed bool
	adapt  *adaptiveState // shared by the plan's copies, made again for more candidates
	memo   settleMemo
	keys   *runKeys // shared by the plan's copies
}

// NewPlan validates a job and plans its runs.
func NewPlan(job Job) (*Plan, error) {
	pol, err := job.validate()
	if err != nil {
		return nil, err
	}
	return newPlan(job, pol)
}

// newPlan plans the runs of a job validated already, whose policy is pol.
func newPlan(job Job, pol scoring.Policy) (*Plan, error) {
	p := &Plan{
		job:      job,
		policy:   pol,
		declared: map[string]declaredTests{},
		byID:     map[string]*group{},
		baseRuns: job.Options.BaseRuns,
		results:  map[string]executor.Result{},
		p2p:      newPassToPass(job.Task.PassToPass),
		closed:   job.Options.Stream == nil,
		keys:     &runKeys{},
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
	if p.args, err = newTestArgs(job.Task); err != nil {
		return nil, err
	}
	if p.args != nil {
		if err := p.generatedArgs(); err != nil {
			return nil, err
		}
	}
	p.addCandidates(job.Candidates)
	return p, nil
}

// addCandidates groups candidates by the patch they run, as one batch:
// an open job's append (Extend), or a job's candidates all at once.
func (p *Plan) addCandidates(cands []scoring.Candidate) {
	index := map[string]int{}
	for i, g := range p.groups {
		index[g.key] = i
	}
	testFiles := p.job.Task.TestFileMatcher().Patterns()
	// What each distinct patch text runs, found once: samples repeat.
	type runPatch struct {
		patch, key string
		empty      bool
	}
	seen := make(map[string]runPatch, len(cands))
	var patches []string
	for _, c := range cands {
		rp, ok := seen[c.Patch]
		if !ok {
			rp.patch = c.Patch
			if run, ok := executor.RunPatch(c.Patch, testFiles); ok {
				rp.patch = run // what the executor applies: test files stripped
			}
			rp.key, rp.empty = dedupeKey(rp.patch)
			seen[c.Patch] = rp
		}
		patch, full, empty := rp.patch, rp.key, rp.empty
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
			patches = append(patches, patch)
		}
		p.groups[i].members = append(p.groups[i].members, c.ID)
	}
	p.byID = make(map[string]*group, len(p.byID)+len(cands))
	for i := range p.groups {
		for _, id := range p.groups[i].members {
			p.byID[id] = &p.groups[i]
		}
	}
	if p.args != nil {
		p.args = p.args.withBatch(p.job.Task, patches)
	}
	p.adapt = &adaptiveState{candidates: len(p.job.Candidates), groups: len(p.groups)}
	p.memo = settleMemo{}
}

// Extend returns the plan of an open job (Options.Stream) with more
// candidates: the runs it has are kept, its results carried over, and a
// candidate whose patch runs like one the job has joins its runs. The
// related tests of a task whose test arguments are related are chosen
// from the first appends whose changes have any, and kept from then on,
// so that no run done is ever done again with other arguments.
func (p *Plan) Extend(cands []scoring.Candidate) (*Plan, error) {
	if p.closed {
		return nil, invalid("job %q is closed: it takes no more candidates", p.job.ID)
	}
	job := p.job
	job.Candidates = append(slices.Clip(job.Candidates), cands...)
	if err := job.Validate(); err != nil {
		return nil, err
	}
	q := *p
	q.job = job
	q.groups = make([]group, len(p.groups), len(p.groups)+len(cands))
	for i, g := range p.groups {
		g.members = slices.Clone(g.members)
		q.groups[i] = g
	}
	q.empty = slices.Clone(p.empty)
	q.results = maps.Clone(p.results)
	q.selMemo = selectionMemo{}
	q.addCandidates(cands)
	return &q, nil
}

// Close returns the plan of an open job that takes no more candidates;
// a plan that is closed already is returned as it is.
func (p *Plan) Close() *Plan {
	if p.closed {
		return p
	}
	q := *p
	q.results = maps.Clone(p.results)
	q.closed = true
	q.memo = settleMemo{}
	return &q
}

// Closed reports whether the job takes no more candidates: always, but for
// an open job (Options.Stream) not closed yet.
func (p *Plan) Closed() bool { return p.closed }

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
// for an execution-free job. A run handed out under an earlier state of the
// plan stays in it (a candidate's run with the tests the first base run
// kept, after the screening failed), so that its result is still known.
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
		all = append(all, p.baseIsoRuns()...)
	}
	sets := [][]executor.TestPatch{p.tests}
	if _, ok := p.results["base/1"]; ok && len(p.tests) > 0 {
		sets = append(sets, p.screenKept(), p.keptTests())
	}
	for i := range p.groups {
		g := &p.groups[i]
		seen := map[string]bool{}
		for _, set := range sets {
			if r := p.setRun(g, set); !seen[r.ID] {
				seen[r.ID] = true
				all = append(all, r)
			}
		}
		all = append(all, p.groupIsoRuns(g)...)
	}
	return all
}

// groupIsoRuns are a candidate group's isolation runs: the original suite
// alone, then each generated test alone.
func (p *Plan) groupIsoRuns(g *group) []PlannedRun {
	if len(p.tests) == 0 {
		return nil
	}
	runs := []PlannedRun{p.run("cand/"+g.key+"/iso/"+OriginalArtifact, g.members, g.patch, nil)}
	for _, t := range p.tests {
		runs = append(runs, p.run("cand/"+g.key+"/iso/gen:"+t.ID, g.members, g.patch, []executor.TestPatch{t}))
	}
	return runs
}

// baseIsoRuns are the base's isolation runs: the original suite alone, then
// each generated test alone.
func (p *Plan) baseIsoRuns() []PlannedRun {
	runs := []PlannedRun{p.run("base/iso/"+OriginalArtifact, nil, "", nil)}
	for _, t := range p.tests {
		runs = append(runs, p.run("base/iso/gen:"+t.ID, nil, "", []executor.TestPatch{t}))
	}
	return runs
}

func (p *Plan) run(id string, members []string, patch string, tests []executor.TestPatch) PlannedRun {
	r := p.job.Task.run(patch, tests)
	r.Command = p.command(tests)
	return PlannedRun{ID: id, Key: p.keys.of(r), Candidates: members, Run: r}
}

// runKeys remembers the content keys of a job's runs (RunKey marshals the
// whole run; the plan builds the same runs over and over), shared by the
// plan's copies. Within a job, a run is its patch, its tests (by ID: a
// job's test patches are fixed) and its command.
type runKeys struct {
	mu sync.Mutex
	m  map[string]string
}

func (k *runKeys) of(r executor.Run) string {
	var b strings.Builder
	b.WriteString(r.Command)
	for _, t := range r.Tests {
		b.WriteString("\x00")
		b.WriteString(t.ID)
	}
	b.WriteString("\x00\x00")
	b.WriteString(r.Patch)
	memo := b.String()
	k.mu.Lock()
	defer k.mu.Unlock()
	if key, ok := k.m[memo]; ok {
		return key
	}
	if k.m == nil {
		k.m = map[string]string{}
	}
	key := RunKey(r)
	k.m[memo] = key
	return key
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

// baseRepeats are the repeated base runs, base/1 to base/N; every one
// after the first is Fresh. base/1 applies every generated test; the
// others do too, except when the first run's errors screened some out
// (modeScreened): they apply the kept tests then, base/2 is always among
// them (it confirms the screening), and one more follows when the first
// run lost units to the dropped tests (screenLost).
func (p *Plan) baseRepeats() []PlannedRun {
	n, tests := p.baseRuns, p.tests
	if first, ok := p.results["base/1"]; ok && len(p.tests) > 0 && len(first.Broken) > 0 && len(first.BrokenFiles) > 0 {
		// The screening applies (it may since have failed: base/2 ran the
		// kept tests all the same).
		n, tests = max(n, 2), p.screenKept()
		if p.mode() == modeScreened && p.screenLost() {
			n++
		}
	}
	var runs []PlannedRun
	for i := 1; i <= n; i++ {
		set := tests
		if i == 1 {
			set = p.tests
		}
		r := p.run(fmt.Sprintf("base/%d", i), nil, "", set)
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

// baseNeeded are the base runs the job needs now. With generated tests,
// base/1 goes first alone: what it says about them decides the others.
func (p *Plan) baseNeeded() []PlannedRun {
	runs := p.baseRepeats()
	switch p.mode() {
	case modeWaiting:
		return runs[:1]
	case modeIsolated:
		runs = append(runs, p.baseIsoRuns()...)
	}
	return runs
}

// preexistingBroken are the units broken on base without any generated
// test that does not compile.
func (p *Plan) preexistingBroken() []string {
	switch p.mode() {
	case modeIsolated:
		return p.results["base/iso/"+OriginalArtifact].Broken
	case modeScreened:
		if second, ok := p.results["base/2"]; ok {
			return second.Broken
		}
	}
	return p.results["base/1"].Broken
}

// keptTests are the generated tests that applied and compiled on base, as
// far as the recorded base runs tell.
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
	if why := p.appliedReason(id); why != "" {
		return why
	}
	switch p.mode() {
	case modeScreened:
		return p.screenReason(id)
	case modeIsolated:
		res := p.results["base/iso/gen:"+id]
		if res.Status != executor.Completed {
			return fmt.Sprintf("base run with it alone did not complete (%s)", res.Status)
		}
		if ok, known := res.TestsApplied[id]; known && !ok {
			return "its patch does not apply to the base commit"
		}
		if nb := newlyBroken(res.Broken, p.preexistingBroken()); len(nb) > 0 {
			return "it does not compile (or fails collection) on base: " + fmt.Sprint(nb)
		}
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
	if p.halted() != "" || p.awaitingRelated() {
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
	for _, g := range p.candidateGroupsNeeded() {
		for _, r := range p.groupNeeded(g) {
			add(r)
		}
	}
	if settled {
		return p.Needed()
	}
	return need
}

// awaitingRelated reports whether an open job whose tests are related to
// the candidates' changes waits for candidates before any base run: no
// candidate so far changes a file with related tests, and the related
// tests decide every run's command. Once the job is closed it runs as any
// job does (its generated tests alone, or nothing, and the verdict says
// why).
func (p *Plan) awaitingRelated() bool {
	if p.closed || p.args == nil || p.args.conv == nil {
		return false
	}
	sel, err := p.selection()
	return err == nil && sel.none != ""
}

// evidenceRun is the candidate group's run whose result is its evidence:
// the run with the kept tests, or, once isolation runs decided the kept
// tests, an earlier run with more tests that none of them poisoned. ok is
// false while the plan cannot tell yet (the first base run is not in, or
// the base's isolation runs are not all in).
func (p *Plan) evidenceRun(g *group) (PlannedRun, bool) {
	switch p.mode() {
	case modeWaiting:
		return PlannedRun{}, false
	case modeIsolated:
		for _, earlier := range [][]executor.TestPatch{p.tests, p.screenKept()} {
			r := p.setRun(g, earlier)
			if res, ok := p.results[r.ID]; ok && p.baseComplete() && !p.poisoned(res) {
				return r, true
			}
		}
		if !p.baseComplete() {
			return PlannedRun{}, false
		}
	}
	return p.setRun(g, p.keptTests()), true
}

// groupNeeded decides a candidate group's runs. Once the first base run
// tells which generated tests to keep, a candidate runs once with them (the
// common case: one run per candidate); when the base needed isolation runs
// to tell, it waits for them. Once the base is known, a run broken by the
// candidate itself is split into the original suite alone and each kept
// generated test alone.
func (p *Plan) groupNeeded(g *group) []PlannedRun {
	full, ok := p.evidenceRun(g)
	if !ok {
		return nil
	}
	res, ok := p.results[full.ID]
	if !ok {
		return []PlannedRun{full}
	}
	keptTests := p.keptTests()
	if len(p.tests) == 0 || !p.baseComplete() || !p.poisoned(res) || len(keptTests) == 0 {
		return nil
	}
	iso := p.groupIsoRuns(g)
	need := []PlannedRun{iso[0]}
	orig, ok := p.results[iso[0].ID]
	if !ok || orig.Status != executor.Completed || p.poisoned(orig) {
		// Broken by the candidate itself: nothing more to learn from splitting.
		return need
	}
	for _, r := range iso[1:] {
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
