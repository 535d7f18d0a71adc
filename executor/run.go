package executor

import (
	"time"

	"github.com/bestpatch/bestpatch/executor/outcome"
)

// Environment is where runs happen: a Docker image, or a checkout on disk.
type Environment struct {
	// Image is a Docker image holding the repository at Workdir.
	Image string `json:"image,omitempty"`
	// Repo is a path to a local checkout (Local backend).
	Repo string `json:"repo,omitempty"`
	// Commit is the base commit; empty means HEAD.
	Commit string `json:"commit,omitempty"`
	// Workdir is the repository inside the image (default /testbed).
	Workdir string `json:"workdir,omitempty"`
	// Activate is a shell prefix run before the tests, e.g.
	// "source /opt/miniconda3/bin/activate testbed".
	Activate string `json:"activate,omitempty"`
	// Env holds extra environment variables for the test command.
	Env map[string]string `json:"env,omitempty"`
	// User runs the tests as this user inside the container.
	User string `json:"user,omitempty"`
	// Limits bound a container's resources; zero values take the defaults.
	Limits Limits `json:"limits,omitzero"`
}

// Where says where runs of e happen, for messages: "in Docker image X", or
// "on the local checkout R (unsandboxed, on this host)".
func (e Environment) Where() string {
	if e.Image != "" {
		return "in Docker image " + e.Image
	}
	return "on the local checkout " + e.Repo + " (unsandboxed, on this host)"
}

// Limits bound the resources of one run's container.
type Limits struct {
	MemoryMB int     `json:"memory_mb,omitempty"`
	CPUs     float64 `json:"cpus,omitempty"`
	PIDs     int64   `json:"pids,omitempty"`
}

// TestPatch is one test artifact as a patch that adds test files.
type TestPatch struct {
	ID    string `json:"id"`
	Patch string `json:"patch"`
}

// Semantics is the version of what a Run means: how the executor turns a
// Run into a Result. It is part of every result cache key
// (selector.RunKey), so that results cached under other semantics are
// never served. Bump it with any change that can give the same Run another
// Result: run.sh, the vetting and staging of patches (what is refused, what
// is undone), a format's parser or test files, how a status is decided.
// Not for changes that only make runs faster or messages clearer.
//
// 1: tamper-proof application (bec8b08) and every change before it.
// 2: a run reports the tree its candidate left (Result.Tree).
// 3: Result.BrokenFiles (the plan drops the generated tests they name).
const Semantics = 3

// Run is one execution: a patch (empty for the base run) against test patches.
type Run struct {
	Env Environment `json:"env"`
	// Patch is the candidate's diff; empty for the base run.
	Patch string `json:"patch,omitempty"`
	// Tests are applied after the candidate; each may fail to apply alone.
	Tests []TestPatch `json:"tests,omitempty"`
	// TestFiles are the test-file patterns (testfile.Matcher): the
	// candidate's changes to files that match are dropped before anything is
	// applied, and reported in Result.Restored.
	TestFiles []string `json:"test_files,omitempty"`
	// Command is the test command, run with bash -c in the repository root
	// (sh -c in an image without bash).
	Command string `json:"command"`
	// Format is the format of the command's output.
	Format Format `json:"format"`
	// Report is the report file the test command writes, relative to the
	// repository, for a format whose results come from one (junit).
	Report string `json:"report,omitempty"`
	// Timeout is the hard limit for the test command; the whole process group
	// is killed when it expires.
	Timeout time.Duration `json:"timeout"`
}

// Status classifies how a run ended.
type Status string

const (
	// Completed: the patch applied and the test command ran to its end
	// (whatever its exit code); Cases hold the evidence.
	Completed Status = "completed"
	// ApplyFailed: the patch was refused before it was applied (it does not
	// parse, is too large, or writes in .git/, outside the repository or
	// through a symbolic link; Reason says which), or no apply method could
	// apply it.
	ApplyFailed Status = "apply_failed"
	// EmptyPatch: the patch applied but changed nothing.
	EmptyPatch Status = "empty"
	// TimedOut: the test command hit the run's timeout and was killed.
	TimedOut Status = "timeout"
	// Infra: the environment failed (image missing, engine unreachable, disk
	// full, out of memory, no test output at all). Never a test failure.
	Infra Status = "infra"
)

// Case is one test case's outcome as parsed from the output.
type Case struct {
	// ID is the case's identity, in the shape its format gives it
	// (FormatSpec.CaseID): "importpath::TestName/sub" for go-json, the
	// pytest node id, "classname::name" for junit, SWE-bench's description
	// or docstring title for django, "file::test_name" for sympy.
	ID      string          `json:"id"`
	Outcome outcome.Outcome `json:"outcome"`
}

// Result is what one Run produced.
type Result struct {
	Status Status `json:"status"`
	// Reason explains a status other than Completed, for humans.
	Reason string `json:"reason,omitempty"`
	// Applied names the method that applied the patch: "git apply", "git
	// apply --recount" (after whitespace or line-count fixes) or "patch
	// --fuzz" (context did not match exactly); empty for the base run or
	// when nothing applied.
	Applied string `json:"applied,omitempty"`
	// TestsApplied maps each TestPatch ID to whether it applied.
	TestsApplied map[string]bool `json:"tests_applied,omitempty"`
	// Tree is the git tree hash of the repository once the candidate
	// applied (its test files stripped, before any test patch): the code it
	// leaves, by content. Two candidates with the same Tree are the same
	// change, whatever their text. Empty for the base run and for a
	// candidate that did not apply or changed nothing.
	Tree string `json:"tree,omitempty"`
	// Restored lists the test files (and .gitattributes) the candidate
	// added, changed, renamed or deleted: those changes were dropped from
	// the patch before it was applied, so the tests ran as the base has
	// them. A non-empty list is test tampering, undone.
	Restored []string `json:"restored,omitempty"`
	// ExitCode of the test command.
	ExitCode int `json:"exit_code"`
	// Cases are the parsed per-case outcomes.
	Cases []Case `json:"cases,omitempty"`
	// Broken lists units that failed before any case ran: Go packages that
	// did not build, pytest files that failed collection.
	Broken []string `json:"broken,omitempty"`
	// BrokenFiles are the source files the errors of broken units name,
	// relative to the repository, when the format tells: the files go's
	// build errors point at (go-json), the file that failed collection or
	// import (pytest, sympy). The selector drops the generated tests they
	// name without running each alone.
	BrokenFiles []string `json:"broken_files,omitempty"`
	// Output is a size-capped excerpt of the test output (head and tail).
	Output   string        `json:"output,omitempty"`
	Duration time.Duration `json:"duration"`
}
