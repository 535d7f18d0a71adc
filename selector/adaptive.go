package selector

import (
	"sync"

	"github.com/bestpatch/bestpatch/scoring"
)

// Adaptive execution (Options.Execution "adaptive", the default): the
// candidates run in the order the job's policy ranks them without
// execution, in waves, and once the runs in settle the choice
// (scoring.Adaptive: nothing the runs not made could show would change the
// chosen candidate or its ties), the plan needs no more candidate runs.
// The candidates not run get rows not run (scoring.RunNotRun). A job whose
// confidence decides (a minimum confidence, or an open job's stop rule),
// when a confidence model speaks for its verdict, runs every candidate:
// the model's features count every candidate, so a run not made could
// move the confidence across the line. A job with judge scores runs every
// candidate too (Options.adaptive).

// adaptiveState is what a plan's adaptive execution computes once per job,
// shared by the plan's copies (WithResults): the signals that need no run,
// and the order of the candidate groups.
type adaptiveState struct {
	once  sync.Once
	ad    *scoring.Adaptive // nil when the policy does not parse (Validate refuses it)
	order []int             // group indexes, in the order they run
	// candidates and groups are the counts it was computed for: a plan
	// whose candidates change computes it again, or a candidate it does not
	// know would be left out unbounded.
	candidates, groups int
}

// settleMemo remembers a plan's answers, by the number of groups ran, for
// the results it had.
type settleMemo struct {
	results int
	settled map[int]bool
}

// adaptiveOn reports whether the plan stops running candidates that cannot
// change the choice.
func (p *Plan) adaptiveOn() bool {
	return p.job.Options.adaptive()
}

// adaptiveState computes the adaptive state on first use, and again when
// the plan's candidates changed since.
func (p *Plan) adaptiveState() *adaptiveState {
	if st := p.adapt; st.candidates != len(p.job.Candidates) || st.groups != len(p.groups) {
		p.adapt = &adaptiveState{candidates: len(p.job.Candidates), groups: len(p.groups)}
	}
	st := p.adapt
	st.once.Do(func() {
		effects := map[string]string{}
		for _, g := range p.groups {
			sig := scoring.EffectSignature(g.patch)
			for _, id := range g.members {
				effects[id] = sig
			}
		}
		pol, err := scoring.ParsePolicy(p.job.Options.policy())
		if err == nil {
			st.ad, err = scoring.NewAdaptive(scoring.Input{Candidates: p.job.Candidates, TestFiles: p.job.Task.TestFileMatcher()}, pol, effects)
		}
		placed := make([]bool, len(p.groups))
		index := map[*group]int{}
		for i := range p.groups {
			index[&p.groups[i]] = i
		}
		if err == nil {
			for _, id := range st.ad.Order() {
				if g, ok := p.byID[id]; ok && !placed[index[g]] {
					placed[index[g]] = true
					st.order = append(st.order, index[g])
				}
			}
		} else {
			st.ad = nil
		}
		for i := range p.groups {
			if !placed[i] {
				st.order = append(st.order, i)
			}
		}
	})
	return st
}

// runOrder lists the candidate groups in the order their runs go: by the
// policy's ranking without execution when the plan is adaptive, in input
// order otherwise.
func (p *Plan) runOrder() []*group {
	out := make([]*group, 0, len(p.groups))
	if !p.adaptiveOn() {
		for i := range p.groups {
			out = append(out, &p.groups[i])
		}
		return out
	}
	for _, i := range p.adaptiveState().order {
		out = append(out, &p.groups[i])
	}
	return out
}

// groupComplete reports whether a group's evidence is all in: its evidence
// run and any isolation runs it needs.
func (p *Plan) groupComplete(g *group) bool {
	run, ok := p.evidenceRun(g)
	if !ok {
		return false
	}
	if _, recorded := p.results[run.ID]; !recorded {
		return false
	}
	for _, r := range p.groupNeeded(g) {
		if _, recorded := p.results[r.ID]; !recorded {
			return false
		}
	}
	return true
}

// adaptiveWave is how many candidate groups run between two looks at
// whether the choice is settled. The plan looks only once a whole wave is
// in, so that the runs it makes are a function of the results alone,
// never of their timing: the selector, Simulate and the daemon's workers
// make the same runs. Two keep a two-core host busy.
const adaptiveWave = 2

// candidateGroupsNeeded are the candidate groups that may need runs now:
// every group, or, with adaptive execution, the groups in the run order up
// to the first wave that is not all in (with the base runs), unless the
// waves before it settle the choice.
func (p *Plan) candidateGroupsNeeded() []*group {
	order := p.runOrder()
	if !p.adaptiveOn() {
		return order
	}
	for end := 0; end < len(order); {
		end = min(end+adaptiveWave, len(order))
		// A wave is in once the base is too: whether it settles the
		// choice depends on every base run (flaky cases).
		complete := p.baseComplete()
		for _, g := range order[:end] {
			complete = complete && p.groupComplete(g)
		}
		if !complete || end == len(order) {
			return order[:end]
		}
		if p.settledAt(end) {
			return order[:end]
		}
	}
	return order
}

// settledAt reports whether the first ran groups of the run order, all in,
// settle the choice, whatever the others would show. It is remembered for
// the results it saw.
func (p *Plan) settledAt(ran int) bool {
	if !p.baseComplete() {
		return false
	}
	key := [2]int{len(p.results), ran}
	if p.memo.results != key[0] || p.memo.settled == nil {
		p.memo = settleMemo{results: key[0], settled: map[int]bool{}}
	}
	if v, ok := p.memo.settled[ran]; ok {
		return v
	}
	v := p.settle(ran)
	p.memo.settled[ran] = v
	return v
}

func (p *Plan) settle(ran int) bool {
	ad := p.adaptiveState().ad
	if ad == nil {
		return false
	}
	m := p.matrix(ran)
	s := ad.Settle(&m)
	if s.Chosen == "" {
		return false
	}
	o := p.job.Options
	if (o.MinConfidence > 0 || o.Stream != nil) && scoring.DefaultConfidence().With(o.ConfidenceModels).Speaks(s.Scope) {
		// The confidence decides (the minimum, or the stop rule of an
		// open job), and its features count every candidate: a run not
		// made could move it across the line.
		return false
	}
	return true
}

// runsNotMade counts the candidate groups whose runs were not made (or
// not finished) because they could not change the choice.
func (p *Plan) runsNotMade() int {
	if !p.adaptiveOn() || p.halted() != "" {
		return 0
	}
	n := 0
	for i := range p.groups {
		if !p.groupComplete(&p.groups[i]) {
			n++
		}
	}
	return n
}
