package wire

import (
	"fmt"
	"time"

	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

// Open jobs: a job opened with its task and no candidates (or a first few)
// takes candidates as an agent samples them, one at a time or in groups,
// and after each append publishes a standing verdict: the current choice,
// its confidence, and whether another sample is worth drawing. These
// messages joined protocol v1 without changing any message it had
// (wireschema.Frozen freezes them as a group of their own).

// OpenSubject takes an OpenJob and replies a SubmitReply.
const OpenSubject = prefix + "open"

// AppendSubject takes an Append for the open job and replies an
// AppendReply once the candidates are stored.
func AppendSubject(job string) string { return prefix + "append." + job }

// StandingSubject is where an open job's standing verdicts are published,
// one per append (Standing), kept in stream StandingStream.
func StandingSubject(job string) string { return prefix + "standing." + job }

// StandingStream keeps the standing verdicts of open jobs on
// StandingSubject(job), in order.
const StandingStream = "BESTPATCH_STANDING"

// OpenJob opens a job that takes its candidates over time: a task (or a
// SWE-bench dataset row), optionally the first candidates, options, and
// the stop rule. Unknown fields are refused.
type OpenJob struct {
	// ID names the job: 1 to 128 letters, digits, '-' or '_'. Empty: the
	// daemon assigns one and replies it.
	ID string `json:"id,omitempty" jsonschema:"pattern=^[A-Za-z0-9_-]{1\\,128}$"`
	// Task is where and how to run the tests. Give either task or swebench.
	Task *Task `json:"task,omitempty"`
	// SWEBench is a SWE-bench dataset row in place of task.
	SWEBench *SWEBenchTask `json:"swebench,omitempty"`
	// Candidates are the first candidates, if any; more come by appends.
	Candidates []Candidate `json:"candidates,omitempty"`
	// Options tune the selection, as a job's (generate_tests, judge and
	// adversarial_rounds are refused: an open job takes no model work).
	Options *Options `json:"options,omitempty"`
	// Stream is the stop rule; absent: the default target confidence and
	// no sampling budget.
	Stream *StopRule `json:"stream,omitempty"`
}

// StopRule says when another sample is not worth drawing
// (docs/SCORING.md, "When to stop sampling").
type StopRule struct {
	// TargetConfidence is the confidence the choice must reach, a
	// probability in (0, 1]; 0 or absent: the default (0.5).
	TargetConfidence float64 `json:"target_confidence,omitempty" jsonschema:"minimum=0,maximum=1"`
	// MaxSamples is the sampling budget: once the job holds this many
	// candidates the recommendation is stop or abstain, never continue.
	// 0 or absent: no budget.
	MaxSamples int `json:"max_samples,omitempty" jsonschema:"minimum=0"`
}

// Append adds candidates to an open job, and may close it.
type Append struct {
	// Candidates are the new candidates (IDs new to the job).
	Candidates []Candidate `json:"candidates,omitempty"`
	// Close ends the job's sampling: it takes no more candidates, and once
	// their runs are done its outcome is published as any job's.
	Close bool `json:"close,omitempty"`
}

// AppendReply answers an append once it is stored: a daemon that dies
// after replying loses nothing.
type AppendReply struct {
	// Job is the job's ID.
	Job string `json:"job"`
	// Batch is the index of the append among the job's appends, from 1.
	Batch int `json:"batch"`
	// Samples counts the job's candidates, this append's included.
	Samples int `json:"samples"`
	// Closed is true once the job takes no more candidates.
	Closed bool `json:"closed,omitempty"`
	// Existing is true when these candidates were appended before (the
	// same IDs and patches): nothing new was stored. Appending again is
	// how a client that lost the reply retries safely.
	Existing bool `json:"existing,omitempty"`
}

// Standing is an open job's verdict after an append, once the runs the
// append needed are done: published on the job's standing subject.
type Standing struct {
	// Job is the job's ID.
	Job string `json:"job"`
	// Batch is the index of the append this verdict follows, from 1 (0:
	// the candidates the job was opened with). A standing verdict is published for an append
	// whose runs were done before the next append was stored; a later one
	// covers the others.
	Batch int `json:"batch"`
	// Samples counts the candidates the verdict is on.
	Samples int `json:"samples"`
	// Choice is the candidate the verdict chooses now (or withholds, below
	// the job's min_confidence); absent when none can be chosen.
	Choice string `json:"choice,omitempty"`
	// Confidence is P(the choice is correct), in [0, 1]; absent when no
	// calibrated model speaks for the verdict.
	Confidence *float64 `json:"confidence,omitempty" jsonschema:"minimum=0,maximum=1"`
	// Recommendation is stop, continue or abstain.
	Recommendation Recommendation `json:"recommendation"`
	// Why says what the recommendation rests on.
	Why string `json:"why"`
	// Final is true for the verdict after the job was closed; the job's
	// outcome follows on its verdict subject.
	Final bool `json:"final,omitempty"`
	// Verdict is the verdict itself: the ranking with every signal.
	Verdict Verdict `json:"verdict"`
	// Time is when the daemon published it (RFC 3339, UTC).
	Time time.Time `json:"time"`
}

// Recommendation is what a standing verdict advises the sampler.
type Recommendation string

// The recommendations.
const (
	// Stop: the choice is settled; another sample is unlikely to change it.
	Stop Recommendation = scoring.RecommendStop
	// Continue: another sample is worth drawing.
	Continue Recommendation = scoring.RecommendContinue
	// Abstain: the budget is spent and no choice is good enough.
	Abstain Recommendation = scoring.RecommendAbstain
)

// Values are the recommendations.
func (Recommendation) Values() []string {
	return []string{string(Stop), string(Continue), string(Abstain)}
}

// ToSelector is the selector's open job (Options.Stream set), with its
// task derived from the SWE-bench row when one is given. Its errors wrap
// selector.ErrInvalidJob.
func (o OpenJob) ToSelector() (selector.Job, error) {
	job, err := Job{ID: o.ID, Task: o.Task, SWEBench: o.SWEBench, Candidates: o.Candidates, Options: o.Options}.ToSelector()
	if err != nil {
		return selector.Job{}, err
	}
	rule := scoring.StopRule{}
	if o.Stream != nil {
		rule = scoring.StopRule{Target: o.Stream.TargetConfidence, MaxSamples: o.Stream.MaxSamples}
	}
	job.Options.Stream = &rule
	return job, nil
}

// FromOpenJob is the wire form of an open job (job.Options.Stream set).
func FromOpenJob(job selector.Job) OpenJob {
	j := FromJob(job)
	o := OpenJob{ID: j.ID, Task: j.Task, Candidates: j.Candidates, Options: j.Options}
	if r := job.Options.Stream; r != nil && *r != (scoring.StopRule{}) {
		o.Stream = &StopRule{TargetConfidence: r.Target, MaxSamples: r.MaxSamples}
	}
	if len(o.Candidates) == 0 {
		o.Candidates = nil
	}
	return o
}

// CandidatesToSelector are the selector's candidates of wire candidates.
func CandidatesToSelector(cs []Candidate) []scoring.Candidate {
	out := make([]scoring.Candidate, 0, len(cs))
	for _, c := range cs {
		out = append(out, scoring.Candidate{ID: c.ID, Patch: c.Patch, Model: c.ModelNameOrPath,
			Sample: c.Sample, Verifier: c.VerifierScore, Prior: c.Prior})
	}
	return out
}

// FromCandidates are the wire form of candidates.
func FromCandidates(cs []scoring.Candidate) []Candidate {
	out := make([]Candidate, 0, len(cs))
	for _, c := range cs {
		out = append(out, Candidate{ID: c.ID, Patch: c.Patch, ModelNameOrPath: c.Model,
			Sample: c.Sample, VerifierScore: c.Verifier, Prior: c.Prior})
	}
	return out
}

// FromStanding is the wire form of a standing verdict after an append.
func FromStanding(job string, batch int, final bool, s scoring.Standing, v scoring.Verdict) Standing {
	return Standing{Job: job, Batch: batch, Samples: s.Samples, Choice: s.Choice, Confidence: s.Confidence,
		Recommendation: Recommendation(s.Recommendation), Why: s.Why, Final: final, Verdict: fromVerdict(v)}
}

// ToScoring is the scoring form of the standing verdict (its verdict
// aside).
func (s Standing) ToScoring() scoring.Standing {
	return scoring.Standing{Samples: s.Samples, Choice: s.Choice, Confidence: s.Confidence,
		Recommendation: string(s.Recommendation), Why: s.Why}
}

// String says the standing verdict in one line.
func (s Standing) String() string {
	return fmt.Sprintf("batch %d: %s", s.Batch, selector.StandingLine(s.ToScoring()))
}

// VerdictToScoring is the scoring form of a standing verdict's verdict.
func (s Standing) VerdictToScoring() (scoring.Verdict, error) { return s.Verdict.toScoring() }
