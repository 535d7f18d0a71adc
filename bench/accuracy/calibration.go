package accuracy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/bestpatch/bestpatch/scoring"
)

// Sample is one labelled verdict, as confidence models are fitted on and
// judged by: its features (scoring.VerdictFeatures), its scope, and how
// right it was (the tie-aware accuracy of its pick, in [0, 1]). Samples can
// come from any source: the SWE-bench candidate sets, a labelled batch, a
// benchmark's dev tasks.
type Sample struct {
	Features map[string]float64 `json:"features"`
	Scope    string             `json:"scope"`
	Correct  float64            `json:"correct"`
}

// SampleOf turns a verdict and its labels into a sample; ok is false when
// the verdict chose nothing.
func SampleOf(v scoring.Verdict, correct map[string]bool) (Sample, bool) {
	f, scope := scoring.VerdictFeatures(v)
	if f == nil {
		return Sample{}, false
	}
	return Sample{Features: f, Scope: scope, Correct: VerdictOutcome(v, correct).Accuracy}, true
}

// ConfidenceL2 is the ridge penalty of FitConfidence (a unit Gaussian prior
// on each weight): it keeps weights finite when a feature separates the
// labels on a small fit set, and fades as samples accumulate.
const ConfidenceL2 = 1.0

// FitConfidence fits a logistic regression of Correct on the features of
// the samples of one scope (maximum likelihood with a ridge penalty of
// ConfidenceL2 on the weights, not on the intercept), by
// Newton's method. Soft labels (a tie's share of correct candidates) enter
// as they are.
func FitConfidence(samples []Sample, scope, source string) (scoring.ConfidenceModel, error) {
	var kept []Sample
	names := map[string]bool{}
	for _, s := range samples {
		if s.Scope != scope {
			continue
		}
		kept = append(kept, s)
		for name := range s.Features {
			names[name] = true
		}
	}
	if len(kept) == 0 {
		return scoring.ConfidenceModel{}, fmt.Errorf("fit confidence: no labelled verdict of scope %s", scope)
	}
	cols := make([]string, 0, len(names))
	for name := range names {
		cols = append(cols, name)
	}
	sort.Strings(cols)
	d := len(cols) + 1 // column 0 is the intercept
	x := make([][]float64, len(kept))
	for i, s := range kept {
		x[i] = make([]float64, d)
		x[i][0] = 1
		for j, name := range cols {
			x[i][j+1] = s.Features[name]
		}
	}
	w := make([]float64, d)
	lambda := ConfidenceL2
	for iter := 0; iter < 100; iter++ {
		grad := make([]float64, d)
		hess := make([][]float64, d)
		for j := range hess {
			hess[j] = make([]float64, d)
		}
		for i, row := range x {
			p := sigmoid(dot(w, row))
			for j := range d {
				grad[j] += (kept[i].Correct - p) * row[j]
				for k := range d {
					hess[j][k] += p * (1 - p) * row[j] * row[k]
				}
			}
		}
		for j := 1; j < d; j++ {
			grad[j] -= lambda * w[j]
			hess[j][j] += lambda
		}
		hess[0][0] += 1e-9 // a constant label still solves
		step, err := solve(hess, grad)
		if err != nil {
			return scoring.ConfidenceModel{}, fmt.Errorf("fit confidence: %w", err)
		}
		change := 0.0
		for j := range d {
			w[j] += step[j]
			change = math.Max(change, math.Abs(step[j]))
		}
		if change < 1e-10 {
			break
		}
	}
	m := scoring.ConfidenceModel{Scope: scope, Intercept: w[0], Weights: map[string]float64{}, Source: source}
	for j, name := range cols {
		m.Weights[name] = w[j+1]
	}
	return m, m.Validate()
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// solve solves a·x = b by Gaussian elimination with partial pivoting.
func solve(a [][]float64, b []float64) ([]float64, error) {
	n := len(b)
	m := make([][]float64, n)
	for i := range a {
		m[i] = append(append([]float64(nil), a[i]...), b[i])
	}
	for col := range n {
		piv := col
		for r := col + 1; r < n; r++ {
			if math.Abs(m[r][col]) > math.Abs(m[piv][col]) {
				piv = r
			}
		}
		if math.Abs(m[piv][col]) < 1e-12 {
			return nil, errors.New("singular system: a feature is constant or duplicates another")
		}
		m[col], m[piv] = m[piv], m[col]
		for r := range n {
			if r == col {
				continue
			}
			f := m[r][col] / m[col][col]
			for c := col; c <= n; c++ {
				m[r][c] -= f * m[col][c]
			}
		}
	}
	x := make([]float64, n)
	for i := range n {
		x[i] = m[i][n] / m[i][i]
	}
	return x, nil
}

// Reliability says how well confidences match outcomes on labelled
// verdicts: the Brier score (mean squared error of the confidence, lower is
// better; a constant guess of the mean accuracy scores mean·(1−mean)), the
// expected calibration error (the mean over equal-width bins of
// |mean confidence − accuracy|, weighted by the bin's share of verdicts)
// and the bins, for a reliability diagram.
type Reliability struct {
	Verdicts int     `json:"verdicts"`
	Brier    float64 `json:"brier"`
	ECE      float64 `json:"ece"`
	// MeanConfidence and Accuracy are over every verdict.
	MeanConfidence float64 `json:"mean_confidence"`
	Accuracy       float64 `json:"accuracy"`
	Bins           []Bin   `json:"bins"`
}

// Bin is one confidence interval [Lo, Hi) of a reliability diagram (the
// last one includes 1).
type Bin struct {
	Lo             float64 `json:"lo"`
	Hi             float64 `json:"hi"`
	Verdicts       int     `json:"verdicts"`
	MeanConfidence float64 `json:"mean_confidence"`
	Accuracy       float64 `json:"accuracy"`
}

// ReliabilityBins is the number of equal-width bins of Measure.
const ReliabilityBins = 10

// Measure computes the reliability of confidences against outcomes (each
// in [0, 1]).
func Measure(confidence, correct []float64) Reliability {
	r := Reliability{Verdicts: len(confidence)}
	if len(confidence) == 0 {
		return r
	}
	for k := range ReliabilityBins {
		r.Bins = append(r.Bins, Bin{Lo: float64(k) / ReliabilityBins, Hi: float64(k+1) / ReliabilityBins})
	}
	for i, p := range confidence {
		y := correct[i]
		r.Brier += (p - y) * (p - y)
		r.MeanConfidence += p
		r.Accuracy += y
		k := min(int(p*ReliabilityBins), ReliabilityBins-1)
		b := &r.Bins[k]
		b.Verdicts++
		b.MeanConfidence += p
		b.Accuracy += y
	}
	n := float64(len(confidence))
	r.Brier /= n
	r.MeanConfidence /= n
	r.Accuracy /= n
	for k := range r.Bins {
		b := &r.Bins[k]
		if b.Verdicts == 0 {
			continue
		}
		b.MeanConfidence /= float64(b.Verdicts)
		b.Accuracy /= float64(b.Verdicts)
		r.ECE += float64(b.Verdicts) / n * math.Abs(b.MeanConfidence-b.Accuracy)
	}
	return r
}

// MeasureSamples is the reliability of a model on labelled samples of its
// scope.
func MeasureSamples(m scoring.ConfidenceModel, samples []Sample) Reliability {
	var conf, correct []float64
	for _, s := range samples {
		if s.Scope != m.Scope {
			continue
		}
		conf = append(conf, m.Predict(s.Features))
		correct = append(correct, s.Correct)
	}
	return Measure(conf, correct)
}

// CalibrationRow is a confidence model's reliability on one data set and
// split, with or without priors on the candidates.
type CalibrationRow struct {
	Data   string `json:"data"`
	Split  string `json:"split"`
	Priors bool   `json:"priors"`
	Reliability
}

// Calibration is a confidence model fitted on the dev splits and its
// reliability on every split.
type Calibration struct {
	Model scoring.ConfidenceModel `json:"model"`
	Rows  []CalibrationRow        `json:"rows"`
}

// CalibrateSets fits the execution-free confidence model of policy auto on
// the dev splits of the data sets (every verdict twice: with candidates
// carrying priors fitted out of fold, and without priors, so that the
// model speaks for both kinds of job), and measures it on every split, per
// data set and over all of them. The test split informs nothing but the
// rows that report on it.
func CalibrateSets(ctx context.Context, sets []DataSet) (Calibration, error) {
	auto, err := scoring.ParsePolicy(scoring.PolicyAuto)
	if err != nil {
		return Calibration{}, err
	}
	type key struct {
		data, split string
		priors      bool
	}
	samples := map[key][]Sample{}
	var order []key
	var names []string
	for _, ds := range sets {
		names = append(names, ds.Name)
		for _, withPriors := range []bool{true, false} {
			bySplit, err := assessBySplit(ctx, ds.Instances, withPriors)
			if err != nil {
				return Calibration{}, err
			}
			for _, split := range []string{SplitDev, SplitTest} {
				k := key{ds.Name, split, withPriors}
				order = append(order, k)
				for _, p := range bySplit[split] {
					v, err := p.Assessment.Select(auto)
					if err != nil {
						return Calibration{}, fmt.Errorf("%s: %w", p.ID, err)
					}
					if s, ok := SampleOf(v, p.Correct); ok {
						samples[k] = append(samples[k], s)
					}
				}
			}
		}
	}
	var dev []Sample
	for _, k := range order {
		if k.split == SplitDev {
			dev = append(dev, samples[k]...)
		}
	}
	source := fmt.Sprintf("policy auto on the dev splits of %s, with priors fitted out of fold and without priors", strings.Join(names, ", "))
	m, err := FitConfidence(dev, scoring.ScopeExecutionFree, source)
	if err != nil {
		return Calibration{}, err
	}
	c := Calibration{Model: m}
	for _, k := range order {
		c.Rows = append(c.Rows, CalibrationRow{Data: k.data, Split: k.split, Priors: k.priors, Reliability: MeasureSamples(m, samples[k])})
	}
	if len(sets) > 1 {
		for _, split := range []string{SplitDev, SplitTest} {
			for _, withPriors := range []bool{true, false} {
				var all []Sample
				for _, ds := range sets {
					all = append(all, samples[key{ds.Name, split, withPriors}]...)
				}
				c.Rows = append(c.Rows, CalibrationRow{Data: "all", Split: split, Priors: withPriors, Reliability: MeasureSamples(m, all)})
			}
		}
	}
	return c, nil
}

// WriteCalibration prints each row's reliability, then the model.
func WriteCalibration(w io.Writer, c Calibration) error {
	fmt.Fprintf(w, "Confidence of policy auto: P(the chosen candidate is correct), fitted on %s\n", c.Model.Source)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "data\tsplit\tpriors\tverdicts\taccuracy\tmean confidence\tBrier\tECE")
	for _, r := range c.Rows {
		split := r.Split
		if split == SplitDev {
			split += " (fitted on)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%s\t%s\t%.4f\t%.4f\n", r.Data, split, r.Priors, r.Verdicts, Percent(r.Accuracy), Percent(r.MeanConfidence), r.Brier, r.ECE)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return WriteModel(w, c.Model)
}

// WriteModel prints a confidence model on one line: its scope, intercept
// and weights by name.
func WriteModel(w io.Writer, m scoring.ConfidenceModel) error {
	names := make([]string, 0, len(m.Weights))
	for n := range m.Weights {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "model (%s): intercept %.3f", m.Scope, m.Intercept)
	for _, n := range names {
		fmt.Fprintf(w, ", %s %.3f", n, m.Weights[n])
	}
	_, err := fmt.Fprintln(w)
	return err
}

// SelectedReliability is the reliability of the confidences of the pools'
// own verdicts (Pool.Selected) that carry one; nil when none does.
func SelectedReliability(pools []Pool) *Reliability {
	var conf, correct []float64
	for _, p := range pools {
		if p.Selected == nil || p.Selected.Confidence == nil {
			continue
		}
		conf = append(conf, *p.Selected.Confidence)
		correct = append(correct, VerdictOutcome(*p.Selected, p.Correct).Accuracy)
	}
	if len(conf) == 0 {
		return nil
	}
	r := Measure(conf, correct)
	return &r
}

// MinFitSamples is the fewest labelled verdicts of a scope that
// FitConfidenceModels fits a model on.
const MinFitSamples = 30

// FitConfidenceModels fits one model per scope the samples hold, for every
// scope with at least MinFitSamples of them; the scopes left out and why
// are in skipped.
func FitConfidenceModels(samples []Sample, source string) (ms scoring.ConfidenceModels, skipped []string, err error) {
	count := map[string]int{}
	for _, s := range samples {
		count[s.Scope]++
	}
	for _, scope := range []string{scoring.ScopeExecutionFree, scoring.ScopeTests} {
		switch n := count[scope]; {
		case n == 0:
			continue
		case n < MinFitSamples:
			skipped = append(skipped, fmt.Sprintf("%s: %d labelled verdicts, fewer than %d", scope, n, MinFitSamples))
			continue
		}
		m, err := FitConfidence(samples, scope, source)
		if err != nil {
			return nil, nil, err
		}
		ms = append(ms, m)
	}
	return ms, skipped, nil
}
