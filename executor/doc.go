// Package executor runs one candidate (or the base) against test artifacts in
// an environment and reports per-test-case outcomes.
//
// Every backend runs the same shell script (run.sh) inside its sandbox: it
// applies the candidate (git apply, then patch with fuzz, each attempt from a
// clean tree, failing closed), restores any test files the candidate touched,
// adds the test artifacts, and runs the test command under a hard timeout.
// The backends differ only in where that script runs and how files get there:
// a scratch clone on the host (Local) or a container (Docker).
//
// The pieces every backend shares: NewStage lays out a run's inputs ($BP_DIR)
// as files to write to a directory or a tar stream; a Collector reads the
// script's stdout (test output, parsed line by line as it streams, with a
// bounded excerpt kept), its stderr markers and the JUnit report, and turns
// them into a Result.
package executor
