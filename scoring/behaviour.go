package scoring

import (
	"sort"
	"strings"

	"github.com/bestpatch/bestpatch/executor/outcome"
)

// Behaviour as evidence, after CodeT's dual execution agreement: candidates
// with identical outcomes on every counted test case form a behaviour
// class, and a class is backed by its size and by the test cases it
// passes. A candidate's behaviour signal is its class's
//
//	(|class| / n) · (cases the class passes / cases counted)
//
// where n counts the candidates in play with a completed run, and the cases
// counted are the generated tests' (CodeT's test cases are generated), or
// the original suite's when no generated test has a counted case. Every
// case the base produced counts except flaky ones; the class is decided on
// all of them, original and generated. A candidate without a completed
// run has no behaviour signal.

// SignalBehaviour is the behaviour class's size × the cases it passes
// (CodeT), [0, 1].
const SignalBehaviour Signal = "behaviour"

var behaviourSignal = SignalDef{Name: SignalBehaviour, Unit: "[0, 1]", Execution: true, AutoTerm: true, unitScale: true,
	Doc:     "the candidate's behaviour class (the candidates with the same outcome on every counted case) backed by its size and the cases it passes, as CodeT's dual execution agreement: (|class|/n)·(passed/counted); absent without a completed run",
	compute: behaviourValues}

// behaviourValues is the behaviour of the candidates in play whose run
// completed.
func behaviourValues(in signalInput) map[string]float64 {
	c, ok := behaviourClasses(in.matrix, in.live)
	if !ok {
		return nil
	}
	out := make(map[string]float64, len(c.class))
	for id, k := range c.class {
		out[id] = c.value(len(c.members[k]), c.passes[k])
	}
	return out
}

// classes are the behaviour classes of the candidates with a completed
// run: each candidate's class, the candidates of each, the counted cases
// each passes, and what a class's value is measured against.
type classes struct {
	class    map[string]string   // candidate -> its class (signature)
	members  map[string][]string // class -> candidates
	passes   map[string]int      // class -> counted cases passed
	executed int                 // candidates classed
	total    int                 // cases counted
}

// value is the behaviour of a class of size members that passes passed
// counted cases: (|class| / n) · (passed / counted).
func (c classes) value(size, passed int) float64 {
	return float64(size) / float64(c.executed) * float64(passed) / float64(c.total)
}

// behaviourClasses classes the candidates in ids whose run completed; ok
// is false when the base holds no case that counts.
func behaviourClasses(m *Matrix, ids []string) (classes, bool) {
	if m == nil || (m.Base.Status != RunOK && m.Base.Status != "") {
		return classes{}, false
	}
	flaky := flakySet(m)
	generated := map[string]bool{}
	for _, a := range m.Artifacts {
		generated[a.ID] = a.Generated
	}
	var all []caseRef
	gen := 0
	for a, cs := range m.Base.Cases {
		for c := range cs {
			if flaky.has(a, c) {
				continue
			}
			all = append(all, caseRef{a, c})
			if generated[a] {
				gen++
			}
		}
	}
	if len(all) == 0 {
		return classes{}, false
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].artifact != all[j].artifact {
			return all[i].artifact < all[j].artifact
		}
		return all[i].c < all[j].c
	})
	counted := func(r caseRef) bool { return gen == 0 || generated[r.artifact] }
	c := classes{class: map[string]string{}, members: map[string][]string{}, passes: map[string]int{}, total: len(all)}
	if gen > 0 {
		c.total = gen
	}
	for _, id := range ids {
		row, ok := m.Candidates[id]
		if !ok || (row.Status != RunOK && row.Status != "") {
			continue
		}
		var b strings.Builder
		n := 0
		for _, r := range all {
			o := row.Cases[r.artifact][r.c] // absent: the zero Outcome, never a pass
			b.WriteString(string(o))
			b.WriteByte(0)
			if o == outcome.Pass && counted(r) {
				n++
			}
		}
		key := b.String()
		c.class[id] = key
		c.members[key] = append(c.members[key], id)
		c.passes[key] = n
		c.executed++
	}
	return c, true
}
