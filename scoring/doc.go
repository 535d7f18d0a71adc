// Package scoring turns an outcome matrix and a set of candidate patches into
// a ranked Verdict. Everything here is a pure function of its inputs: no file,
// network or process I/O, so that every rule can be tested from tables and the
// same verdict comes out of the CLI, the daemon and the batch runner.
package scoring
