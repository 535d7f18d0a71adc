package scoring

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// eps is the tolerance under which two key values are equal: sums of
// fractions computed in different orders must not break ties by rounding.
const eps = 1e-9

// ordering is the result of applying a policy to the candidates in play.
type ordering struct {
	// order lists the candidates that passed the filters, best first.
	order []string
	// listed is every candidate in play in report order: tier by tier, the
	// ones that passed the filters best first, then the ones filtered out.
	listed []string
	// rank is the competition rank (1, 2, 2, 4) by tier and keys; a
	// candidate filtered out ranks after those of its tier that were not.
	rank map[string]int
	// tier is each candidate's tier (0 first).
	tier map[string]int
	// keys are the key values (nil: absent) by candidate.
	keys map[string][]*float64
	// keyNames are the keys actually used.
	keyNames []string
	// out holds, for candidates removed by a filter, why.
	out map[string]string
	// filteredBy names the filters that removed some candidate of the
	// first tier.
	filteredBy []string
	// used names the filters and keys that had a value for some candidate.
	used  []string
	notes []string
}

// applyPolicy filters and orders the candidates in play, given in tiers:
// every candidate of a tier ranks below every candidate of the tiers
// before it, filtered out or not. Filters apply within each tier (so that
// a tier below can never push one above out); keys are computed over all
// the candidates that passed, on one scale. sig must hold every candidate.
func applyPolicy(p Policy, tiers [][]string, sig map[string]*Signals) ordering {
	o := ordering{out: map[string]string{}, keys: map[string][]*float64{}, rank: map[string]int{}, tier: map[string]int{}}
	var remaining []string
	// A filter is noted as skipped only when no candidate of any tier has
	// its signal: a tier without it (often the empty tier of tamperers) says
	// nothing about the job.
	present := make([]bool, len(p.Filters))
	for t, ids := range tiers {
		kept := append([]string(nil), ids...)
		decisive := o.filteredBy
		for i, f := range p.Filters {
			var had bool
			kept, had = o.filter(f, kept, sig)
			present[i] = present[i] || had
		}
		if t > 0 {
			// Only the first tier's filters can decide the choice.
			o.filteredBy = decisive
		}
		for _, id := range ids {
			o.tier[id] = t
		}
		remaining = append(remaining, kept...)
	}
	for i, f := range p.Filters {
		if !present[i] {
			o.notes = append(o.notes, fmt.Sprintf("filter %s skipped: no candidate has this signal", f.Signal))
		}
	}

	// Key values, oriented so that higher is better; -Inf when absent.
	values := map[string][]float64{}
	for _, k := range p.Keys {
		col, used := keyColumn(k, remaining, sig, &o.notes)
		if !used {
			continue
		}
		o.keyNames = append(o.keyNames, k.String())
		o.used = append(o.used, k.String())
		for _, id := range remaining {
			values[id] = append(values[id], col[id])
			var ptr *float64
			if v := col[id]; !math.IsInf(v, -1) {
				ptr = &v
			}
			o.keys[id] = append(o.keys[id], ptr)
		}
	}

	sort.SliceStable(remaining, func(i, j int) bool {
		a, b := remaining[i], remaining[j]
		if o.tier[a] != o.tier[b] {
			return o.tier[a] < o.tier[b]
		}
		if c := compareKeys(values[a], values[b]); c != 0 {
			return c > 0
		}
		return tieLess(sig[a], sig[b], a, b)
	})
	o.order = remaining
	offset, i := 0, 0
	for t, ids := range tiers {
		first := i
		for ; i < len(remaining) && o.tier[remaining[i]] == t; i++ {
			id := remaining[i]
			if i > first && compareKeys(values[id], values[remaining[i-1]]) == 0 {
				o.rank[id] = o.rank[remaining[i-1]]
			} else {
				o.rank[id] = offset + i - first + 1
			}
			o.listed = append(o.listed, id)
		}
		for _, id := range ids {
			if _, out := o.out[id]; out {
				o.rank[id] = offset + i - first + 1
				o.listed = append(o.listed, id)
			}
		}
		offset += len(ids)
	}
	o.notes = slices.Compact(o.notes)
	return o
}

// tieLess is the deterministic tie-break between candidates equal on every
// key: the larger meaning cluster first (more candidates make that change),
// then the smaller change (fewer canonical lines changed), then the smaller
// candidate ID.
func tieLess(a, b *Signals, idA, idB string) bool {
	if a.Votes != b.Votes {
		return a.Votes > b.Votes
	}
	if a.ChangedLines != b.ChangedLines {
		return a.ChangedLines < b.ChangedLines
	}
	return idA < idB
}

// compareKeys compares two key vectors lexicographically: 1 when a is
// better, -1 when b is, 0 when equal within eps on every key.
func compareKeys(a, b []float64) int {
	for i := range a {
		x, y := a[i], b[i]
		if math.IsInf(x, -1) && math.IsInf(y, -1) {
			continue
		}
		if x > y+eps {
			return 1
		}
		if y > x+eps {
			return -1
		}
	}
	return 0
}

// filter keeps the candidates among ids that pass f; had reports whether
// any of them has f's signal (when none has, all are kept).
func (o *ordering) filter(f Filter, ids []string, sig map[string]*Signals) (kept []string, had bool) {
	info := signals[f.Signal]
	type entry struct {
		id string
		v  float64
	}
	var present []entry
	for _, id := range ids {
		if v, ok := info.oriented(sig[id]); ok {
			present = append(present, entry{id, v})
		}
	}
	if len(present) == 0 {
		return ids, false
	}
	name := fmt.Sprintf("%s (%s)", f.Signal, f.Keep)
	o.used = append(o.used, "filter "+name)
	sort.SliceStable(present, func(i, j int) bool { return present[i].v > present[j].v })
	var threshold float64
	switch f.Keep {
	case KeepTop:
		k := int(math.Ceil(f.Fraction * float64(len(present))))
		k = max(k, f.Min, 1)
		k = min(k, len(present))
		threshold = present[k-1].v
	default:
		threshold = present[0].v
	}
	keep := map[string]bool{}
	for _, e := range present {
		if e.v >= threshold-eps {
			keep[e.id] = true
		}
	}
	for _, id := range ids {
		if keep[id] {
			kept = append(kept, id)
			continue
		}
		if !slices.Contains(o.filteredBy, name) {
			o.filteredBy = append(o.filteredBy, name)
		}
		if v, ok := info.value(sig[id]); ok {
			best, _ := info.value(sig[present[0].id])
			o.out[id] = fmt.Sprintf("filtered by %s (%s): %g, best %g", f.Signal, f.Keep, v, best)
		} else {
			o.out[id] = fmt.Sprintf("filtered by %s (%s): no value", f.Signal, f.Keep)
		}
	}
	return kept, true
}

// keyColumn computes one key's oriented value for each candidate (-Inf when
// absent). used is false when no candidate has the key's signal(s).
func keyColumn(k Key, ids []string, sig map[string]*Signals, notes *[]string) (map[string]float64, bool) {
	col := make(map[string]float64, len(ids))
	if len(k.Weights) == 0 {
		info := signals[k.Signal]
		any := false
		for _, id := range ids {
			if v, ok := info.oriented(sig[id]); ok {
				col[id] = v
				any = true
			} else {
				col[id] = math.Inf(-1)
			}
		}
		if !any {
			*notes = append(*notes, fmt.Sprintf("key %s skipped: no candidate has this signal", k.Signal))
		}
		return col, any
	}
	names := make([]string, 0, len(k.Weights))
	for s := range k.Weights {
		names = append(names, string(s))
	}
	sort.Strings(names) // a fixed summation order: the same inputs, the same sums
	any := false
	for _, name := range names {
		s := Signal(name)
		u, ok := utilities(s, ids, sig)
		if !ok {
			*notes = append(*notes, fmt.Sprintf("term %s of key %s skipped: no candidate has this signal", s, k))
			continue
		}
		any = true
		for _, id := range ids {
			col[id] += k.Weights[s] * u[id]
		}
	}
	return col, any
}

// utilities maps a signal to [0, 1], higher is better, for a weighted key
// (see Key); a probability marked logOdds (the prior) enters as its
// log-odds instead. A candidate lacking the signal gets 0. ok is false when
// no candidate has it.
func utilities(s Signal, ids []string, sig map[string]*Signals) (map[string]float64, bool) {
	info := signals[s]
	u := make(map[string]float64, len(ids))
	lo, hi := math.Inf(1), math.Inf(-1)
	present := map[string]float64{}
	for _, id := range ids {
		if v, ok := info.oriented(sig[id]); ok {
			present[id] = v
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if len(present) == 0 {
		return nil, false
	}
	for id, v := range present {
		switch {
		case info.counted:
			if n := len(ids); n > 1 {
				u[id] = math.Min(1, (v-1)/float64(n-1)) // votes count all live candidates
			}
		case info.logOdds:
			u[id] = logOdds(v)
		case info.unitScale && info.lowerIsBetter:
			u[id] = 1 + v // flags: -1 or 0 -> 0 or 1
		case info.unitScale:
			u[id] = v
		case hi-lo > eps:
			u[id] = (v - lo) / (hi - lo)
		}
	}
	return u, true
}

// logOdds is ln(p / (1 - p)), with p kept within [0.001, 0.999] so that a
// prior of 0 or 1 stays finite.
func logOdds(p float64) float64 {
	p = math.Min(math.Max(p, 0.001), 0.999)
	return math.Log(p / (1 - p))
}
