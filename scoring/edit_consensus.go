package scoring

import "strings"

// Consensus per edit. A candidate is a set of edits: the change blocks of
// its effective patch, each keyed by its file, its deleted and its added
// canonical lines (local names renamed as for clusters, positions left
// out). An edit's support is the number of other candidates in play that
// make it too; a candidate's edit consensus is the sum over its edits of
// their support, as a share of the other candidates. A complete fix whose
// edits are each backed by many candidates (including candidates that add
// something else) scores above a more frequent partial patch, which makes
// only some of those edits; an edit nobody else makes adds nothing, and
// does not subtract either.
//
// When tests ran, a candidate that breaks more original cases than the
// fewest any candidate in play breaks lends no support: an edit seen only
// in candidates with regressions earns nothing.

// editKeys lists a view's edits, one key per change block.
func editKeys(files []FileChange) []string {
	var out []string
	for _, f := range files {
		if len(f.Blocks) == 0 {
			out = append(out, "file "+f.Path+" whole") // deleted or renamed whole
			continue
		}
		for _, b := range renameLocals(languageOf(f.Path), f.Blocks) {
			var k strings.Builder
			k.WriteString(f.Path)
			k.WriteByte('\n')
			writeLines(&k, '-', b.Deleted)
			writeLines(&k, '+', b.Added)
			out = append(out, keyOf(k.String()))
		}
	}
	return out
}

// editConsensus fills the edit consensus of the live candidates, after the
// execution signals (regressions decide who lends support).
func editConsensus(views []view, sig map[string]*Signals) {
	n := len(views)
	if n < 2 {
		return
	}
	fewest := -1
	for _, v := range views {
		if r := sig[v.id].Regressions; r != nil && (fewest < 0 || *r < fewest) {
			fewest = *r
		}
	}
	lends := func(v view) bool {
		r := sig[v.id].Regressions
		return r == nil || *r <= fewest
	}
	support := map[string]int{}
	for _, v := range views {
		if !lends(v) {
			continue
		}
		seen := map[string]bool{}
		for _, e := range v.edits {
			if !seen[e] {
				seen[e] = true
				support[e]++
			}
		}
	}
	for _, v := range views {
		seen := map[string]bool{}
		total := 0.0
		for _, e := range v.edits {
			if seen[e] {
				continue
			}
			seen[e] = true
			others := support[e]
			if lends(v) {
				others-- // its own support does not count
			}
			total += float64(others) / float64(n-1)
		}
		sig[v.id].EditConsensus = total
	}
}

// SignalEditConsensus is the support of the candidate's edits across the
// pool.
const SignalEditConsensus Signal = "edit_consensus"

var editConsensusSignal = SignalDef{Name: SignalEditConsensus, Unit: "edits (a sum of shares)", AutoTerm: true,
	Doc:   "the sum over the candidate's edits (change blocks) of the share of the other candidates in play that make the same edit; a candidate with more regressions than the fewest lends no support",
	value: func(s *Signals) (float64, bool) { return s.EditConsensus, true }}
