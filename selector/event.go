package selector

import "time"

// EventKind names a progress event.
type EventKind string

// The progress events of a job, in the order they happen.
const (
	EventAccepted    EventKind = "accepted"
	EventRunStarted  EventKind = "run_started"
	EventRunFinished EventKind = "run_finished"
	EventSelected    EventKind = "selected"
	EventFailed      EventKind = "failed"
	EventCancelled   EventKind = "cancelled"
)

// Event is one progress event of a job.
type Event struct {
	Kind EventKind `json:"kind"`
	Job  string    `json:"job"`
	Time time.Time `json:"time"`
	// Run is the run ID, for run events.
	Run string `json:"run,omitempty"`
	// Status is the run's executor status, for run_finished.
	Status string `json:"status,omitempty"`
	Cached bool   `json:"cached,omitempty"`
	// Seconds is the run's duration, for run_finished.
	Seconds float64 `json:"seconds,omitempty"`
	// Candidates and Distinct are set on accepted.
	Candidates int `json:"candidates,omitempty"`
	Distinct   int `json:"distinct,omitempty"`
	// Chosen is the chosen candidate, for selected.
	Chosen string `json:"chosen,omitempty"`
	// Message explains failed and cancelled.
	Message string `json:"message,omitempty"`
}
