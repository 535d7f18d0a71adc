// Package wire is the bestpatch daemon's public protocol, version v1: the
// NATS subjects, the JetStream streams and buckets, and the JSON messages
// that the daemon (package selector/service), its HTTP gateway (package
// selector/gateway) and their clients (package selector/client, the nats
// CLI, any NATS or HTTP client) exchange.
//
// The messages are types of their own, not the selector's: FromJob,
// FromReport and FromEvent convert the selector's types to them, and their
// ToSelector methods back, so that renaming an internal field changes no
// message. docs/wire/v1.schema.json is their JSON Schema, generated from
// these types (go generate ./selector/wire), and docs/DAEMON.md documents
// each field with its unit; a test fails when the schema of v1 changes, since
// a client written for v1 would receive other messages.
package wire

import (
	"fmt"
	"regexp"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/selector"
)

//go:generate go run ../internal/wireschema/gen

// Version is the protocol's version: the second token of every public
// subject (bestpatch.v1.submit) and the first segment of the HTTP
// gateway's paths (/v1/jobs). A change to the messages that a v1 client
// would notice is a new version, served beside this one.
const Version = "v1"

// ServiceName is the name of the nats micro service, as listed by
// `nats micro ls` and answered on $SRV.PING.bestpatch.
const ServiceName = "bestpatch"

// prefix starts every public subject.
const prefix = "bestpatch." + Version + "."

// Request subjects: nats micro endpoints in a queue group, so one daemon
// answers each request.
const (
	// SubmitSubject takes a Job and replies a SubmitReply, or an Outcome
	// when the request carries WaitHeader.
	SubmitSubject = prefix + "submit"
	// StatusSubject takes a JobRequest and replies a Status.
	StatusSubject = prefix + "status"
	// CancelSubject takes a JobRequest and replies a Status.
	CancelSubject = prefix + "cancel"
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
	// DaemonHeader is set on the daemon's events and outcomes and names
	// the daemon that published them.
	DaemonHeader = "Bestpatch-Daemon"
)

// Streams and buckets. The daemon creates them when it starts.
const (
	// WorkStream is the work queue of runs: one WorkItem per run, on
	// WorkSubject(job), consumed by WorkConsumer.
	WorkStream = "BESTPATCH_WORK"
	// WorkConsumer is the durable pull consumer every daemon shares.
	WorkConsumer = "workers"
	// EventsStream keeps the progress events (Event) of each job on
	// EventsSubject(job), so a late subscriber sees them all.
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
func EventsSubject(job string) string { return prefix + "events." + job }

// VerdictSubject is where a job's Outcome is published, once.
func VerdictSubject(job string) string { return prefix + "verdict." + job }

// WorkSubject is where a job's runs are queued. Internal: daemons of one
// release talk on it.
func WorkSubject(job string) string { return "bestpatch.work." + job }

// CancelledSubject is the broadcast every daemon listens to (no queue
// group) to stop its runs of a cancelled job. Internal.
func CancelledSubject(job string) string { return "bestpatch.cancelled." + job }

// Error codes of error replies (header Nats-Service-Error-Code; the HTTP
// gateway's status code); the body of an error reply is an ErrorReply.
const (
	CodeInvalid      = "400" // the request or job is malformed: fix it, do not retry
	CodeUnauthorized = "401" // HTTP gateway only: no or wrong credentials
	CodeNotFound     = "404" // no such job (never submitted, or expired); HTTP: no such path
	CodeNotAllowed   = "405" // HTTP gateway only: the path does not take this method
	CodeConflict     = "409" // the job ID is taken by a different job
	CodeInternal     = "500" // the daemon failed; retrying may help
	CodeUnavailable  = "503" // the daemon is shutting down, or none answers; retry
)

// ErrorReply is the body of an error reply.
type ErrorReply struct {
	// Code is the error code, as a string: 400, 404, 409, 500 or 503, and
	// over HTTP also 401 and 405 (it is then the response's status).
	Code string `json:"code" jsonschema:"enum=400,enum=401,enum=404,enum=405,enum=409,enum=500,enum=503"`
	// Error says what went wrong, to what, and what to do.
	Error string `json:"error"`
}

// SubmitReply answers a submit request at once (without the header
// Bestpatch-Wait).
type SubmitReply struct {
	// Job is the job's ID (assigned by the daemon when the job had none).
	Job string `json:"job"`
	// State is where the job is.
	State State `json:"state"`
	// Existing is true when a job with this ID and the same content was
	// submitted before: nothing new was queued.
	Existing bool `json:"existing,omitempty"`
}

// JobRequest names a job, for the status and cancel requests.
type JobRequest struct {
	// Job is the job's ID.
	Job string `json:"job"`
}

// Status says where a job is: the reply to the status and cancel
// requests.
type Status struct {
	// Job is the job's ID.
	Job string `json:"job"`
	// State is where the job is.
	State State `json:"state"`
	// Submitted is when the job was accepted (RFC 3339, UTC).
	Submitted time.Time `json:"submitted"`
	// RunsDone counts the runs whose results are stored.
	RunsDone int `json:"runs_done"`
	// Outcome is set once the state is final.
	Outcome *Outcome `json:"outcome,omitempty"`
}

// Outcome is a job's end: published once on the job's verdict subject,
// and the reply to a submit request with the header Bestpatch-Wait.
type Outcome struct {
	// Job is the job's ID.
	Job string `json:"job"`
	// State is done, failed or cancelled (never an earlier state).
	State State `json:"state"`
	// Report is the verdict and its evidence, for state done, and for a
	// job that failed because its verdict abstained (no evidence).
	Report *Report `json:"report,omitempty"`
	// ReportObject names the object in object store bestpatch-payloads
	// that holds the report when it is larger than the server's maximum
	// message size; report is then absent. (The HTTP gateway reads it and
	// sends the report.)
	ReportObject string `json:"report_object,omitempty"`
	// Error says why the job failed or was cancelled.
	Error string `json:"error,omitempty"`
	// Finished is when the job ended (RFC 3339, UTC).
	Finished time.Time `json:"finished"`
}

// WorkItem is one queued run. Internal: between daemons of one release.
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
// ResultsBucket (or the object it points to). Internal: between daemons of
// one release, so it carries the executor's result as it is.
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

// MaxJobDocument bounds a job's JSON document: its patches
// (selector.MaxJobPatchBytes) with room for JSON escapes (a newline is two
// bytes) and the rest of the job. A bigger job is refused before it is
// read.
const MaxJobDocument = 2*selector.MaxJobPatchBytes + 1<<20

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
	// Replies counts the replies sent, errors included.
	Replies int `json:"num_replies"`
	// Errors counts the error replies.
	Errors int `json:"num_errors"`
	// LastError is the last error reply's code and message.
	LastError string `json:"last_error,omitempty"`
	// ProcessingTime is the total time from requests to their replies, in
	// nanoseconds (as micro's own statistics).
	ProcessingTime time.Duration `json:"processing_time"`
	// AverageProcessingTime is ProcessingTime per reply, in nanoseconds.
	AverageProcessingTime time.Duration `json:"average_processing_time"`
}
