package scoring

import (
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"sort"
)

// Adaptive execution: which runs can still change a job's choice.
//
// A job's candidates run in the order Order gives (the policy's ranking
// without execution: the candidates most likely to be chosen first), and
// after each run Settle asks whether the runs not yet in can change the
// verdict's choice or its ties. Its answer holds for every completion of
// the matrix: each candidate without a row may turn out not to apply, to
// be empty, to time out (no evidence), or to complete with any outcome on
// every case the base produced, leaving any tree its effect signature
// allows (EffectSignature: two runs leave the same tree only if their
// patches' signatures are equal or one is unknown). Over these
// completions every signal of every candidate lies in an interval: the
// execution signals of a candidate not run span everything a run can
// give (FP/PP from 0 to its maximum, regressions from 0 to every guarded
// case); the execution-free signals of every candidate span the sets of
// candidates that may end up in play (a candidate whose patch does not
// apply leaves the pool, which changes everyone's similarity) and the
// clusters that runs may merge. The policy is then applied to the
// intervals: a filter keeps a candidate surely, maybe or not, and the
// choice is settled when one candidate is surely kept and beats every
// candidate that may be kept in every completion: on a key whatever the
// completion, or, for a candidate whose every key is surely equal to its
// own (its twin: the same change, the same run), by the tie rules. So the
// verdict chooses the same candidate and reports the same ties as it would
// with every run made.

// settleSlack absorbs the rounding of sums taken in another order than
// the ranking takes them: a bound must win by more than eps plus this.
const settleSlack = 1e-12

// Adaptive holds what deciding whether runs can still change a job's
// choice needs, computed once per job from the patches alone: the
// execution-free signals of every candidate, the similarities of every
// pair, and the order in which to run them.
type Adaptive struct {
	policy     Policy
	candidates []Candidate
	base       map[string]*Signals // execution-free signals (flags, verifier, prior, size, key)
	ids        []string            // the candidates not out on their patch alone, input order
	views      []view              // of ids
	effects    []string            // of ids: their effect signatures ("" may leave any tree)
	sim        [][]float64         // similarity of each pair of ids, without clusters
	lines      [][]float64         // line localization overlap of each pair
	files      [][]float64         // file overlap of each pair
	scopes     [][]float64         // function overlap of each pair
	sizes      []int               // changed lines of ids
	order      []string
	reads      map[Signal]bool // the signals the policy reads
}

// NewAdaptive prepares adaptive execution for a job: in gives the
// candidates (in.Matrix is not read), effects the effect signature of the
// patch each candidate's run applies (EffectSignature; a candidate
// without one may leave any tree).
func NewAdaptive(in Input, p Policy, effects map[string]string) (*Adaptive, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	free := Input{Candidates: in.Candidates, Sources: in.Sources, TestFiles: in.TestFiles}
	assessed, err := Assess(free)
	if err != nil {
		return nil, err
	}
	v, err := assessed.Select(p)
	if err != nil {
		return nil, err
	}
	a := &Adaptive{policy: p, candidates: in.Candidates, base: map[string]*Signals{}, reads: policySignals(p)}
	for _, r := range v.Ranking {
		a.order = append(a.order, r.ID)
	}
	for i, c := range in.Candidates {
		cv := assessed.views[i]
		s := assessed.sig[c.ID] // execution-free: ChangedLines is set for the candidates not out
		a.base[c.ID] = s
		if patchOut(s.Flags) != "" {
			continue
		}
		a.ids = append(a.ids, c.ID)
		a.views = append(a.views, cv)
		a.effects = append(a.effects, effects[c.ID])
		a.sizes = append(a.sizes, s.ChangedLines)
	}
	n := len(a.views)
	bodies, distinct := make([]string, n), make([]string, n)
	for i, v := range a.views {
		bodies[i], distinct[i] = v.body, fmt.Sprint(i) // no two alike: the raw ratio of every pair
	}
	texts := prepareSimilarity(bodies, distinct)
	var sc lcsScratch
	a.sim, a.lines, a.files, a.scopes = square(n), square(n), square(n), square(n)
	for i := range n {
		for j := range i {
			if a.reads[SignalSimilarity] { // the costly part: an exact LCS per pair
				s := texts.pair(i, j, &sc)
				a.sim[i][j], a.sim[j][i] = s, s
			}
			l := jaccard(a.views[i].lines, a.views[j].lines)
			a.lines[i][j], a.lines[j][i] = l, l
			f := jaccard(a.views[i].files, a.views[j].files)
			a.files[i][j], a.files[j][i] = f, f
			o := jaccard(a.views[i].scopes, a.views[j].scopes)
			a.scopes[i][j], a.scopes[j][i] = o, o
		}
	}
	return a, nil
}

// policySignals are the signals a policy reads: its filters' and keys'
// (every ordering auto may resolve to, for auto).
func policySignals(p Policy) map[Signal]bool {
	reads := map[Signal]bool{}
	var ps []Policy
	if p.Auto {
		for _, tests := range []bool{false, true} {
			for _, verifier := range []bool{false, true} {
				q, _ := resolveAuto(tests, verifier, true)
				ps = append(ps, q)
			}
		}
	} else {
		ps = append(ps, p)
	}
	for _, q := range ps {
		for _, f := range q.Filters {
			reads[f.Signal] = true
		}
		for _, k := range q.Keys {
			reads[k.Signal] = true
			for s := range k.Weights {
				reads[s] = true
			}
		}
	}
	return reads
}

func square(n int) [][]float64 {
	m := make([][]float64, n)
	for i := range m {
		m[i] = make([]float64, n)
	}
	return m
}

// Order lists every candidate in the order their runs should go: the
// policy's ranking without execution, so that the candidate the choice
// is likely to settle on runs early.
func (a *Adaptive) Order() []string { return slices.Clone(a.order) }

// Settlement is Settle's answer.
type Settlement struct {
	// Chosen is the candidate the verdict chooses in every completion of
	// the matrix; empty when the runs not in can still change the choice
	// or the ties (Why says what stops it).
	Chosen string
	// Ties are the candidates tied with Chosen in every completion
	// (Chosen first), when there are others.
	Ties []string
	// Scope is the confidence scope of the verdict (ScopeTests or
	// ScopeExecutionFree): the confidence model that speaks for it may
	// read features that the runs not made would have changed.
	Scope string
	// Why says why the choice is not settled yet.
	Why string
}

// tri is a membership over the completions: never, in some, in every one.
type tri uint8

const (
	never tri = iota
	maybe
	surely
)

// span is what one signal of one candidate can be over the completions:
// absent (canLack), or a value in [lo, hi] (canHave).
type span struct {
	lo, hi           float64
	canHave, canLack bool
}

func exactly(v float64) span     { return span{lo: v, hi: v, canHave: true} }
func within(lo, hi float64) span { return span{lo: lo, hi: hi, canHave: true} }
func lacking() span              { return span{canLack: true} }
func (s span) orMissing() span   { s.canLack = true; return s }
func (s span) exact() bool       { return s.canHave && !s.canLack && s.lo == s.hi }
func (s span) neg() span         { s.lo, s.hi = -s.hi, -s.lo; return s }

// spanOf is a value known to be v, or known to be absent.
func spanOf(v float64, ok bool) span {
	if ok {
		return exactly(v)
	}
	return lacking()
}

// keyRange is the span as a key sees it: -Inf when absent.
func (s span) keyRange() (lo, hi float64) {
	lo, hi = s.lo, s.hi
	if s.canLack {
		lo = math.Inf(-1)
	}
	if !s.canHave {
		hi = math.Inf(-1)
	}
	return lo, hi
}

// contender is one candidate in play in some completion, as the settling
// sees it.
type contender struct {
	id    string
	live  tri
	ran   bool // its row is in (completed or not)
	tier  int
	sig   map[Signal]span // raw values, not oriented
	votes span
	row   *Row // its row, when it ran
	view  int  // index in Adaptive.ids
}

// Settle says whether the runs not in can still change the choice: m holds
// the rows of the candidates that ran; a candidate without a row (or with
// a row not run) is one whose run is not in.
func (a *Adaptive) Settle(m *Matrix) Settlement {
	if m == nil {
		return Settlement{Why: "nothing ran"}
	}
	if _, why := baseEvidence(m); why != "" {
		return Settlement{Why: "the base holds no evidence: " + why}
	}
	terms, _ := readBase(m)
	hasFPPP, hasReg, hasGen := terms.present()
	fpppMax := 1.0
	if terms.sumP > 0 && len(terms.reproducing) > 0 {
		fpppMax = 2
	}

	n := len(a.ids)
	cs := make([]*contender, n)
	var okIDs []string
	trees := map[string]string{}
	pending := 0
	for i, id := range a.ids {
		c := &contender{id: id, live: maybe, view: i, sig: map[Signal]span{}}
		if hasFlag(a.base[id].Flags, FlagTouchesTests) {
			c.tier = 1
		}
		if row, ok := m.Candidates[id]; ok && row.Status != RunNotRun {
			c.ran, c.row = true, &row
			switch row.Status {
			case RunApplyFailed, RunEmpty:
				c.live = never
			case RunOK, "":
				c.live = surely
				okIDs = append(okIDs, id)
				if row.Tree != "" {
					trees[id] = row.Tree
				}
			default:
				c.live = surely
			}
		} else {
			pending++
		}
		cs[i] = c
	}

	// Execution signals.
	exec, _ := readMatrix(m, okIDs)
	classes, hasBehaviour := behaviourClasses(m, okIDs)
	for _, c := range cs {
		switch {
		case c.ran && c.live == surely && c.row.Status != RunOK && c.row.Status != "":
			for _, s := range []Signal{SignalFPPP, SignalRegressions, SignalGeneratedPassed, SignalBehaviour} {
				c.sig[s] = lacking()
			}
		case c.ran:
			e := exec[c.id]
			c.sig[SignalFPPP] = spanOf(valueOf(e.fppp), e.fppp != nil)
			c.sig[SignalRegressions] = spanOf(float64(valueOf(e.regressions)), e.regressions != nil)
			c.sig[SignalGeneratedPassed] = spanOf(float64(valueOf(e.generatedPassed)), e.generatedPassed != nil)
			c.sig[SignalBehaviour] = lacking()
			if k, ok := classes.class[c.id]; ok && hasBehaviour {
				size, passed := len(classes.members[k]), classes.passes[k]
				grown := classes
				grown.executed += pending
				c.sig[SignalBehaviour] = within(grown.value(size, passed), grown.value(size+pending, passed))
			}
		default:
			c.sig[SignalFPPP], c.sig[SignalRegressions], c.sig[SignalGeneratedPassed], c.sig[SignalBehaviour] = lacking(), lacking(), lacking(), lacking()
			if hasFPPP {
				c.sig[SignalFPPP] = within(0, fpppMax).orMissing()
			}
			if hasReg {
				c.sig[SignalRegressions] = within(0, float64(len(terms.guarded))).orMissing()
			}
			if hasGen {
				c.sig[SignalGeneratedPassed] = within(0, float64(len(terms.reproducing))).orMissing()
			}
			if hasBehaviour {
				c.sig[SignalBehaviour] = within(0, 1).orMissing()
			}
		}
		b := a.base[c.id]
		c.sig[SignalVerifier] = spanOf(valueOf(b.Verifier), b.Verifier != nil)
		c.sig[SignalPrior] = spanOf(valueOf(b.Prior), b.Prior != nil)
		c.sig[SignalSize] = exactly(float64(b.ChangedLines))
		c.sig[SignalTouchesTests] = exactly(flagValue(b.Flags, FlagTouchesTests))
		c.sig[SignalScratchFiles] = exactly(flagValue(b.Flags, FlagScratchFiles))
	}
	a.consensusSpans(cs, trees)
	// A signal without a bound above (one registered since) may have any
	// value, or none, in a completion: a choice that rests on it is never
	// settled early, so its runs all happen.
	for _, c := range cs {
		for _, d := range registry {
			if _, ok := c.sig[d.Name]; !ok {
				c.sig[d.Name] = span{lo: math.Inf(-1), hi: math.Inf(1), canHave: true, canLack: true}
			}
		}
	}

	if len(okIDs) == 0 {
		return Settlement{Why: "no run has completed yet"}
	}
	s := &settling{a: a, cs: cs}
	p := a.policy
	if p.Auto {
		var unsure string
		p, unsure = s.resolveAuto()
		if unsure != "" {
			return Settlement{Why: unsure}
		}
	}
	return s.decide(p)
}

// valueOf is *p, or 0 for nil.
func valueOf[T float64 | int](p *T) T {
	if p == nil {
		return 0
	}
	return *p
}

func flagValue(flags []string, f string) float64 {
	if hasFlag(flags, f) {
		return 1
	}
	return 0
}

// consensusSpans fills the execution-free signals that depend on which
// candidates are in play and on the clusters runs merge: votes,
// similarity, the localizations, edit consensus and the size-outlier flag.
func (a *Adaptive) consensusSpans(cs []*contender, trees map[string]string) {
	// The clusters every completion has (meaning merged by the trees
	// known), and those some completion may merge: a candidate not run may
	// leave the tree of any run with a compatible signature.
	cur := effectClusters(a.views, trees)
	merge := unionFind{}
	for i, c := range cs {
		if c.ran {
			continue
		}
		for j, d := range cs {
			if i == j || d.live == never || cur[i] == cur[j] {
				continue
			}
			if d.ran && trees[d.id] == "" {
				continue // a run without a tree merges nothing
			}
			if x, y := a.effects[i], a.effects[j]; x == "" || y == "" || x == y {
				merge.union(cur[i], cur[j])
			}
		}
	}
	for i, c := range cs {
		c.votes = exactly(1)
		var simSure, simMaybe, lineSure, lineMaybe, fileSure, fileMaybe, scopeSure, scopeMaybe []span
		var sizeSure, sizeMaybe []float64
		for j, d := range cs {
			if i == j || d.live == never {
				continue
			}
			same, may := cur[i] == cur[j], merge.find(cur[i]) == merge.find(cur[j])
			if same && d.live == surely {
				c.votes.lo++
			}
			if may {
				c.votes.hi++
			}
			sim := exactly(a.sim[i][j])
			switch {
			case same:
				sim = exactly(1)
			case may:
				sim.hi = 1
			}
			if d.live == surely {
				simSure = append(simSure, sim)
				lineSure = append(lineSure, exactly(a.lines[i][j]))
				fileSure = append(fileSure, exactly(a.files[i][j]))
				scopeSure = append(scopeSure, exactly(a.scopes[i][j]))
				sizeSure = append(sizeSure, float64(a.sizes[j]))
			} else {
				simMaybe = append(simMaybe, sim)
				lineMaybe = append(lineMaybe, exactly(a.lines[i][j]))
				fileMaybe = append(fileMaybe, exactly(a.files[i][j]))
				scopeMaybe = append(scopeMaybe, exactly(a.scopes[i][j]))
				sizeMaybe = append(sizeMaybe, float64(a.sizes[j]))
			}
		}
		c.votes.hi = max(c.votes.hi, c.votes.lo)
		c.sig[SignalVotes] = c.votes
		// The others only when the policy reads them: they cost a pass over
		// every set size.
		spans := map[Signal]func() span{
			SignalSimilarity:           func() span { return meanSpan(simSure, simMaybe, true) },
			SignalLineLocalization:     func() span { return meanSpan(lineSure, lineMaybe, true) },
			SignalLocalization:         func() span { return meanSpan(fileSure, fileMaybe, false) },
			SignalFunctionLocalization: func() span { return meanSpan(scopeSure, scopeMaybe, false) },
			SignalSizeOutlier:          func() span { return outlierSpan(float64(a.sizes[i]), sizeSure, sizeMaybe) },
			SignalEditConsensus: func() span {
				// Each edit's support is a share of the others, so the sum
				// lies between none and all of its edits backed by all.
				edits := map[string]bool{}
				for _, e := range a.views[i].edits {
					edits[e] = true
				}
				return within(0, float64(len(edits)))
			},
		}
		for sig, f := range spans {
			if a.reads[sig] {
				c.sig[sig] = f()
			}
		}
	}
}

// unionFind joins strings into sets.
type unionFind map[string]string

func (u unionFind) find(x string) string {
	p, ok := u[x]
	if !ok || p == x {
		return x
	}
	r := u.find(p)
	u[x] = r
	return r
}

func (u unionFind) union(x, y string) {
	if rx, ry := u.find(x), u.find(y); rx != ry {
		u[rx] = ry
	}
}

// meanSpan bounds the mean of the largest half (meanOfTopHalf; every
// value when half is false) of a set holding every value of sure and any
// subset of maybe, each value within its span. For a given number of
// values taken from maybe, the mean is smallest with the smallest ones
// and largest with the largest ones; every count is tried.
func meanSpan(sure, maybe []span, half bool) span {
	desc := func(vals []float64) []float64 {
		sort.Sort(sort.Reverse(sort.Float64Slice(vals)))
		return vals
	}
	sureLo, sureHi := make([]float64, len(sure)), make([]float64, len(sure))
	for i, s := range sure {
		sureLo[i], sureHi[i] = s.lo, s.hi
	}
	maybeLo, maybeHi := make([]float64, len(maybe)), make([]float64, len(maybe))
	for i, s := range maybe {
		maybeLo[i], maybeHi[i] = s.lo, s.hi
	}
	desc(sureLo)
	desc(sureHi)
	desc(maybeLo) // the k smallest are its last k
	desc(maybeHi) // the k largest are its first k
	out := span{lo: math.Inf(1), hi: math.Inf(-1), canHave: true}
	for k := 0; k <= len(maybe); k++ {
		out.lo = math.Min(out.lo, topMean(sureLo, maybeLo[len(maybe)-k:], half))
		out.hi = math.Max(out.hi, topMean(sureHi, maybeHi[:k], half))
	}
	return out
}

// topMean is the mean of the largest half (or of all) of the values of
// two lists sorted in decreasing order; 0 when both are empty.
func topMean(a, b []float64, half bool) float64 {
	n := len(a) + len(b)
	if n == 0 {
		return 0
	}
	k := n
	if half {
		k = (n + 1) / 2
	}
	sum := 0.0
	for i, j, taken := 0, 0, 0; taken < k; taken++ {
		if j >= len(b) || (i < len(a) && a[i] >= b[j]) {
			sum += a[i]
			i++
		} else {
			sum += b[j]
			j++
		}
	}
	return sum / float64(k)
}

// outlierSpan says whether a candidate of the given size may be, or may
// not be, a size outlier (markSizeOutliers) among the sizes of the others
// in play: every one of sure and any subset of maybe.
func outlierSpan(size float64, sure, maybe []float64) span {
	median := func(vals []float64) float64 {
		sort.Float64s(vals)
		if len(vals)%2 == 1 {
			return vals[len(vals)/2]
		}
		return (vals[len(vals)/2-1] + vals[len(vals)/2]) / 2
	}
	flagged := func(med float64) bool { return size > outlierFactor*med && size >= med+outlierMargin }
	small, large := slices.Clone(maybe), slices.Clone(maybe)
	sort.Float64s(small)
	sort.Sort(sort.Reverse(sort.Float64Slice(large)))
	set, unset := false, false
	for k := 0; k <= len(maybe); k++ {
		if len(sure)+k+1 < 3 {
			unset = true // a median of two says nothing
			continue
		}
		lo := append(append([]float64{size}, sure...), small[:k]...)
		hi := append(append([]float64{size}, sure...), large[:k]...)
		// Flagged is monotone in the median: the smallest median is the
		// one most likely to flag, the largest the one least likely.
		set = set || flagged(median(lo))
		unset = unset || !flagged(median(hi))
	}
	switch {
	case set && unset:
		return within(0, 1)
	case set:
		return exactly(1)
	}
	return exactly(0)
}

// settling applies a policy to the spans of the contenders.
type settling struct {
	a  *Adaptive
	cs []*contender
}

// resolveAuto is auto's ordering when every completion resolves it alike,
// or says why they may not.
func (s *settling) resolveAuto() (Policy, string) {
	has := func(signals ...Signal) (sure, may bool) {
		for _, c := range s.cs {
			for _, sig := range signals {
				v := c.sig[sig]
				sure = sure || (c.live == surely && v.canHave && !v.canLack)
				may = may || (c.live != never && v.canHave)
			}
		}
		return sure, may
	}
	tests, mayTests := has(SignalFPPP, SignalRegressions)
	verifier, mayVerifier := has(SignalVerifier)
	prior, mayPrior := has(SignalPrior)
	switch {
	case tests != mayTests:
		return Policy{}, "whether test evidence orders the candidates (policy auto) depends on runs not in"
	case verifier != mayVerifier:
		return Policy{}, "whether verifier scores order the candidates (policy auto) depends on which candidates stay in play"
	case prior != mayPrior:
		return Policy{}, "whether priors weigh in (policy auto) depends on which candidates stay in play"
	}
	p, _ := resolveAuto(tests, verifier, prior)
	return p, ""
}

// oriented is a contender's span of a signal turned so that higher is
// better.
func oriented(c *contender, sig Signal) span {
	v := c.sig[sig]
	if signals[sig].lowerIsBetter {
		return v.neg()
	}
	return v
}

// decide applies the policy's filters and keys to the spans.
func (s *settling) decide(p Policy) Settlement {
	tiers := [2][]*contender{}
	in := map[*contender]tri{}
	for _, c := range s.cs {
		if c.live != never {
			tiers[c.tier] = append(tiers[c.tier], c)
			in[c] = c.live
		}
	}
	for _, tier := range tiers {
		for _, f := range p.Filters {
			kept := s.filter(f, tier, in)
			for _, c := range tier {
				in[c] = kept[c]
			}
		}
	}
	var remaining []*contender
	nLo, nHi := 0, 0
	for _, c := range s.cs {
		if in[c] != never {
			remaining = append(remaining, c)
			nHi++
			if in[c] == surely {
				nLo++
			}
		}
	}
	keys := map[*contender][]span{}
	for _, k := range p.Keys {
		col := keySpans(k, remaining, in, nLo, nHi)
		for _, c := range remaining {
			keys[c] = append(keys[c], col[c])
		}
	}
	why := "no candidate is sure to be kept by the filters"
	for _, l := range remaining {
		if in[l] != surely {
			continue
		}
		ties, blocker := s.beatsAll(l, remaining, in, keys)
		if blocker != "" {
			why = fmt.Sprintf("%s may tie with or beat %s", blocker, l.id)
			continue
		}
		scope := ScopeExecutionFree
		if l.sig[SignalFPPP].canHave || l.sig[SignalRegressions].canHave {
			scope = ScopeTests
		}
		return Settlement{Chosen: l.id, Ties: ties, Scope: scope}
	}
	return Settlement{Why: why}
}

// beatsAll reports whether l comes first in every completion, and with
// which ties: every other candidate that may remain is below it on the
// keys in every completion, or is tied with it in every completion (its
// keys surely equal) and loses the tie rules in every one. Otherwise it
// names a candidate that may tie with l or beat it.
func (s *settling) beatsAll(l *contender, remaining []*contender, in map[*contender]tri, keys map[*contender][]span) (ties []string, blocker string) {
	ties = []string{l.id}
	for _, c := range remaining {
		switch {
		case c == l, c.tier > l.tier, c.tier == l.tier && beatsOnKeys(keys[l], keys[c]):
		case c.tier == l.tier && in[c] == surely:
			twin := s.twins(l, c)
			if !(twin || surelyEqual(keys[l], keys[c])) || !s.tieWins(l, c, twin) {
				return nil, c.id
			}
			ties = append(ties, c.id)
		default:
			return nil, c.id
		}
	}
	if len(ties) < 2 {
		ties = nil
	}
	return ties, ""
}

// filter applies one filter to a tier: which of its candidates it keeps,
// surely, maybe or never. Every bound takes the candidate's own value at
// its worst and the others' at theirs.
func (s *settling) filter(f Filter, tier []*contender, in map[*contender]tri) map[*contender]tri {
	out := map[*contender]tri{}
	var members []*contender
	for _, c := range tier {
		if in[c] != never {
			members = append(members, c)
		}
	}
	// Pass-through: when no member has the signal, the filter keeps all.
	mayHave, sureHas := false, false
	for _, c := range members {
		v := c.sig[f.Signal]
		mayHave = mayHave || v.canHave
		sureHas = sureHas || (in[c] == surely && v.canHave && !v.canLack)
	}
	for _, c := range tier {
		out[c] = in[c]
	}
	if !mayHave {
		return out
	}
	for _, c := range members {
		v := oriented(c, f.Signal)
		var others []*contender
		for _, d := range members {
			if d != c {
				others = append(others, d)
			}
		}
		var sure, may bool
		switch f.Keep {
		case KeepTop:
			sure, may = topKept(f, v, others, in)
		default:
			// Kept when within eps of the best value of the others.
			worst, best := math.Inf(-1), math.Inf(-1)
			for _, d := range others {
				w := oriented(d, f.Signal)
				if w.canHave {
					worst = math.Max(worst, w.hi)
				}
				if in[d] == surely && w.canHave && !w.canLack {
					best = math.Max(best, w.lo)
				}
			}
			sure = v.canHave && !v.canLack && v.lo >= worst-eps+settleSlack
			may = v.canHave && v.hi >= best-eps-settleSlack
		}
		switch {
		case in[c] == surely && sure:
			out[c] = surely
		case may || !sureHas:
			out[c] = maybe
		default:
			out[c] = never
		}
	}
	return out
}

// topKept bounds a top filter: the candidate is kept when its value is
// within eps of the k-th best value among those present, k =
// max(ceil(fraction·present), min, 1). The k-th best is largest with the
// others at their highest, the candidate at its lowest and the optional
// others that raise it most; smallest the other way round.
func topKept(f Filter, v span, others []*contender, in map[*contender]tri) (sure, may bool) {
	kth := func(vals []float64) float64 {
		sort.Sort(sort.Reverse(sort.Float64Slice(vals)))
		k := int(math.Ceil(f.Fraction * float64(len(vals))))
		k = min(max(k, f.Min, 1), len(vals))
		return vals[k-1]
	}
	var sureLo, sureHi, optLo, optHi []float64
	for _, d := range others {
		w := oriented(d, f.Signal)
		if !w.canHave {
			continue
		}
		if in[d] == surely && !w.canLack {
			sureLo, sureHi = append(sureLo, w.lo), append(sureHi, w.hi)
		} else {
			optLo, optHi = append(optLo, w.lo), append(optHi, w.hi)
		}
	}
	sort.Float64s(optLo)
	sort.Sort(sort.Reverse(sort.Float64Slice(optHi)))
	highest, lowest := math.Inf(-1), math.Inf(1)
	for k := 0; k <= len(optLo); k++ {
		hi := append(append([]float64{v.lo}, sureHi...), optHi[:k]...)
		lo := append(append([]float64{v.hi}, sureLo...), optLo[:k]...)
		highest, lowest = math.Max(highest, kth(hi)), math.Min(lowest, kth(lo))
	}
	sure = v.canHave && !v.canLack && v.lo >= highest-eps+settleSlack
	may = v.canHave && v.hi >= lowest-eps-settleSlack
	return sure, may
}

// keySpans bounds one key's value (oriented, -Inf when absent) for each
// remaining candidate; n, the candidates remaining, lies in [nLo, nHi].
func keySpans(k Key, remaining []*contender, in map[*contender]tri, nLo, nHi int) map[*contender]span {
	out := map[*contender]span{}
	if len(k.Weights) == 0 {
		for _, c := range remaining {
			out[c] = oriented(c, k.Signal)
		}
		return out
	}
	for _, c := range remaining {
		out[c] = exactly(0)
	}
	for _, name := range slices.Sorted(maps.Keys(k.Weights)) {
		w := k.Weights[name]
		u := utilitySpans(name, remaining, in, nLo, nHi)
		for _, c := range remaining {
			lo, hi := w*u[c].lo, w*u[c].hi
			if w < 0 {
				lo, hi = hi, lo
			}
			out[c] = within(out[c].lo+lo, out[c].hi+hi)
		}
	}
	return out
}

// utilitySpans bounds one term of a weighted key (utilities): 0 when the
// candidate lacks the signal.
func utilitySpans(sig Signal, remaining []*contender, in map[*contender]tri, nLo, nHi int) map[*contender]span {
	info := signals[sig]
	out := map[*contender]span{}
	settled := true // every remaining candidate and value known: min-max scaling is exact
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range remaining {
		v := oriented(c, sig)
		if in[c] != surely || (v.canHave && !v.exact()) || (v.canHave && v.canLack) {
			settled = false
		}
		if v.canHave {
			lo, hi = math.Min(lo, v.lo), math.Max(hi, v.hi)
		}
	}
	for _, c := range remaining {
		v := oriented(c, sig)
		if !v.canHave {
			out[c] = exactly(0)
			continue
		}
		var u span
		switch {
		case sig == SignalVotes:
			// (votes-1)/(n-1), at most 1, and 0 when n is 1.
			u = within(0, 0)
			if nLo > 1 {
				u.lo = math.Min(1, (v.lo-1)/float64(nHi-1))
			}
			if nHi > 1 {
				u.hi = math.Min(1, (v.hi-1)/float64(max(nLo, 2)-1))
			}
		case info.logOdds:
			u = within(logOdds(v.lo), logOdds(v.hi))
		case info.unitScale && info.lowerIsBetter:
			u = within(1+v.lo, 1+v.hi)
		case info.unitScale:
			u = v
			u.canLack = false
		case settled:
			u = exactly(0)
			if hi-lo > eps {
				u = exactly((v.lo - lo) / (hi - lo))
			}
		default:
			u = within(0, 1)
		}
		if v.canLack {
			u.lo = math.Min(u.lo, 0)
			u.hi = math.Max(u.hi, 0)
		}
		u.canHave, u.canLack = true, false
		out[c] = u
	}
	return out
}

// beatsOnKeys reports whether l comes before c on the keys in every
// completion, before any tie rule (compareKeys: both absent is equal, a
// value beats an absent one, and values closer than eps are equal).
func beatsOnKeys(l, c []span) bool {
	for i := range l {
		llo, _ := l[i].keyRange()
		_, chi := c[i].keyRange()
		if !math.IsInf(chi, -1) && chi > llo+eps-settleSlack {
			return false // c may be better on this key
		}
		if !math.IsInf(llo, -1) && (math.IsInf(chi, -1) || llo > chi+eps+settleSlack) {
			return true // l is better on this key, whatever the rest
		}
		// Equal, or l better: the keys after this one decide the equal case.
	}
	return false
}

// surelyEqual reports whether two candidates' keys are equal in every
// completion: each value known and the same, or both surely absent.
func surelyEqual(l, c []span) bool {
	for i := range l {
		x, y := l[i], c[i]
		switch {
		case x.exact() && y.exact() && x.lo == y.lo:
		case !x.canHave && !y.canHave:
		default:
			return false
		}
	}
	return true
}

// twins reports whether two candidates that ran are alike in every
// completion: the same change (so every execution-free signal is the same
// function of which candidates stay in play and which clusters merge),
// the same verifier score and prior, and the same row.
func (s *settling) twins(l, c *contender) bool {
	if l.row == nil || c.row == nil || l.tier != c.tier {
		return false
	}
	x, y := s.a.views[l.view], s.a.views[c.view]
	if x.body != y.body || x.cluster != y.cluster || x.unparsed != y.unparsed || !slices.Equal(x.edits, y.edits) ||
		!maps.Equal(x.lines, y.lines) || !maps.Equal(x.files, y.files) || !maps.Equal(x.scopes, y.scopes) {
		return false
	}
	for _, sig := range []Signal{SignalVerifier, SignalPrior, SignalSize, SignalTouchesTests, SignalScratchFiles} {
		if l.sig[sig] != c.sig[sig] {
			return false
		}
	}
	return reflect.DeepEqual(*l.row, *c.row)
}

// tieWins reports whether l wins the tie rules (tieLess: the larger
// cluster, the smaller change, the smaller ID) against c in every
// completion; twins have the same cluster and size.
func (s *settling) tieWins(l, c *contender, twin bool) bool {
	if !twin {
		switch lv, cv := l.votes, c.votes; {
		case lv.lo > cv.hi:
			return true
		case !lv.exact() || !cv.exact() || lv.lo != cv.lo:
			return false
		}
	}
	if ls, cs := l.sig[SignalSize].lo, c.sig[SignalSize].lo; ls != cs {
		return ls < cs
	}
	return l.id < c.id
}
