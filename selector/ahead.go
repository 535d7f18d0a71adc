package selector

// Ahead are candidate runs worth making before they are known to be needed:
// while the first base run, which tells which generated tests to keep, is
// not in (every candidate waits for it), the runs the candidates would need
// if it kept them all, the common case, in the run order. The selector
// makes them only on slots that would otherwise idle, records one only once
// Needed lists it (the same run, by ID and content, so the plan's evidence
// is what it would have been), and drops the others, cancelled if still
// running, once the base says they are not needed. On two cores this
// takes the first base run's length off a job whose runs are a few
// hundred milliseconds each (docs/BENCHMARKS.md, section 2).
func (p *Plan) Ahead() []PlannedRun {
	if p.job.Options.executionFree() || p.mode() != modeWaiting || p.listPending() || p.halted() != "" || p.awaitingRelated() {
		return nil
	}
	groups := p.runOrder()
	if p.adaptiveOn() {
		// Only the first wave: the later ones may never be needed.
		groups = groups[:min(adaptiveWave, len(groups))]
	}
	var runs []PlannedRun
	for _, g := range groups {
		if r := p.setRun(g, p.tests); !p.nothingToRun(r.Run.Tests) {
			runs = append(runs, r)
		}
	}
	return runs
}
