package selector

import (
	"maps"

	"github.com/bestpatch/bestpatch/executor"
)

// WithResults returns a copy of the plan that holds exactly the given
// results (run ID -> result) instead of the ones recorded in p. The plan is
// a pure function of the job and its results, so a runner that stores
// results elsewhere (the daemon's key-value bucket) replays any prefix of
// them without planning the job again: the candidate grouping, the costly
// part of NewPlan, is shared with p and never changed.
//
// IDs should come from Needed or Planned; unknown IDs are never looked at.
func (p *Plan) WithResults(results map[string]executor.Result) *Plan {
	q := *p
	q.results = maps.Clone(results)
	if q.results == nil {
		q.results = map[string]executor.Result{}
	}
	return &q
}

// Planned returns the run with the given ID among every run the job could
// ever need (follow-up isolation runs included), so that a worker handed a
// run ID by a work queue can rebuild the run itself. Ask a plan holding the
// results that made the run needed: which generated tests a follow-up run
// carries depends on the base results.
func (p *Plan) Planned(id string) (PlannedRun, bool) { return p.find(id) }
