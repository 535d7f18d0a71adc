package selector

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bestpatch/bestpatch/scoring"
)

// Stream is an open job (Selector.Open): candidates arrive as an agent
// samples them (Append), and after each append the job scores every
// candidate so far and says, by its stop rule, whether another sample is
// worth drawing (scoring.StopRule). Work is never done twice: the base
// runs (and the screening of generated tests) are the job's, done once; a
// new candidate costs its own run, or none when it runs like a candidate
// the job has; the result cache serves any run already done elsewhere.
// A Stream is safe for concurrent use; appends are taken one at a time.
type Stream struct {
	sel   *Selector
	rule  scoring.StopRule
	start time.Time

	mu      sync.Mutex
	plan    *Plan
	records []RunRecord
	// aheadDropped counts the runs made ahead that the job did not need.
	aheadDropped int
	// last is the report after the last append, with its standing; nil
	// before the first candidate. before is the verdict on the candidates
	// before the last append (nil before the second): the stop rule asks
	// whether the last append changed the choice.
	last   *Report
	before *scoring.Verdict
}

// Open opens a job that takes its candidates over time: job.Options.Stream
// is its stop rule (the zero rule when nil: the default target, no
// budget). The job may hold candidates already; Open runs what they and
// the base need (the base runs start at once, while the agent samples),
// and Standing then reports on them.
func (s *Selector) Open(ctx context.Context, job Job) (*Stream, error) {
	if job.Options.Stream == nil {
		job.Options.Stream = &scoring.StopRule{}
	}
	plan, err := NewPlan(job)
	if err != nil {
		s.emit(Event{Kind: EventFailed, Job: job.ID, Message: err.Error()})
		return nil, err
	}
	st := &Stream{sel: s, rule: *job.Options.Stream, start: time.Now(), plan: plan}
	s.emit(Event{Kind: EventAccepted, Job: job.ID, Candidates: len(job.Candidates), Distinct: plan.Distinct()})
	s.logger().Info("open job accepted", "job", job.ID, "task", job.Task.ID, "candidates", len(job.Candidates))
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.advance(ctx); err != nil {
		return nil, err
	}
	return st, nil
}

// Append adds candidates (one or several: a batch) to the open job, runs
// what they need, and returns the report on every candidate so far with
// its standing verdict (Report.Standing).
func (st *Stream) Append(ctx context.Context, cands ...scoring.Candidate) (Report, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(cands) == 0 {
		return Report{}, invalid("job %q: an append with no candidate", st.plan.job.ID)
	}
	plan, err := st.plan.Extend(cands)
	if err != nil {
		return Report{}, err
	}
	st.plan = plan
	if st.last != nil {
		v := st.last.Verdict
		st.before = &v
	}
	if err := st.advance(ctx); err != nil {
		return Report{}, err
	}
	return *st.last, nil
}

// Standing is the report after the last append (with its standing
// verdict); ok is false before the first candidate.
func (st *Stream) Standing() (Report, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.last == nil {
		return Report{}, false
	}
	return *st.last, true
}

// Close ends the open job: it takes no more candidates, and its report is
// the verdict on every candidate it received, with the standing verdict
// of its stop rule. A job closed with no candidate fails.
func (st *Stream) Close(ctx context.Context) (Report, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	id := st.plan.job.ID
	st.plan = st.plan.Close()
	if len(st.plan.job.Candidates) == 0 {
		err := invalid("job %q was closed with no candidate: append candidates before closing it", id)
		st.sel.emit(Event{Kind: EventFailed, Job: id, Message: err.Error()})
		return Report{}, err
	}
	// Closing can make runs needed: an open job whose tests are related to
	// the candidates' changes, none of which has any, runs as any job
	// would.
	if err := st.advance(ctx); err != nil {
		return Report{}, err
	}
	rep := *st.last
	if why := rep.Verdict.Abstained; why != "" && !rep.Verdict.SampleMore {
		st.sel.emit(Event{Kind: EventFailed, Job: id, Message: "abstained: " + why})
		return rep, nil
	}
	st.sel.emit(Event{Kind: EventSelected, Job: id, Chosen: rep.Verdict.Chosen, Message: rep.Verdict.Abstained})
	st.sel.logger().Info("open job closed", "job", id, "chosen", rep.Verdict.Chosen, "candidates", len(st.plan.job.Candidates), "runs", len(st.records))
	return rep, nil
}

// advance runs what the plan needs and, once there is a candidate, scores
// it and sets the standing verdict. Call with mu held.
func (st *Stream) advance(ctx context.Context) error {
	id := st.plan.job.ID
	records, dropped, err := st.sel.execute(ctx, st.plan)
	if err != nil {
		kind := EventFailed
		if errors.Is(err, context.Canceled) {
			kind = EventCancelled
		}
		st.sel.emit(Event{Kind: kind, Job: id, Message: err.Error()})
		return err
	}
	st.records = append(st.records, records...)
	st.aheadDropped += dropped
	if len(st.plan.job.Candidates) == 0 {
		return nil
	}
	rep, err := Score(st.plan)
	if err != nil {
		st.sel.emit(Event{Kind: EventFailed, Job: id, Message: err.Error()})
		return err
	}
	standing := st.rule.Recommend(rep.Verdict, st.before, len(st.plan.job.Candidates))
	rep.Standing = &standing
	rep.Runs = append([]RunRecord(nil), st.records...)
	rep.AheadDropped = st.aheadDropped
	rep.Duration = time.Since(st.start)
	st.last = &rep
	st.sel.logger().Info("standing verdict", "job", id, "samples", standing.Samples, "choice", standing.Choice,
		"recommendation", standing.Recommendation, "why", standing.Why)
	return nil
}

// StandingLine says the standing verdict in one line, as select --stream prints
// it after each append.
func StandingLine(s scoring.Standing) string {
	conf := "no calibrated confidence"
	if s.Confidence != nil {
		conf = fmt.Sprintf("confidence %.1f%%", 100**s.Confidence)
	}
	choice := s.Choice
	if choice == "" {
		choice = "none"
	}
	return fmt.Sprintf("after %d: %s (choice %s, %s): %s", s.Samples, s.Recommendation, choice, conf, s.Why)
}
