package accuracy

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"runtime"
	"text/tabwriter"

	"golang.org/x/sync/errgroup"

	"github.com/bestpatch/bestpatch/scoring"
)

// Trajectory is one pool replayed in sample order, as a streaming job sees
// it: Verdicts[k-1] is the verdict on the pool's first k candidates
// (Pool.Candidates is the sample order), calibrated.
type Trajectory struct {
	Pool     Pool
	Verdicts []scoring.Verdict
}

// Prefix is the input restricted to its first k candidates: the
// candidates, and the matrix rows of those candidates (the base and the
// artifacts are the job's, shared by every prefix). It is what a
// streaming job has scored after k samples: runs already done are never
// redone, and a candidate's row does not depend on the candidates after
// it.
func Prefix(in scoring.Input, k int) scoring.Input {
	out := in
	out.Candidates = in.Candidates[:k]
	if in.Matrix != nil {
		m := *in.Matrix
		m.Candidates = make(map[string]scoring.Row, k)
		for _, c := range out.Candidates {
			if r, ok := in.Matrix.Candidates[c.ID]; ok {
				m.Candidates[c.ID] = r
			}
		}
		out.Matrix = &m
	}
	return out
}

// Replay scores every prefix of a pool under a policy and calibrates each
// verdict with the models.
func Replay(p Pool, pol scoring.Policy, models scoring.ConfidenceModels) (Trajectory, error) {
	t := Trajectory{Pool: p}
	for k := 1; k <= len(p.Candidates); k++ {
		v, err := scoring.Score(Prefix(p.Input, k), pol)
		if err != nil {
			return Trajectory{}, fmt.Errorf("pool %s, first %d candidates: %w", p.ID, k, err)
		}
		models.Calibrate(&v)
		t.Verdicts = append(t.Verdicts, v)
	}
	return t, nil
}

// ReplayAll replays every pool (on every core).
func ReplayAll(ctx context.Context, pools []Pool, pol scoring.Policy, models scoring.ConfidenceModels) ([]Trajectory, error) {
	out := make([]Trajectory, len(pools))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.NumCPU())
	for i, p := range pools {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			t, err := Replay(p, pol, models)
			out[i] = t
			return err
		})
	}
	return out, g.Wait()
}

// Shuffled returns the pool with its candidates in a random order, drawn
// from seed and the pool's ID (the same seed, the same order): another
// sampling order of the same candidates.
func Shuffled(p Pool, seed uint64) Pool {
	h := fnv.New64a()
	h.Write([]byte(p.ID))
	r := rand.New(rand.NewPCG(seed, h.Sum64()))
	q := p
	q.Candidates = append([]scoring.Candidate(nil), p.Candidates...)
	r.Shuffle(len(q.Candidates), func(i, j int) { q.Candidates[i], q.Candidates[j] = q.Candidates[j], q.Candidates[i] })
	q.Input.Candidates = q.Candidates
	return q
}

// Stop replays the rule on a trajectory: the number of samples drawn when
// it first says stop or abstain, and its standing verdict there. The
// budget is the pool's candidates (a rule with a smaller MaxSamples keeps
// it).
func (t Trajectory) Stop(r scoring.StopRule) (int, scoring.Standing) {
	n := len(t.Verdicts)
	if r.MaxSamples <= 0 || r.MaxSamples > n {
		r.MaxSamples = n
	}
	var prev *scoring.Verdict
	for k := 1; ; k++ {
		st := r.Recommend(t.Verdicts[k-1], prev, k)
		if st.Recommendation != scoring.RecommendContinue {
			return k, st
		}
		prev = &t.Verdicts[k-1]
	}
}

// StreamRow is the stop rule at one target confidence over replayed
// pools.
type StreamRow struct {
	Target float64 `json:"target_confidence"`
	// Samples is the mean number of samples drawn per pool; Saved the share
	// of all the pools' samples not drawn.
	Samples float64 `json:"samples"`
	Saved   float64 `json:"saved"`
	// Accuracy is the tie-aware accuracy of the choice where sampling
	// ended: the verdict's choice when the rule said stop, and, when it
	// said abstain, the choice it withheld (the all-N verdict), so that it
	// compares with always drawing all N.
	Accuracy float64 `json:"accuracy"`
	// Stopped counts the pools where the rule said stop before the last
	// candidate; Abstained those where it abstained at the end of the
	// budget, AbstainedNoCorrect those of them without a correct candidate
	// (where abstaining is the right answer).
	Stopped            int `json:"stopped_early"`
	Abstained          int `json:"abstained"`
	AbstainedNoCorrect int `json:"abstained_no_correct"`
}

// StreamCurve is the stop rule's cost and accuracy over target confidences,
// against always drawing all N.
type StreamCurve struct {
	Pools int `json:"pools"`
	// Orders is how many sampling orders each pool was replayed in (the
	// rows are means over them).
	Orders int `json:"orders"`
	// AllSamples and AllAccuracy are always drawing all N: the mean number
	// of candidates per pool, and the accuracy of the verdict on all of
	// them.
	AllSamples  float64     `json:"all_samples"`
	AllAccuracy float64     `json:"all_accuracy"`
	Rows        []StreamRow `json:"rows"`
}

// StreamTargets are the target confidences a curve is drawn at.
var StreamTargets = []float64{0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95}

// Curve replays the stop rule (with the pools' sizes as budgets) at each
// target over the trajectories, which may hold several orders of each
// pool (orders of them).
func Curve(trajs []Trajectory, orders int, targets []float64) StreamCurve {
	c := StreamCurve{Orders: max(orders, 1)}
	if len(trajs) == 0 {
		return c
	}
	c.Pools = len(trajs) / c.Orders
	var all float64
	for _, t := range trajs {
		all += float64(len(t.Verdicts))
		c.AllAccuracy += VerdictOutcome(t.Verdicts[len(t.Verdicts)-1], t.Pool.Correct).Accuracy
	}
	n := float64(len(trajs))
	c.AllSamples, c.AllAccuracy = all/n, c.AllAccuracy/n
	for _, target := range targets {
		row := StreamRow{Target: target}
		var drawn float64
		var stopped, abstained, abstainedNo int
		for _, t := range trajs {
			k, st := t.Stop(scoring.StopRule{Target: target})
			drawn += float64(k)
			row.Accuracy += VerdictOutcome(t.Verdicts[k-1], t.Pool.Correct).Accuracy
			if k < len(t.Verdicts) {
				stopped++
			}
			if st.Recommendation == scoring.RecommendAbstain {
				abstained++
				if t.Pool.right() == 0 {
					abstainedNo++
				}
			}
		}
		row.Samples, row.Accuracy = drawn/n, row.Accuracy/n
		row.Saved = 1 - drawn/all
		// Counts are per order, rounded: means over the orders.
		per := func(x int) int { return (x + c.Orders/2) / c.Orders }
		row.Stopped, row.Abstained, row.AbstainedNoCorrect = per(stopped), per(abstained), per(abstainedNo)
		c.Rows = append(c.Rows, row)
	}
	return c
}

// WriteCurve prints a curve: one line per target, and always drawing all N.
func WriteCurve(w io.Writer, title string, c StreamCurve) error {
	order := "in sample order"
	if c.Orders > 1 {
		order = fmt.Sprintf("mean over %d random sampling orders", c.Orders)
	}
	fmt.Fprintf(w, "%s: %d pools, %s\n", title, c.Pools, order)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tsamples\tsaved\taccuracy\tvs all N\tstopped early\tabstained (no correct)\t")
	fmt.Fprintf(tw, "all N\t%.2f\t-\t%s\t\t\t\t\n", c.AllSamples, Percent(c.AllAccuracy))
	for _, r := range c.Rows {
		fmt.Fprintf(tw, "%.0f%%\t%.2f\t%s\t%s\t%+.1f\t%d\t%d (%d)\t\n", 100*r.Target, r.Samples, Percent(r.Saved), Percent(r.Accuracy),
			100*(r.Accuracy-c.AllAccuracy), r.Stopped, r.Abstained, r.AbstainedNoCorrect)
	}
	return tw.Flush()
}

// SetCurve is the stop rule replayed on one split of a labelled data set.
type SetCurve struct {
	Data  string `json:"data"`
	Split string `json:"split"`
	// Shuffled is true for the curve over random sampling orders, false
	// for the data set's own order of each instance's candidates.
	Shuffled bool `json:"shuffled"`
	StreamCurve
}

// StreamOrders is how many random sampling orders StreamSets replays each
// instance in, besides the data set's own order.
const StreamOrders = 5

// StreamSets replays the stop rule on both splits of each data set, with
// policy auto, the built-in confidence models and candidates carrying
// priors fitted on dev (as Evaluate ranks them): in each instance's own
// order of candidates, and in StreamOrders random orders. The data sets'
// own order is not a sampling order (candidates are grouped by the system
// that made them), so the random orders are the sampling a streaming job
// sees; both are printed.
func StreamSets(ctx context.Context, sets []DataSet) ([]SetCurve, error) {
	auto, err := scoring.ParsePolicy(scoring.PolicyAuto)
	if err != nil {
		return nil, err
	}
	models := scoring.DefaultConfidence()
	var out []SetCurve
	for _, ds := range sets {
		bySplit, err := poolsBySplit(ctx, ds.Instances)
		if err != nil {
			return nil, err
		}
		for _, split := range []string{SplitDev, SplitTest} {
			pools := bySplit[split]
			trajs, err := ReplayAll(ctx, pools, auto, models)
			if err != nil {
				return nil, err
			}
			out = append(out, SetCurve{Data: ds.Name, Split: split, StreamCurve: Curve(trajs, 1, StreamTargets)})
			var shuffled []Pool
			for seed := range uint64(StreamOrders) {
				for _, p := range pools {
					shuffled = append(shuffled, Shuffled(p, seed+1))
				}
			}
			if trajs, err = ReplayAll(ctx, shuffled, auto, models); err != nil {
				return nil, err
			}
			out = append(out, SetCurve{Data: ds.Name, Split: split, Shuffled: true, StreamCurve: Curve(trajs, StreamOrders, StreamTargets)})
		}
	}
	return out, nil
}

// WriteSetCurves prints each data set's curves.
func WriteSetCurves(w io.Writer, cs []SetCurve) error {
	fmt.Fprintf(w, "Streaming: the stop rule (docs/SCORING.md, \"When to stop sampling\") replayed on each instance's candidates, policy auto; default target %.0f%%\n", 100*scoring.DefaultTargetConfidence)
	for _, c := range cs {
		order := "the data set's order"
		if c.Shuffled {
			order = "random orders"
		}
		if err := WriteCurve(w, fmt.Sprintf("%s — %s split, %s", c.Data, c.Split, order), c.StreamCurve); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}
