package scoring

import "github.com/bestpatch/bestpatch/executor/outcome"

// RunStatus says whether a row of the matrix holds test evidence.
type RunStatus string

const (
	// RunOK: the patch applied and the tests ran; Cases hold the evidence.
	RunOK RunStatus = "ok"
	// RunApplyFailed: no apply method could apply the patch. The candidate is
	// out; it never inherits the base run's passing tests.
	RunApplyFailed RunStatus = "apply_failed"
	// RunEmpty: the patch changes nothing. The candidate is out.
	RunEmpty RunStatus = "empty"
	// RunUnknown: a timeout or an infrastructure failure, after retries. The
	// evidence is missing: never a pass, never a model failure.
	RunUnknown RunStatus = "unknown"
	// RunNotRun: the run was not made because nothing it could show would
	// change the verdict's choice or ties (adaptive execution: Adaptive).
	// No evidence either way: the candidate takes no part in the ranking,
	// and counts as in play for the execution-free signals of the others.
	RunNotRun RunStatus = "not_run"
)

// NotRunReason is the reason of a row not run (RunNotRun), as reports
// print it.
const NotRunReason = "not run: cannot change the choice"

// Artifact is one test artifact: a generated test, or the task's original suite.
type Artifact struct {
	ID string `json:"id"`
	// Generated is true for generated tests (they feed the FP/PP score) and
	// false for the original suite (it feeds the regression count).
	Generated bool `json:"generated"`
}

// Row is one run's evidence: by artifact ID, then by test case ID.
type Row struct {
	Status RunStatus `json:"status"`
	// Reason says why the run did not complete; on a completed base row
	// that holds no case, why it holds none (no test could be chosen to
	// run, say).
	Reason string `json:"reason,omitempty"`
	// Tree names the code the candidate left once applied (the executor's
	// Result.Tree: a hash of the tree, test files stripped); empty when
	// unknown and on the base row. Candidates with the same tree are one
	// cluster by effect, whatever their text.
	Tree  string                                `json:"tree,omitempty"`
	Cases map[string]map[string]outcome.Outcome `json:"cases,omitempty"`
}

// Matrix is the outcome matrix of one job: the base run and one row per
// candidate, keyed by candidate ID (candidates that share a normalized patch
// share a run, and so share an identical row).
type Matrix struct {
	Artifacts []Artifact `json:"artifacts"`
	Base      Row        `json:"base"`
	// Flaky lists, by artifact, the cases whose outcome differed between
	// repeated base runs. They are quarantined: left out of every score.
	Flaky      map[string][]string `json:"flaky,omitempty"`
	Candidates map[string]Row      `json:"candidates"`
}
