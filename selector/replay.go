package selector

import (
	"fmt"
	"maps"
	"slices"
	"time"

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
	q.memo = settleMemo{}
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

// Simulate runs a job's plan on results already known, by run ID (those of
// the same job run with every run: Report.Results), workers runs at a time
// as a Selector's pool starts them (in the plan's order, each when a slot
// frees up), each taking its recorded Duration (1s when it has none). It returns the report the plan ends
// with, its Runs the runs it made and its Duration the simulated wall
// time, without an executor or a cache. A run the plan needs that
// results lacks is an error.
func Simulate(job Job, results map[string]executor.Result, workers int) (Report, error) {
	plan, err := NewPlan(job)
	if err != nil {
		return Report{}, err
	}
	workers = max(workers, 1)
	type running struct {
		run    PlannedRun
		finish time.Duration
	}
	var (
		now     time.Duration
		busy    []running
		started = map[string]bool{}
		records []RunRecord
	)
	for {
		for len(busy) < workers {
			var next *PlannedRun
			for _, r := range plan.Needed() {
				if !started[r.ID] {
					next = &r
					break
				}
			}
			if next == nil {
				break
			}
			res, ok := results[next.ID]
			if !ok {
				return Report{}, fmt.Errorf("job %s: simulate: run %s is needed but not among the results given", job.ID, next.ID)
			}
			d := res.Duration
			if d <= 0 {
				d = time.Second
			}
			started[next.ID] = true
			busy = append(busy, running{*next, now + d})
		}
		if len(busy) == 0 {
			break
		}
		first := 0
		for i, b := range busy {
			if b.finish < busy[first].finish {
				first = i
			}
		}
		done := busy[first]
		busy = slices.Delete(busy, first, first+1)
		now = done.finish
		res := results[done.run.ID]
		if err := plan.Record(done.run.ID, res); err != nil {
			return Report{}, err
		}
		records = append(records, RunRecord{ID: done.run.ID, Candidates: done.run.Candidates, Status: res.Status,
			Applied: res.Applied, Reason: res.Reason, Duration: res.Duration})
	}
	rep, err := Score(plan)
	if err != nil {
		return Report{}, err
	}
	rep.Runs, rep.Duration = records, now
	return rep, nil
}
