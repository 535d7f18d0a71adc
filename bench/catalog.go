package bench

// Kinds of candidate patches. Each candidate made is graded by running the
// full original suite, so its label never rests on the kind alone.
const (
	KindExact       = "exact-fix"           // the injected bug undone
	KindTwinFormat  = "twin-reformatted"    // the exact fix, spaced otherwise
	KindTwinComment = "twin-commented"      // the exact fix with a comment added
	KindTwinRenamed = "twin-renamed"        // the fix with its condition hoisted into a local, named otherwise in each twin
	KindTwinDrifted = "twin-drifted"        // the exact fix made against drifted context: only patch --fuzz applies it, to the same tree
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
	TestReproducing = "reproducing"    // fails on base, passes with the fix, fails with every wrong and partial fix graded
	TestWeak        = "weak"           // fails on base, passes with the fix and with a plausible wrong fix
	TestPartial     = "partial"        // reproduces one site of a two-site bug: passes with a partial fix
	TestPassing     = "passing"        // copies of visible tests: pass on base
	TestFailing     = "always-failing" // fails whatever the code
	TestBroken      = "not-compiling"  // breaks its package's build
)

// How much of the bug a task's generated tests reproduce (CatalogTask.Reproduction).
const (
	ReproStrong = "strong" // a reproducing test that every wrong candidate graded fails
	ReproWeak   = "weak"   // only weak or partial reproducing tests
	ReproNone   = "none"   // no generated test fails on base
)

// Splits of the tasks: methods are tuned on dev only.
const (
	SplitDev  = "dev"
	SplitTest = "test"
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
	// Split is dev or test: methods are tuned on the dev tasks only.
	Split string `json:"split"`
	// Hidden are the top-level tests that catch the bug ("importpath::TestName"):
	// removed from the visible repository, except those in Visible.
	Hidden []string `json:"hidden"`
	// Visible are catching tests left in the visible suite: an original
	// test that fails on base, as an issue's related test can.
	Visible []string   `json:"visible,omitempty"`
	Entries []Entry    `json:"entries"`
	Tests   []TestInfo `json:"tests"`
	// Reproduction says how much of the bug the generated tests reproduce:
	// strong, weak or none.
	Reproduction string `json:"reproduction"`
	// Pools are the candidate pools drawn from the entries, each one
	// instance of the task file.
	Pools []PoolDraw `json:"pools"`
}

// PoolDraw is one pool of a task: an instance of the task file with its own
// candidates.
type PoolDraw struct {
	InstanceID string `json:"instance_id"`
	// Profile is how the pool's kind frequencies were drawn: fix-heavy,
	// wrong-heavy, partial-heavy, flat or no-correct.
	Profile string             `json:"profile"`
	Weights map[string]float64 `json:"weights"`
	// Samples[i] is the entry name of sample index i.
	Samples []string `json:"samples"`
}

// PoolTask returns the catalog task that holds the pool with that instance
// ID.
func PoolTask(cat []CatalogTask, instanceID string) (CatalogTask, PoolDraw, bool) {
	for _, c := range cat {
		for _, p := range c.Pools {
			if p.InstanceID == instanceID {
				return c, p, true
			}
		}
	}
	return CatalogTask{}, PoolDraw{}, false
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
// candidate of one pool (the sample's model name identifies it), plus the
// kind it was made as.
type Label struct {
	InstanceID string `json:"instance_id"`
	Model      string `json:"model_name_or_path"`
	Resolved   bool   `json:"resolved"`
	Kind       string `json:"kind,omitempty"`
}
