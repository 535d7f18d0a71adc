package batch

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/bestpatch/bestpatch/scoring"
)

// Kinds of summary rows.
const (
	KindSelected = "selected" // the batch's own choices
	KindBaseline = "baseline" // random pick, majority vote
	KindPolicy   = "policy"   // a built-in policy, re-ranked on the same evidence
	KindSignal   = "signal"   // one signal alone
	KindOracle   = "oracle"   // any candidate resolved
)

// Summary compares the batch's choices with the baselines on labelled
// instances, tie-aware: a method that ends in a tie scores the chance that
// a uniform pick among the tied candidates is resolved.
type Summary struct {
	// Policy is the batch's policy.
	Policy string `json:"policy"`
	// Instances counts the finished, labelled instances every accuracy is
	// over; Repos splits them by repository.
	Instances int         `json:"instances"`
	Repos     []RepoCount `json:"repos"`
	Rows      []Row       `json:"rows"`
	// Failed counts the instances left out because they failed or did not
	// finish; Unlabelled the finished ones without any label.
	Failed     int `json:"failed"`
	Unlabelled int `json:"unlabelled"`
	// UnlabelledCandidates counts candidates of counted instances that no
	// label matches: they count as not resolved.
	UnlabelledCandidates int      `json:"unlabelled_candidates"`
	Notes                []string `json:"notes,omitempty"`
}

// RepoCount is the number of counted instances of one repository.
type RepoCount struct {
	Repo      string `json:"repo"`
	Instances int    `json:"instances"`
}

// Row is one method's tie-aware accuracy, overall and per repository.
type Row struct {
	Method   string             `json:"method"`
	Kind     string             `json:"kind"`
	Accuracy float64            `json:"accuracy"`
	ByRepo   map[string]float64 `json:"by_repo"`
	// MixedTies counts the instances where the method ended in a tie
	// between resolved and unresolved candidates.
	MixedTies int `json:"mixed_ties"`
}

// method scores one instance: its tie-aware accuracy and whether it ended
// in a mixed tie.
type method struct {
	name, kind string
	score      func(s scored) (acc float64, mixed bool, err error)
}

// scored is one finished, labelled instance, assessed once.
type scored struct {
	in       Instance
	resolved map[string]bool
	a        *scoring.Assessment
}

// signalsAlone are the signals ranked alone in the summary: the flags are
// not orderings on their own, and votes alone is the majority vote.
var signalsAlone = []scoring.Signal{
	scoring.SignalFPPP, scoring.SignalRegressions, scoring.SignalGeneratedPassed,
	scoring.SignalSimilarity, scoring.SignalLocalization, scoring.SignalFunctionLocalization,
	scoring.SignalVerifier, scoring.SignalSize,
}

// Summarize scores the finished, labelled instances of a batch: the
// batch's choices, random pick, majority vote (normalized patches), every
// built-in policy and each signal alone (re-ranked on the same outcome
// matrix: nothing runs again), and the oracle.
func Summarize(res *Result, labels *Labels, policy string) (*Summary, error) {
	sum := &Summary{Policy: policy}
	var items []scored
	repos := map[string]int{}
	for _, in := range res.Instances {
		if in.Report == nil {
			sum.Failed++
			continue
		}
		if !labels.Has(in.ID) {
			sum.Unlabelled++
			continue
		}
		s := scored{in: in, resolved: map[string]bool{}}
		for _, c := range in.Candidates {
			r, known := labels.Resolved(in.ID, c)
			if !known {
				sum.UnlabelledCandidates++
			}
			s.resolved[c.ID] = r
		}
		a, err := scoring.Assess(scoring.Input{Candidates: in.Candidates, Matrix: &in.Report.Matrix})
		if err != nil {
			return nil, fmt.Errorf("summary: instance %s: %w", in.ID, err)
		}
		s.a = a
		items = append(items, s)
		repos[in.Repo]++
	}
	sum.Instances = len(items)
	for _, r := range sortedKeys(repos) {
		sum.Repos = append(sum.Repos, RepoCount{Repo: r, Instances: repos[r]})
	}
	if sum.UnlabelledCandidates > 0 {
		sum.Notes = append(sum.Notes, fmt.Sprintf("%d candidates have no label and count as not resolved", sum.UnlabelledCandidates))
	}
	methods, err := summaryMethods(items, policy)
	if err != nil {
		return nil, err
	}
	for _, m := range methods {
		row := Row{Method: m.name, Kind: m.kind, ByRepo: map[string]float64{}}
		for _, s := range items {
			acc, mixed, err := m.score(s)
			if err != nil {
				return nil, fmt.Errorf("summary: %s on %s: %w", m.name, s.in.ID, err)
			}
			row.Accuracy += acc
			row.ByRepo[s.in.Repo] += acc
			if mixed {
				row.MixedTies++
			}
		}
		if len(items) > 0 {
			row.Accuracy /= float64(len(items))
		}
		for r, n := range repos {
			row.ByRepo[r] /= float64(n)
		}
		sum.Rows = append(sum.Rows, row)
	}
	return sum, nil
}

func summaryMethods(items []scored, policy string) ([]method, error) {
	byPolicy := func(p scoring.Policy) func(s scored) (float64, bool, error) {
		return func(s scored) (float64, bool, error) {
			v, err := s.a.Select(p)
			if err != nil {
				return 0, false, err
			}
			return verdictScore(v, s.resolved)
		}
	}
	ms := []method{
		{name: "selected (policy " + policy + ")", kind: KindSelected, score: func(s scored) (float64, bool, error) {
			return verdictScore(s.in.Report.Verdict, s.resolved)
		}},
		{name: "random pick", kind: KindBaseline, score: func(s scored) (float64, bool, error) {
			right := 0
			for _, c := range s.in.Candidates {
				if s.resolved[c.ID] {
					right++
				}
			}
			return float64(right) / float64(len(s.in.Candidates)), false, nil
		}},
		{name: "majority vote", kind: KindBaseline, score: byPolicy(scoring.Policy{Name: "majority vote", Keys: []scoring.Key{{Signal: scoring.SignalVotes}}})},
	}
	for _, name := range scoring.PolicyNames() {
		p, err := scoring.ParsePolicy(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, method{name: "policy " + name, kind: KindPolicy, score: byPolicy(p)})
	}
	for _, sig := range signalsAlone {
		if !anyHas(items, sig) {
			continue
		}
		p := scoring.Policy{Name: string(sig), Keys: []scoring.Key{{Signal: sig}}}
		ms = append(ms, method{name: "signal " + string(sig), kind: KindSignal, score: byPolicy(p)})
	}
	ms = append(ms, method{name: "oracle", kind: KindOracle, score: func(s scored) (float64, bool, error) {
		for _, c := range s.in.Candidates {
			if s.resolved[c.ID] {
				return 1, false, nil
			}
		}
		return 0, false, nil
	}})
	return ms, nil
}

// anyHas reports whether some candidate of some instance carries a signal
// that may be absent (the execution signals and the verifier).
func anyHas(items []scored, sig scoring.Signal) bool {
	for _, s := range items {
		for _, c := range s.in.Candidates {
			sg, ok := s.a.Signals(c.ID)
			if !ok {
				continue
			}
			switch sig {
			case scoring.SignalFPPP:
				if sg.FPPP != nil {
					return true
				}
			case scoring.SignalRegressions:
				if sg.Regressions != nil {
					return true
				}
			case scoring.SignalGeneratedPassed:
				if sg.GeneratedPassed != nil {
					return true
				}
			case scoring.SignalVerifier:
				if sg.Verifier != nil {
					return true
				}
			default:
				return true
			}
		}
	}
	return false
}

func verdictScore(v scoring.Verdict, resolved map[string]bool) (float64, bool, error) {
	acc := scoring.ExpectedAccuracy(v, func(id string) bool { return resolved[id] })
	return acc, acc > 0 && acc < 1, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// WriteText prints the summary as a table: one row per method, the
// accuracy overall and per repository.
func (s *Summary) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "Accuracy on %d labelled instances (tie-aware)", s.Instances)
	var left []string
	if s.Failed > 0 {
		left = append(left, fmt.Sprintf("%d failed or unfinished", s.Failed))
	}
	if s.Unlabelled > 0 {
		left = append(left, fmt.Sprintf("%d without labels", s.Unlabelled))
	}
	if len(left) > 0 {
		fmt.Fprintf(w, "; not counted: %s", strings.Join(left, ", "))
	}
	fmt.Fprintln(w, ":")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := []string{"method", "all"}
	for _, r := range s.Repos {
		header = append(header, fmt.Sprintf("%s (%d)", r.Repo, r.Instances))
	}
	header = append(header, "mixed ties")
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, row := range s.Rows {
		cells := []string{row.Method, percent(row.Accuracy)}
		for _, r := range s.Repos {
			cells = append(cells, percent(row.ByRepo[r.Repo]))
		}
		cells = append(cells, fmt.Sprint(row.MixedTies))
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range s.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	return nil
}

func percent(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

// Row returns the row of a method by name.
func (s *Summary) Row(method string) (Row, bool) {
	i := slices.IndexFunc(s.Rows, func(r Row) bool { return r.Method == method })
	if i < 0 {
		return Row{}, false
	}
	return s.Rows[i], true
}
