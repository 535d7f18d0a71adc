package executor

import "strings"

// OutOfMemoryReason begins the Reason of an Infra result whose run had a
// process killed for memory (at the run's limit, or by the kernel's OOM
// killer), in every backend.
const OutOfMemoryReason = "out of memory: "

// OutOfMemory reports whether the run failed because a process of it was
// killed for memory. Infra for the selector (it says nothing sure about the
// candidate); a benchmark of the naive way counts it as a finished run, as
// the SWE-bench harness records a failed instance and goes on.
func (r Result) OutOfMemory() bool {
	return r.Status == Infra && strings.HasPrefix(r.Reason, OutOfMemoryReason)
}
