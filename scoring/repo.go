package scoring

import "strings"

// RepoOf is the repository of a SWE-bench instance ID: the part before the
// last "-" ("django__django-11099" -> "django__django"). Accuracy tables
// break results down by it, and reliability priors are kept per model and
// repository.
func RepoOf(instanceID string) string {
	if i := strings.LastIndex(instanceID, "-"); i > 0 {
		return instanceID[:i]
	}
	return instanceID
}
