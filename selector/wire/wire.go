// Package wire is the bestpatch daemon's protocol: the NATS subjects, the
// JetStream streams and buckets, and the JSON messages that the daemon
// (package selector/service) and its clients (package selector/client, the
// nats CLI, any NATS client) exchange. docs/DAEMON.md documents each of them
// with examples.
package wire

import (
	"fmt"
	"regexp"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/selector"
)

// ServiceName is the name of the nats micro service, as listed by
// `nats micro ls` and answered on $SRV.PING.bestpatch.
const ServiceName = "bestpatch"

// Request subjects: nats micro endpoints in a queue group, so one daemon
// answers each request.
const (
	// SubmitSubject takes a selector.Job (JSON) and replies a SubmitReply,
	// or an Outcome when the request carries WaitHeader.
	SubmitSubject = "bestpatch.submit"
	// StatusSubject takes a JobRequest and replies a Status.
	StatusSubject = "bestpatch.status"
	// CancelSubject takes a JobRequest and replies a Status.
	CancelSubject = "bestpatch.cancel"
)

// Request headers of SubmitSubject.
const (
	// WaitHeader, set to "true", makes the submit reply the job's Outcome
	// once it is done instead of replying at once.
	WaitHeader = "Bestpatch-Wait"
	// JobObjectHeader names an object in ObjectBucket that holds the job,
	// for jobs larger than the server's maximum message size; the request
	// body is then empty.
	JobObjectHeader = "Bestpatch-Job-Object"
	// DaemonHeader is set on the daemon's event messages and names the
	// daemon that published them.
	DaemonHeader = "Bestpatch-Daemon"
)

// Streams and buckets. The daemon creates them when it starts.
const (
	// WorkStream is the work queue of runs: one WorkItem per run, on
	// WorkSubject(job), consumed by WorkConsumer.
	WorkStream = "BESTPATCH_WORK"
	// WorkConsumer is the durable pull consumer every daemon shares.
	WorkConsumer = "workers"
	// EventsStream keeps the progress events (selector.Event) of each job
	// on EventsSubject(job), so a late subscriber sees them all.
	EventsStream = "BESTPATCH_EVENTS"
	// VerdictsStream keeps one Outcome per job on VerdictSubject(job).
	VerdictsStream = "BESTPATCH_VERDICTS"
	// JobsBucket is the key-value bucket of submitted jobs (key: job ID).
	JobsBucket = "bestpatch-jobs"
	// ResultsBucket is the key-value bucket of run results (RunResult),
	// written first-writer-wins.
	ResultsBucket = "bestpatch-results"
	// EndsBucket holds one claim per job (key: job ID) by whoever ends it:
	// the daemon that scores it, or a cancellation.
	EndsBucket = "bestpatch-ends"
	// ObjectBucket is the object store for payloads larger than the
	// server's maximum message size: big jobs, results and verdicts.
	ObjectBucket = "bestpatch-payloads"
)

// EventsSubject is where a job's progress events are published.
func EventsSubject(job string) string { return "bestpatch.events." + job }

// VerdictSubject is where a job's Outcome is published, once.
func VerdictSubject(job string) string { return "bestpatch.verdict." + job }

// WorkSubject is where a job's runs are queued.
func WorkSubject(job string) string { return "bestpatch.work." + job }

// CancelledSubject is the broadcast every daemon listens to (no queue
// group) to stop its runs of a cancelled job.
func CancelledSubject(job string) string { return "bestpatch.cancelled." + job }

// Error codes of error replies (header Nats-Service-Error-Code); the body
// of an error reply is an ErrorReply.
const (
	CodeInvalid     = "400" // the request or job is malformed: fix it, do not retry
	CodeNotFound    = "404" // no such job (never submitted, or expired)
	CodeConflict    = "409" // the job ID is taken by a different job
	CodeInternal    = "500" // the daemon failed; retrying may help
	CodeUnavailable = "503" // the daemon is shutting down; retry, another one answers
)

// ErrorReply is the body of an error reply.
type ErrorReply struct {
	Code  string `json:"code"`
	Error string `json:"error"`
}

// State is where a job is in its life.
type State string

// The states of a job.
const (
	Queued    State = "queued"    // accepted, no run finished yet
	Running   State = "running"   // some runs finished
	Scoring   State = "scoring"   // every run finished; a daemon is scoring
	Done      State = "done"      // scored: the Outcome holds the report
	Failed    State = "failed"    // could not be scored: the Outcome says why
	Cancelled State = "cancelled" // cancelled before it was done
)

// Final reports whether a job in this state will not change any more.
func (s State) Final() bool { return s == Done || s == Failed || s == Cancelled }

// SubmitReply answers a submit request without WaitHeader.
type SubmitReply struct {
	Job   string `json:"job"`
	State State  `json:"state"`
	// Existing is true when a job with this ID and the same content was
	// already submitted: nothing new was queued.
	Existing bool `json:"existing,omitempty"`
}

// JobRequest names a job, for StatusSubject and CancelSubject.
type JobRequest struct {
	Job string `json:"job"`
}

// Status answers StatusSubject and CancelSubject.
type Status struct {
	Job       string    `json:"job"`
	State     State     `json:"state"`
	Submitted time.Time `json:"submitted"`
	// RunsDone counts the runs whose results are stored.
	RunsDone int `json:"runs_done"`
	// Outcome is set once the state is final.
	Outcome *Outcome `json:"outcome,omitempty"`
}

// Outcome is a job's end: published once on VerdictSubject(job), and the
// reply to a submit request with WaitHeader.
type Outcome struct {
	Job   string `json:"job"`
	State State  `json:"state"`
	// Report is the verdict and its evidence, for state done, and for a
	// job that failed because its verdict abstained (no evidence).
	Report *selector.Report `json:"report,omitempty"`
	// ReportObject names the object in ObjectBucket holding the report
	// (JSON) when it is larger than the server's maximum message size;
	// Report is then nil.
	ReportObject string `json:"report_object,omitempty"`
	// Error says why the job failed or was cancelled.
	Error    string    `json:"error,omitempty"`
	Finished time.Time `json:"finished"`
}

// WorkItem is one queued run.
type WorkItem struct {
	Job string `json:"job"`
	Run string `json:"run"`
	// Revision is the results-bucket revision whose plan asked for the run
	// (0: the job's first runs). A worker waits until it has seen the
	// results up to it before deciding whether the run is still needed.
	Revision uint64 `json:"revision,omitempty"`
}

// SelectRun is the run name of the one work item of a job that asks for
// model work: the daemon that takes it runs the whole job (plan, model
// requests, runs, verdict) itself.
const SelectRun = "select"

// MsgID is the JetStream de-duplication ID (header Nats-Msg-Id) of a work
// item: a run asked for twice by the same plan state is queued once.
func (w WorkItem) MsgID() string { return fmt.Sprintf("%s/%s@%d", w.Job, w.Run, w.Revision) }

// RunResult is a stored run result: the value under the run's key in
// ResultsBucket (or the object it points to).
type RunResult struct {
	Job string `json:"job"`
	Run string `json:"run"`
	// Key is the run's content key (selector.RunKey).
	Key    string          `json:"key"`
	Result executor.Result `json:"result"`
	// Daemon names the daemon that produced the result.
	Daemon string `json:"daemon"`
	// Cached is true when the result came from the daemon's result cache.
	Cached   bool      `json:"cached,omitempty"`
	Finished time.Time `json:"finished"`
}

// jobIDPattern keeps job IDs usable as one NATS subject token and as a
// key-value key.
var jobIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// CheckJobID says why an ID cannot name a job, or returns nil.
func CheckJobID(id string) error {
	if !jobIDPattern.MatchString(id) {
		return fmt.Errorf("%w: job id %q: use 1 to 128 letters, digits, '-' or '_' (it becomes a NATS subject token), or leave it empty to get one", selector.ErrInvalidJob, id)
	}
	return nil
}

// EndpointStats is the "data" of each endpoint in the service's STATS
// ($SRV.STATS.bestpatch, `nats micro stats bestpatch`): requests are
// answered after micro's handler call returns, so micro's own error count
// and processing time do not see the replies; these do.
type EndpointStats struct {
	Replies   int    `json:"num_replies"`
	Errors    int    `json:"num_errors"`
	LastError string `json:"last_error,omitempty"`
	// ProcessingTime is the total time from requests to their replies.
	ProcessingTime        time.Duration `json:"processing_time"`
	AverageProcessingTime time.Duration `json:"average_processing_time"`
}
