package evaluation

import (
	"context"
	"fmt"
	"sort"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/scoring"
)

// Table is the result of one data set on one split.
type Table struct {
	Data  string `json:"data"`
	Split string `json:"split"`
	// Instances counts the instances of the split; every accuracy is over all
	// of them (an instance with one candidate is scored like the others).
	Instances int `json:"instances"`
	// Contested counts the instances where picking matters: at least two
	// candidates, some resolved and some not.
	Contested int   `json:"contested"`
	Rows      []Row `json:"rows"`
	// AUC of each continuous signal against the labels.
	AUC []SignalAUC `json:"auc"`
}

// Row is one method's tie-aware accuracy.
type Row struct {
	Method string `json:"method"`
	// Accuracy is the mean over instances of the expected accuracy of a
	// random pick among the method's tied top candidates, in [0, 1].
	Accuracy float64 `json:"accuracy"`
	// Tied counts the instances where the method ended in a tie between
	// candidates that differ in label.
	Tied int `json:"tied"`
	// Note qualifies the row (e.g. the best system's name).
	Note string `json:"note,omitempty"`
}

// SignalAUC is one signal's discrimination power. Within is the mean of the
// per-instance AUCs over contested instances (what selection needs: ranking
// candidates of the same task); Pooled pools the candidates of every
// instance with at least two.
type SignalAUC struct {
	Signal    string  `json:"signal"`
	Within    float64 `json:"within"`
	Pooled    float64 `json:"pooled"`
	Instances int     `json:"instances"`
}

// assessed is one instance scored once, ranked by every policy.
type assessed struct {
	inst     Instance
	ids      []string
	resolved map[string]bool
	a        *scoring.Assessment
}

// pythonTestFiles says which files are test files in the data sets, which
// carry no task: every SWE-bench repository is Python, so the pytest
// format's default test files (the executor's registry) stand for them.
var pythonTestFiles = func() scoring.TestFiles {
	spec, err := executor.Pytest.Spec()
	if err != nil {
		panic(err) // a registered format
	}
	return spec.TestFileMatcher()
}()

// candidateID is a neutral ID: the position in the file, never the system.
func candidateID(i int) string { return fmt.Sprintf("c%03d", i) }

func assess(inst Instance) (assessed, error) {
	out := assessed{inst: inst, resolved: map[string]bool{}}
	cands := make([]scoring.Candidate, len(inst.Candidates))
	for i, c := range inst.Candidates {
		id := candidateID(i)
		out.ids = append(out.ids, id)
		out.resolved[id] = c.Resolved
		cands[i] = scoring.Candidate{ID: id, Patch: c.Patch}
	}
	a, err := scoring.Assess(scoring.Input{Candidates: cands, TestFiles: pythonTestFiles})
	if err != nil {
		return out, fmt.Errorf("instance %s: %w", inst.ID, err)
	}
	out.a = a
	return out, nil
}

// Evaluate scores every instance once and reports, per split (dev, then
// test), random pick, majority votes, each policy, the best single system and
// the oracle.
func Evaluate(ctx context.Context, data string, insts []Instance, policies []scoring.Policy) ([]Table, error) {
	bySplit, err := assessAll(ctx, insts)
	if err != nil {
		return nil, err
	}
	var tables []Table
	for _, split := range []string{SplitDev, SplitTest} {
		t, err := evaluateSplit(data, split, bySplit[split], policies)
		if err != nil {
			return nil, err
		}
		tables = append(tables, t)
	}
	return tables, nil
}

// assessAll computes every instance's signals once, by split.
func assessAll(ctx context.Context, insts []Instance) (map[string][]assessed, error) {
	bySplit := map[string][]assessed{}
	for _, inst := range insts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		as, err := assess(inst)
		if err != nil {
			return nil, err
		}
		s := Split(inst.ID)
		bySplit[s] = append(bySplit[s], as)
	}
	return bySplit, nil
}

// policyAccuracy is the mean tie-aware accuracy of a policy over items, and
// the number of instances where it ended in a tie of mixed labels.
func policyAccuracy(items []assessed, p scoring.Policy) (float64, int, error) {
	if len(items) == 0 {
		return 0, 0, nil
	}
	sum, tied := 0.0, 0
	for _, it := range items {
		v, err := it.a.Select(p)
		if err != nil {
			return 0, 0, fmt.Errorf("policy %s on %s: %w", p.Name, it.inst.ID, err)
		}
		sum += scoring.ExpectedAccuracy(v, func(id string) bool { return it.resolved[id] })
		if mixedTie(v, it.resolved) {
			tied++
		}
	}
	return sum / float64(len(items)), tied, nil
}

func evaluateSplit(data, split string, items []assessed, policies []scoring.Policy) (Table, error) {
	t := Table{Data: data, Split: split, Instances: len(items)}
	if len(items) == 0 {
		return t, nil
	}
	n := float64(len(items))
	var random, oracle, exactVote, normVote float64
	var exactTied, normTied int
	for _, it := range items {
		if contested(it) {
			t.Contested++
		}
		right := 0
		for _, id := range it.ids {
			if it.resolved[id] {
				right++
			}
		}
		random += float64(right) / float64(len(it.ids))
		if right > 0 {
			oracle++
		}
		acc, tied := majority(it, func(i int) string { return it.inst.Candidates[i].Patch })
		exactVote += acc
		exactTied += tied
		acc, tied = majority(it, func(i int) string {
			s, _ := it.a.Signals(it.ids[i])
			return s.Key
		})
		normVote += acc
		normTied += tied
	}
	t.Rows = append(t.Rows,
		Row{Method: "random pick", Accuracy: random / n},
		Row{Method: "majority vote (exact text)", Accuracy: exactVote / n, Tied: exactTied},
		Row{Method: "majority vote (normalized)", Accuracy: normVote / n, Tied: normTied},
	)
	for _, p := range policies {
		acc, tied, err := policyAccuracy(items, p)
		if err != nil {
			return t, err
		}
		t.Rows = append(t.Rows, Row{Method: "policy " + p.Name, Accuracy: acc, Tied: tied})
	}
	best, name := bestSystem(items)
	t.Rows = append(t.Rows,
		Row{Method: "best single system", Accuracy: best / n, Note: name},
		Row{Method: "oracle (any resolved)", Accuracy: oracle / n},
	)
	t.AUC = signalAUCs(items)
	return t, nil
}

func contested(it assessed) bool {
	right := 0
	for _, id := range it.ids {
		if it.resolved[id] {
			right++
		}
	}
	return right > 0 && right < len(it.ids)
}

// majority is the tie-aware accuracy of picking among the most frequent
// texts (every candidate carrying one of the tied texts is equally likely),
// and 1 in tied when that tie mixes labels.
func majority(it assessed, text func(i int) string) (float64, int) {
	count := map[string]int{}
	top := 0
	for i := range it.ids {
		count[text(i)]++
		top = max(top, count[text(i)])
	}
	picked, right := 0, 0
	for i, id := range it.ids {
		if count[text(i)] == top {
			picked++
			if it.resolved[id] {
				right++
			}
		}
	}
	tied := 0
	if right > 0 && right < picked {
		tied = 1
	}
	return float64(right) / float64(picked), tied
}

func mixedTie(v scoring.Verdict, resolved map[string]bool) bool {
	right := 0
	for _, id := range v.Ties {
		if resolved[id] {
			right++
		}
	}
	return right > 0 && right < len(v.Ties)
}

// bestSystem is the single producing system with the most resolved
// instances in the split (a system absent from an instance counts as not
// resolving it). It is chosen with the labels, so it is an upper reference,
// not a method.
func bestSystem(items []assessed) (float64, string) {
	resolved := map[string]int{}
	for _, it := range items {
		seen := map[string]bool{}
		for _, c := range it.inst.Candidates {
			if c.Resolved && !seen[c.System] {
				seen[c.System] = true
				resolved[c.System]++
			}
		}
	}
	names := make([]string, 0, len(resolved))
	for s := range resolved {
		names = append(names, s)
	}
	sort.Strings(names)
	best, name := 0, ""
	for _, s := range names {
		if resolved[s] > best {
			best, name = resolved[s], s
		}
	}
	return float64(best), name
}
