package wire

import (
	"time"

	"github.com/bestpatch/bestpatch/selector"
)

// Event is one progress event of a job, published on the job's events
// subject and kept in stream BESTPATCH_EVENTS, in order.
type Event struct {
	// Kind says what happened.
	Kind EventKind `json:"kind"`
	// Job is the job's ID.
	Job string `json:"job"`
	// Time is when the daemon published the event (RFC 3339, UTC).
	Time time.Time `json:"time"`
	// Run names the run, for run_started and run_finished.
	Run string `json:"run,omitempty"`
	// Status is how the run ended, for run_finished.
	Status RunStatus `json:"status,omitempty"`
	// Cached is true when the run's result came from a result cache, for
	// run_finished.
	Cached bool `json:"cached,omitempty"`
	// DurationSeconds is the run's wall time in seconds, for run_finished.
	DurationSeconds float64 `json:"duration_seconds,omitempty"`
	// Candidates counts the job's candidates, for accepted.
	Candidates int `json:"candidates,omitempty"`
	// Distinct counts the distinct normalized patches, for accepted.
	Distinct int `json:"distinct,omitempty"`
	// Chosen is the chosen candidate, for selected.
	Chosen string `json:"chosen,omitempty"`
	// Message says why, for failed and cancelled ("abstained: <reason>"
	// when the runs gave no evidence), and for a selected event whose
	// verdict chose nothing and asks for more samples ("sample more: ...").
	Message string `json:"message,omitempty"`
}

// FromEvent is the wire form of an event.
func FromEvent(e selector.Event) Event {
	return Event{Kind: EventKind(e.Kind), Job: e.Job, Time: e.Time, Run: e.Run, Status: RunStatus(e.Status), Cached: e.Cached,
		DurationSeconds: e.Seconds, Candidates: e.Candidates, Distinct: e.Distinct, Chosen: e.Chosen, Message: e.Message}
}

// ToSelector is the selector's form of the event.
func (e Event) ToSelector() selector.Event {
	return selector.Event{Kind: selector.EventKind(e.Kind), Job: e.Job, Time: e.Time, Run: e.Run, Status: string(e.Status),
		Cached: e.Cached, Seconds: e.DurationSeconds, Candidates: e.Candidates, Distinct: e.Distinct, Chosen: e.Chosen, Message: e.Message}
}
