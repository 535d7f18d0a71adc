// Package executor runs one candidate (or the base) against test artifacts in
// an environment and reports per-test-case outcomes.
//
// Before anything is applied, the candidate is vetted (candidate.go): parsed
// with go-gitdiff and refused if it is too large, does not parse, or names a
// path in .git/, outside the repository or through a symbolic link it makes;
// its changes to test files are dropped (undone by construction, reported in
// Result.Restored). What is staged is the vetted patch, re-serialized.
//
// Every backend runs the same POSIX sh script (run.sh) inside its sandbox: it
// refuses a patch that would write through a link already in the repository,
// applies the candidate (git apply, git apply --recount, then patch with
// fuzz, each attempt from a clean tree, failing closed), adds the test
// artifacts, and runs the test command under a hard timeout. The backends
// differ only in where that script runs and how files get there: a scratch
// clone on the host (package executor/local) or a container (package
// executor/docker). This package holds what they share and no backend.
//
// The pieces every backend shares: NewStage lays out a run's inputs ($BP_DIR)
// as files to write to a directory or a tar stream; a Collector reads the
// script's stdout (test output, parsed line by line as it streams, with a
// bounded excerpt kept), its stderr markers and the JUnit report, and turns
// them into a Result.
package executor
