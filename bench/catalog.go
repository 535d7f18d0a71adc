package bench

// Kinds of candidate patches. Each candidate made is graded by running the
// full original suite, so its label never rests on the kind alone.
const (
	KindExact       = "exact-fix"           // the injected bug undone
	KindTwinFormat  = "twin-reformatted"    // the exact fix, spaced otherwise
	KindTwinComment = "twin-commented"      // the exact fix with a comment added
	KindRegression  = "fix-with-regression" // the fix plus a mutation elsewhere that breaks a visible test
	KindPartial     = "partial-fix"         // one site of a two-site bug fixed
	KindWrong       = "wrong-fix"           // another mutation of the buggy code, still failing a hidden test
	KindNoop        = "no-op"               // a comment added near the bug
	KindTampering   = "test-tampering"      // a wrong fix plus a visible test skipped or deleted
	KindNoApply     = "does-not-apply"      // the fix, made against other context
	KindEmpty       = "empty"               // no patch at all
)

// Kinds of generated tests.
const (
	TestReproducing = "reproducing"    // copies of hidden tests: fail on base, pass with the fix
	TestPassing     = "passing"        // copies of visible tests: pass on base
	TestFailing     = "always-failing" // fails whatever the code
	TestBroken      = "not-compiling"  // breaks its package's build
)

// Bug describes one injected mutation.
type Bug struct {
	File string `json:"file"`
	Func string `json:"func"`
	Line int    `json:"line"`
	Op   string `json:"op"`
	Desc string `json:"desc"`
}

// Entry is one candidate patch a task's pool is sampled from, with its
// grade.
type Entry struct {
	// Name is the kind, numbered when a task has several of that kind
	// ("wrong-fix-2").
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Patch    string `json:"patch"`
	Resolved bool   `json:"resolved"`
	// Status is the grading run's executor status (completed,
	// apply_failed, empty, ...).
	Status string `json:"status"`
}

// TestInfo says what a generated test is.
type TestInfo struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
}

// CatalogTask is everything known about one generated task: the bug, the
// hidden tests, every candidate made with its grade, the generated tests,
// and which candidate each sample index got. bench speed builds its jobs
// from it.
type CatalogTask struct {
	InstanceID string `json:"instance_id"`
	Module     string `json:"module"`
	Bugs       []Bug  `json:"bugs"`
	// Hidden are the top-level tests removed from the visible repository
	// ("importpath::TestName"): they caught the bug.
	Hidden []string `json:"hidden"`
	// Profile is how the pool's kind frequencies were drawn: fix-heavy,
	// wrong-heavy or flat.
	Profile string             `json:"profile"`
	Weights map[string]float64 `json:"weights"`
	Entries []Entry            `json:"entries"`
	Tests   []TestInfo         `json:"tests"`
	// Samples[i] is the entry name of sample index i.
	Samples []string `json:"samples"`
}

// Entry returns the entry with the given name.
func (c CatalogTask) Entry(name string) (Entry, bool) {
	for _, e := range c.Entries {
		if e.Name == name {
			return e, true
		}
	}
	return Entry{}, false
}

// Label is one line of the labels file: SWE-bench's resolved, for one
// candidate of one task (the sample's model name identifies it), plus the
// kind it was made as.
type Label struct {
	InstanceID string `json:"instance_id"`
	Model      string `json:"model_name_or_path"`
	Resolved   bool   `json:"resolved"`
	Kind       string `json:"kind,omitempty"`
}
