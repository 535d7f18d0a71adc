package accuracy

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/bestpatch/bestpatch/scoring"
)

// Kinds of rows.
const (
	KindSelected  = "selected"  // the run's own choices
	KindBaseline  = "baseline"  // random pick, majority vote, best-system-on-dev
	KindPolicy    = "policy"    // a policy, re-ranked on the same evidence
	KindSignal    = "signal"    // one signal alone
	KindReference = "reference" // chosen with the labels it is scored on: not a method
	KindOracle    = "oracle"    // any correct candidate
)

// Method is one way of picking a candidate, scored pool by pool.
type Method struct {
	Name string
	Kind string
	// Note qualifies the row (e.g. which system a best-system row picks).
	Note  string
	Score func(p Pool) (Outcome, error)
}

// Names of the fixed rows.
const (
	MethodRandom   = "random pick"
	MethodMajority = "majority vote"
	MethodOracle   = "oracle"
)

// RandomPick picks uniformly among all candidates, excluded ones included.
func RandomPick() Method {
	return Method{Name: MethodRandom, Kind: KindBaseline, Score: func(p Pool) (Outcome, error) {
		return TieAware(candidateIDs(p), p.Correct), nil
	}}
}

// MajorityVote is the one definition of majority vote: every candidate
// votes for its change (scoring's normalized effective change, Signals.Key,
// so cosmetic twins share a vote; not the meaning clusters the votes
// signal counts: a baseline does not get bestpatch's clustering); a
// candidate scoring leaves out before any policy (empty, only tests, only
// scratch scripts, does not apply) has no change to share and counts as a
// patch of its own. The pick is uniform among the candidates of the most
// voted changes.
func MajorityVote() Method {
	return Method{Name: MethodMajority, Kind: KindBaseline, Note: "most frequent normalized change; an excluded candidate is a patch of its own",
		Score: func(p Pool) (Outcome, error) {
			return TieAware(majority(p), p.Correct), nil
		}}
}

func majority(p Pool) []string {
	key := map[string]string{}
	count := map[string]int{}
	top := 0
	for _, c := range p.Candidates {
		k := "\x00" + c.ID // out: a patch of its own
		if s, ok := p.Assessment.Signals(c.ID); ok && !out(s) {
			k = s.Key
		}
		key[c.ID] = k
		count[k]++
		top = max(top, count[k])
	}
	var picked []string
	for _, c := range p.Candidates {
		if count[key[c.ID]] == top {
			picked = append(picked, c.ID)
		}
	}
	return picked
}

// outFlags mark candidates scoring leaves out before any policy.
var outFlags = []string{scoring.FlagEmpty, scoring.FlagOnlyTests, scoring.FlagOnlyScratch, scoring.FlagApplyFailed}

func out(s scoring.Signals) bool {
	for _, f := range outFlags {
		if slices.Contains(s.Flags, f) {
			return true
		}
	}
	return false
}

// Oracle scores 1 on every pool with a correct candidate.
func Oracle() Method {
	return Method{Name: MethodOracle, Kind: KindOracle, Note: "any correct candidate in the pool", Score: func(p Pool) (Outcome, error) {
		if p.right() > 0 {
			return Outcome{Accuracy: 1}, nil
		}
		return Outcome{}, nil
	}}
}

// Policy ranks each pool under a policy.
func Policy(pol scoring.Policy) Method {
	return Method{Name: "policy " + pol.Name, Kind: KindPolicy, Score: func(p Pool) (Outcome, error) {
		v, err := p.Assessment.Select(pol)
		if err != nil {
			return Outcome{}, fmt.Errorf("policy %s: %w", pol.Name, err)
		}
		return VerdictOutcome(v, p.Correct), nil
	}}
}

// SignalAlone ranks each pool by one signal (its own direction), as a
// one-key policy.
func SignalAlone(s scoring.Signal) Method {
	pol := scoring.Policy{Name: string(s), Keys: []scoring.Key{{Signal: s}}}
	m := Policy(pol)
	m.Name, m.Kind = "signal "+string(s), KindSignal
	return m
}

// Selected scores the verdicts the run produced (Pool.Selected).
func Selected(name string) Method {
	return Method{Name: name, Kind: KindSelected, Score: func(p Pool) (Outcome, error) {
		if p.Selected == nil {
			return Outcome{}, nil
		}
		return VerdictOutcome(*p.Selected, p.Correct), nil
	}}
}

// BestSystems are the systems (candidate models) that resolve the most
// pools of ref: a system without a candidate in a pool does not resolve
// it. Several tie for best when they resolve as many.
func BestSystems(ref []Pool) (names []string, resolved int) {
	count := map[string]int{}
	for _, p := range ref {
		seen := map[string]bool{}
		for _, c := range p.Candidates {
			if p.Correct[c.ID] && !seen[c.Model] {
				seen[c.Model] = true
				count[c.Model]++
			}
		}
	}
	for s, n := range count {
		switch {
		case n > resolved:
			names, resolved = []string{s}, n
		case n == resolved:
			names = append(names, s)
		}
	}
	sort.Strings(names)
	return names, resolved
}

// BestSystem picks, in every pool, the candidate of the system that was
// best on ref (BestSystems). When several systems tie on ref, each is
// equally likely to be the one a user would have picked, so the pool
// scores the mean over them; a system with several candidates in a pool
// picks uniformly among them, and one without a candidate scores 0 there.
// With ref the dev split, this is best-system-on-dev: a method any user
// can apply. With ref the pools scored, it is a reference chosen with the
// labels.
func BestSystem(name, kind string, ref []Pool) Method {
	systems, _ := BestSystems(ref)
	note := "no system resolves any task"
	if len(systems) > 0 {
		note = strings.Join(systems, " | ")
		if len(systems) > 1 {
			note = fmt.Sprintf("%d systems tie, mean over them: %s", len(systems), note)
		}
	}
	return Method{Name: name, Kind: kind, Note: note, Score: func(p Pool) (Outcome, error) {
		if len(systems) == 0 {
			return Outcome{}, nil
		}
		var sum float64
		var lo, hi = 1.0, 0.0
		for _, s := range systems {
			var ids []string
			for _, c := range p.Candidates {
				if c.Model == s {
					ids = append(ids, c.ID)
				}
			}
			o := TieAware(ids, p.Correct)
			sum += o.Accuracy
			lo, hi = min(lo, o.Accuracy), max(hi, o.Accuracy)
			if o.Mixed {
				lo = 0
			}
		}
		return Outcome{Accuracy: sum / float64(len(systems)), Mixed: hi > lo}, nil
	}}
}

// Names of the best-system rows.
const (
	MethodBestSystemOnDev = "best system on dev"
	MethodBestSystem      = "best single system"
)

// Options chooses a table's rows.
type Options struct {
	// Selected names the row of the run's own verdicts (Pool.Selected);
	// empty: no such row.
	Selected string
	// Policies are ranked on every pool; nil means every built-in policy.
	Policies []scoring.Policy
	// Dev, when set, are the labelled pools of the dev split: the
	// best-system-on-dev row picks the system that was best there.
	Dev []Pool
}

// Methods lists a table's rows, in order: the run's choices, random pick,
// majority vote, best-system-on-dev, every policy, every signal some
// candidate of the pools has, the best single system (chosen with the
// labels scored: a reference) and the oracle.
func Methods(pools []Pool, o Options) ([]Method, error) {
	var ms []Method
	if o.Selected != "" {
		ms = append(ms, Selected(o.Selected))
	}
	ms = append(ms, RandomPick(), MajorityVote())
	if o.Dev != nil {
		ms = append(ms, BestSystem(MethodBestSystemOnDev, KindBaseline, o.Dev))
	}
	policies := o.Policies
	if policies == nil {
		for _, name := range scoring.PolicyNames() {
			p, err := scoring.ParsePolicy(name)
			if err != nil {
				return nil, err
			}
			policies = append(policies, p)
		}
	}
	for _, p := range policies {
		ms = append(ms, Policy(p))
	}
	// Each ordering signal alone (the flags are filters, not orderings).
	for _, d := range scoring.SignalDefs() {
		if d.Flag == "" && anyHas(pools, d.Name) {
			ms = append(ms, SignalAlone(d.Name))
		}
	}
	ms = append(ms, BestSystem(MethodBestSystem, KindReference, pools), Oracle())
	return ms, nil
}

// anyHas reports whether some candidate in play in some pool has the
// signal.
func anyHas(pools []Pool, s scoring.Signal) bool {
	for _, p := range pools {
		for _, c := range p.Candidates {
			sig, ok := p.Assessment.Signals(c.ID)
			if !ok || out(sig) {
				continue
			}
			if _, ok := s.Value(sig); ok {
				return true
			}
		}
	}
	return false
}

func candidateIDs(p Pool) []string {
	ids := make([]string, len(p.Candidates))
	for i, c := range p.Candidates {
		ids[i] = c.ID
	}
	return ids
}
