package wire

// The closed sets of values of the protocol's fields. Each type's Values
// lists them, in order, for the JSON Schema (docs/wire/v1.schema.json).

// State is where a job is in its life.
type State string

// The states of a job.
const (
	Queued    State = "queued"    // accepted, no run finished yet
	Running   State = "running"   // some runs finished
	Scoring   State = "scoring"   // every run finished; a daemon is scoring
	Done      State = "done"      // scored: the Outcome holds the report
	Failed    State = "failed"    // could not be scored, or abstained: the Outcome says why
	Cancelled State = "cancelled" // cancelled before it was done
)

// Values are the states, in the order a job goes through them.
func (State) Values() []string {
	return []string{string(Queued), string(Running), string(Scoring), string(Done), string(Failed), string(Cancelled)}
}

// Final reports whether a job in this state will not change any more.
func (s State) Final() bool { return s == Done || s == Failed || s == Cancelled }

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

// Values are the event kinds.
func (EventKind) Values() []string {
	return []string{string(EventAccepted), string(EventRunStarted), string(EventRunFinished),
		string(EventSelected), string(EventFailed), string(EventCancelled)}
}

// Terminal reports whether the event ends the job's events.
func (k EventKind) Terminal() bool {
	return k == EventSelected || k == EventFailed || k == EventCancelled
}

// RunStatus is how a run ended.
type RunStatus string

// How a run ends.
const (
	// RunCompleted: the patch applied and the test command ran to its end,
	// whatever its exit status.
	RunCompleted RunStatus = "completed"
	// RunApplyFailed: the patch was refused or did not apply.
	RunApplyFailed RunStatus = "apply_failed"
	// RunEmpty: the patch applied but changed nothing.
	RunEmpty RunStatus = "empty"
	// RunTimeout: the test command hit the task's timeout.
	RunTimeout RunStatus = "timeout"
	// RunInfra: the environment failed (image missing, out of memory, no
	// test output): never a test failure.
	RunInfra RunStatus = "infra"
)

// Values are the run statuses.
func (RunStatus) Values() []string {
	return []string{string(RunCompleted), string(RunApplyFailed), string(RunEmpty), string(RunTimeout), string(RunInfra)}
}

// RowStatus says whether a row of the outcome matrix holds evidence.
type RowStatus string

// The statuses of a matrix row.
const (
	// RowOK: the patch applied and the tests ran; the row's cases hold the
	// evidence.
	RowOK RowStatus = "ok"
	// RowApplyFailed: the patch did not apply; the candidate is out.
	RowApplyFailed RowStatus = "apply_failed"
	// RowEmpty: the patch changes nothing; the candidate is out.
	RowEmpty RowStatus = "empty"
	// RowUnknown: a timeout or an infrastructure failure: no evidence,
	// never a pass.
	RowUnknown RowStatus = "unknown"
)

// Values are the row statuses.
func (RowStatus) Values() []string {
	return []string{string(RowOK), string(RowApplyFailed), string(RowEmpty), string(RowUnknown)}
}

// TestOutcome is how one test case ended in one run.
type TestOutcome string

// The outcomes of a test case.
const (
	Pass  TestOutcome = "PASS"  // ran and passed
	Fail  TestOutcome = "FAIL"  // ran and failed
	Error TestOutcome = "ERROR" // did not run (did not build, collection failed)
	Skip  TestOutcome = "SKIP"  // ran and skipped itself
)

// Values are the test outcomes.
func (TestOutcome) Values() []string {
	return []string{string(Pass), string(Fail), string(Error), string(Skip)}
}

// Evidence is how much execution evidence a verdict had.
type Evidence string

// The levels of execution evidence.
const (
	// EvidenceFull: every candidate in play has a completed run.
	EvidenceFull Evidence = "full"
	// EvidencePartial: some candidates in play have no completed run
	// (basis.unknown); they rank below those with one.
	EvidencePartial Evidence = "partial"
	// EvidenceNone: the job ran, but no evidence came of it: the verdict
	// abstains.
	EvidenceNone Evidence = "none"
	// EvidenceExecutionFree: nothing ran, as the job asked (options.execution
	// "none"): the verdict rests on the patches alone.
	EvidenceExecutionFree Evidence = "execution_free"
)

// Values are the evidence levels.
func (Evidence) Values() []string {
	return []string{string(EvidenceFull), string(EvidencePartial), string(EvidenceNone), string(EvidenceExecutionFree)}
}
