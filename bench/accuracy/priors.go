package accuracy

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/bestpatch/bestpatch/scoring"
)

// Folds is the number of folds dev is cut into to fit priors out of fold.
const Folds = 5

// Fold is the fold of an instance: the first 8 bytes of sha256("fold" +
// instance_id), modulo Folds. It is independent of Split, which reads the
// hash of the ID alone.
func Fold(instanceID string) int {
	sum := sha256.Sum256([]byte("fold" + instanceID))
	return int(binary.BigEndian.Uint64(sum[:8]) % Folds)
}

// Labelled returns every candidate of the instances with its label, its
// model (the system) and its repository, as priors are fitted on.
func Labelled(insts []Instance) []scoring.Labelled {
	var out []scoring.Labelled
	for _, inst := range insts {
		repo := scoring.RepoOf(inst.ID)
		for _, c := range inst.Candidates {
			out = append(out, scoring.Labelled{Model: c.System, Repo: repo, Correct: c.Resolved})
		}
	}
	return out
}

// FitPriors fits reliability priors on the instances of one split ("" for
// every instance), with the default strengths.
func FitPriors(insts []Instance, split string) *scoring.Priors {
	var kept []Instance
	for _, inst := range insts {
		if split == "" || Split(inst.ID) == split {
			kept = append(kept, inst)
		}
	}
	return scoring.FitPriors(Labelled(kept))
}

// PriorStrengths are the shrinkage strengths of fitted priors.
type PriorStrengths struct {
	Model, Repo float64
}

// devPriors holds the priors an evaluation gives each instance: a dev
// instance gets priors fitted on the other dev folds (out of fold, so its
// own label never informs its prior), a test instance priors fitted on
// the whole dev split. The test split never informs any prior.
type devPriors struct {
	all    *scoring.Priors
	byFold [Folds]*scoring.Priors
}

func newDevPriors(insts []Instance, st PriorStrengths) devPriors {
	var dev []Instance
	for _, inst := range insts {
		if Split(inst.ID) == SplitDev {
			dev = append(dev, inst)
		}
	}
	fit := func(keep func(Instance) bool) *scoring.Priors {
		var kept []Instance
		for _, inst := range dev {
			if keep(inst) {
				kept = append(kept, inst)
			}
		}
		p := scoring.FitPriors(Labelled(kept))
		p.ModelStrength, p.RepoStrength = st.Model, st.Repo
		return p
	}
	d := devPriors{all: fit(func(Instance) bool { return true })}
	for f := range Folds {
		d.byFold[f] = fit(func(inst Instance) bool { return Fold(inst.ID) != f })
	}
	return d
}

// of returns the priors for one instance.
func (d devPriors) of(instanceID string) *scoring.Priors {
	if Split(instanceID) == SplitDev {
		return d.byFold[Fold(instanceID)]
	}
	return d.all
}

// PriorSetting is one setting of the priors (strengths and the weight of
// their log-odds in the consensus key), measured on dev with priors fitted
// out of fold.
type PriorSetting struct {
	Strengths PriorStrengths     `json:"strengths"`
	Weight    float64            `json:"weight"`
	Dev       map[string]float64 `json:"dev"`
	Mean      float64            `json:"mean"`
}

// PriorGrid is what TunePriors tries.
var PriorGrid = struct {
	Model, Repo, Weight []float64
}{
	Model:  []float64{1, 4},
	Repo:   []float64{4, 8, 16, 32},
	Weight: []float64{0.3, 0.5, 0.75, 1, 1.5, 2},
}

// TunePriors measures every setting of PriorGrid on the dev splits only:
// each dev instance gets priors fitted on the other dev folds, and is
// ranked by the consensus key plus weight × the prior's log-odds. Best
// first (mean over the data sets, each counting the same; equal means: the
// smaller weight, then the smaller strengths); the test split is never
// read.
func TunePriors(ctx context.Context, sets []DataSet) ([]PriorSetting, error) {
	type devSet struct {
		name  string
		insts []Instance
	}
	var devs []devSet
	for _, ds := range sets {
		var dev []Instance
		for _, inst := range ds.Instances {
			if Split(inst.ID) == SplitDev {
				dev = append(dev, inst)
			}
		}
		devs = append(devs, devSet{ds.Name, dev})
	}
	var out []PriorSetting
	for _, ms := range PriorGrid.Model {
		for _, rs := range PriorGrid.Repo {
			st := PriorStrengths{Model: ms, Repo: rs}
			// One assessment per data set and strengths, ranked under every weight.
			pools := map[string][]Pool{}
			for _, d := range devs {
				dp := newDevPriors(d.insts, st)
				for _, inst := range d.insts {
					if err := ctx.Err(); err != nil {
						return nil, err
					}
					p, err := pool(inst, dp.of(inst.ID))
					if err != nil {
						return nil, err
					}
					pools[d.name] = append(pools[d.name], p)
				}
			}
			for _, w := range PriorGrid.Weight {
				key := scoring.ConsensusKey()
				key.Weights[scoring.SignalPrior] = w
				pol := scoring.Policy{Name: "prior", Keys: []scoring.Key{key}}
				s := PriorSetting{Strengths: st, Weight: w, Dev: map[string]float64{}}
				for _, d := range devs {
					acc, _, err := policyAccuracy(pools[d.name], pol)
					if err != nil {
						return nil, err
					}
					s.Dev[d.name] = acc
					s.Mean += acc / float64(len(devs))
				}
				out = append(out, s)
			}
		}
	}
	// Equal means: the smaller weight, then the smaller strengths (the
	// setting that departs least from consensus and from the overall rate).
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if d := a.Mean - b.Mean; d > 1e-12 || d < -1e-12 {
			return d > 0
		}
		if a.Weight != b.Weight {
			return a.Weight < b.Weight
		}
		if a.Strengths.Model != b.Strengths.Model {
			return a.Strengths.Model < b.Strengths.Model
		}
		return a.Strengths.Repo < b.Strengths.Repo
	})
	return out, nil
}

// WritePriorSettings prints measured prior settings, best first.
func WritePriorSettings(w io.Writer, ss []PriorSetting) error {
	if len(ss) == 0 {
		_, err := fmt.Fprintln(w, "no prior setting measured")
		return err
	}
	var names []string
	for n := range ss[0].Dev {
		names = append(names, n)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "model strength\trepo strength\tprior weight\tmean (dev, priors out of fold)")
	for _, n := range names {
		fmt.Fprintf(tw, "\t%s", n)
	}
	fmt.Fprintln(tw)
	for _, s := range ss {
		fmt.Fprintf(tw, "%g\t%g\t%g\t%s", s.Strengths.Model, s.Strengths.Repo, s.Weight, Percent(s.Mean))
		for _, n := range names {
			fmt.Fprintf(tw, "\t%s", Percent(s.Dev[n]))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}
