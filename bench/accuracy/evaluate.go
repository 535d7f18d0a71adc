package accuracy

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/testfile"
	"github.com/bestpatch/bestpatch/scoring"
)

// SplitTable is one data set's table on one split, with each signal's AUC.
type SplitTable struct {
	Data  string `json:"data"`
	Split string `json:"split"`
	Table
	AUC []SignalAUC `json:"auc"`
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

// pythonTestFiles says which files are test files in the data sets, which
// carry no task: every SWE-bench repository is Python, so the pytest
// format's default test files (the executor's registry) stand for them.
var pythonTestFiles = func() testfile.Matcher {
	spec, err := executor.Pytest.Spec()
	if err != nil {
		panic(err) // a registered format
	}
	return spec.TestFileMatcher()
}()

// candidateID is a neutral ID: the position in the file, never the system.
func candidateID(i int) string { return fmt.Sprintf("c%03d", i) }

// pool assesses one instance. The candidate's Model is its system, which
// the best-system rows read, and priors (nil: none) turn into each
// candidate's reliability prior, which policies weigh.
func pool(inst Instance, priors *scoring.Priors) (Pool, error) {
	cands := make([]scoring.Candidate, len(inst.Candidates))
	correct := map[string]bool{}
	for i, c := range inst.Candidates {
		cands[i] = scoring.Candidate{ID: candidateID(i), Patch: c.Patch, Model: c.System}
		correct[cands[i].ID] = c.Resolved
	}
	repo := scoring.RepoOf(inst.ID)
	if priors != nil {
		cands = priors.Apply(cands, repo)
	}
	return NewPool(inst.ID, repo, scoring.Input{Candidates: cands, TestFiles: pythonTestFiles}, correct)
}

// Evaluate scores every instance once and returns, per split (dev, then
// test), the table of every method (Methods with the dev split as the
// best-system-on-dev reference) and each signal's AUC. Candidates carry
// reliability priors fitted on dev only: a test instance's on the whole dev
// split, a dev instance's on the other dev folds (out of fold).
func Evaluate(ctx context.Context, data string, insts []Instance, policies []scoring.Policy) ([]SplitTable, error) {
	bySplit, err := poolsBySplit(ctx, insts)
	if err != nil {
		return nil, err
	}
	var tables []SplitTable
	for _, split := range []string{SplitDev, SplitTest} {
		pools := bySplit[split]
		ms, err := Methods(pools, Options{Policies: policies, Dev: bySplit[SplitDev]})
		if err != nil {
			return nil, err
		}
		t, err := Compute(pools, ms)
		if err != nil {
			return nil, err
		}
		tables = append(tables, SplitTable{Data: data, Split: split, Table: t, AUC: signalAUCs(pools)})
	}
	return tables, nil
}

// poolsBySplit assesses every instance once, by split, with priors fitted
// on dev (newDevPriors, default strengths).
func poolsBySplit(ctx context.Context, insts []Instance) (map[string][]Pool, error) {
	return assessBySplit(ctx, insts, true)
}

// assessBySplit assesses every instance once, by split; with priors, the
// candidates carry priors fitted on dev (newDevPriors, default strengths).
func assessBySplit(ctx context.Context, insts []Instance, withPriors bool) (map[string][]Pool, error) {
	priors := newDevPriors(insts, PriorStrengths{Model: scoring.DefaultModelStrength, Repo: scoring.DefaultRepoStrength})
	bySplit := map[string][]Pool{}
	for _, inst := range insts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var pr *scoring.Priors
		if withPriors {
			pr = priors.of(inst.ID)
		}
		p, err := pool(inst, pr)
		if err != nil {
			return nil, err
		}
		s := Split(inst.ID)
		bySplit[s] = append(bySplit[s], p)
	}
	return bySplit, nil
}

// WriteSplitTable prints one split's table, then each signal's AUC.
func WriteSplitTable(w io.Writer, t SplitTable) error {
	fmt.Fprintf(w, "%s — %s split: %d instances (%d contested: candidates of both labels)\n", t.Data, t.Split, t.Pools, t.Contested)
	if err := t.WriteText(w, false); err != nil {
		return err
	}
	if len(t.AUC) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "signal\tAUC within instance\tAUC pooled\tinstances")
		for _, a := range t.AUC {
			fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%d\n", a.Signal, a.Within, a.Pooled, a.Instances)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}

// policyAccuracy is the mean tie-aware accuracy of a policy over pools, and
// the number of pools where it ended in a tie of mixed labels.
func policyAccuracy(pools []Pool, p scoring.Policy) (float64, int, error) {
	t, err := Compute(pools, []Method{Policy(p)})
	if err != nil {
		return 0, 0, err
	}
	return t.Rows[0].Accuracy, t.Rows[0].MixedTies, nil
}
