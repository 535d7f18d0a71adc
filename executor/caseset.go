package executor

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/bestpatch/bestpatch/executor/outcome"
)

// caseSet gathers parsed cases in first-seen order, one entry per ID. A case
// reported more than once (go test -count=N, a pytest teardown error after a
// pass) keeps the worst outcome: Fail over Error over Pass over Skip, except
// that a Pass and an Error together are a Fail: the case ran, then its
// teardown failed, which is not "did not run".
type caseSet struct {
	index map[string]int
	cases []Case
}

func (s *caseSet) add(id string, o outcome.Outcome) {
	if s.index == nil {
		s.index = map[string]int{}
	}
	i, ok := s.index[id]
	if !ok {
		s.index[id] = len(s.cases)
		s.cases = append(s.cases, Case{ID: id, Outcome: o})
		return
	}
	s.cases[i].Outcome = mergeOutcomes(s.cases[i].Outcome, o)
}

func mergeOutcomes(a, b outcome.Outcome) outcome.Outcome {
	if (a == outcome.Pass && b == outcome.Error) || (a == outcome.Error && b == outcome.Pass) {
		return outcome.Fail
	}
	if outcomeRank(b) > outcomeRank(a) {
		return b
	}
	return a
}

func outcomeRank(o outcome.Outcome) int {
	switch o {
	case outcome.Fail:
		return 4
	case outcome.Error:
		return 3
	case outcome.Pass:
		return 2
	case outcome.Skip:
		return 1
	}
	return 0
}

// unitSet gathers broken units (packages, files) without duplicates.
type unitSet map[string]bool

func (u unitSet) sorted() []string {
	if len(u) == 0 {
		return nil
	}
	out := make([]string, 0, len(u))
	for k := range u {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// missingHint names a few of the tests whose status a parser never found,
// for its count error: " (no status found for a, b, c)", or "".
func missingHint(unresolved map[string]bool) string {
	if len(unresolved) == 0 {
		return ""
	}
	missing := slices.Sorted(maps.Keys(unresolved))
	return fmt.Sprintf(" (no status found for %s)", strings.Join(missing[:min(3, len(missing))], ", "))
}
