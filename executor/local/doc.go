// Package local is the Local backend of the executor: each run in a fresh
// clone of a checkout on this host (Executor), its processes in a session of
// their own (and a memory cgroup where one can be made), killed when the run
// ends. It gives no isolation: for trusted patches only. It stages inputs and
// reads results with the shared parts of package executor.
package local
