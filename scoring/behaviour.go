package scoring

import (
	"sort"
	"strings"
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

// behaviourSignals sets Signals.Behaviour of the candidates in ids whose
// run completed.
func behaviourSignals(m *Matrix, ids []string, sig map[string]*Signals) {
	if m == nil || (m.Base.Status != RunOK && m.Base.Status != "") {
		return
	}
	flaky := flakySet(m)
	generated := map[string]bool{}
	for _, a := range m.Artifacts {
		generated[a.ID] = a.Generated
	}
	type ref struct{ artifact, c string }
	var all []ref
	gen := 0
	for a, cs := range m.Base.Cases {
		for c := range cs {
			if flaky.has(a, c) {
				continue
			}
			all = append(all, ref{a, c})
			if generated[a] {
				gen++
			}
		}
	}
	if len(all) == 0 {
		return
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].artifact != all[j].artifact {
			return all[i].artifact < all[j].artifact
		}
		return all[i].c < all[j].c
	})
	counted := func(r ref) bool { return gen == 0 || generated[r.artifact] }
	total := len(all)
	if gen > 0 {
		total = gen
	}
	class := map[string][]string{} // signature -> candidates
	passes := map[string]int{}
	var order []string
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
			if o == Pass && counted(r) {
				n++
			}
		}
		key := b.String()
		if _, seen := class[key]; !seen {
			order = append(order, key)
		}
		class[key] = append(class[key], id)
		passes[key] = n
	}
	executed := 0
	for _, k := range order {
		executed += len(class[k])
	}
	for _, k := range order {
		v := float64(len(class[k])) / float64(executed) * float64(passes[k]) / float64(total)
		for _, id := range class[k] {
			x := v
			sig[id].Behaviour = &x
		}
	}
}
