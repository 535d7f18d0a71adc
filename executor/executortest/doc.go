// Package executortest holds what the tests of the executor and of its
// backends (executor/local, executor/docker) share: git repositories and
// patches made on the fly, the fixtures of the live runs of the formats, the
// hostile candidates every backend must refuse or undo, and a look at the
// host's processes. It does not import executor, so that the executor's own
// (internal) tests can use it too.
package executortest
