package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bestpatch/bestpatch/bench/accuracy"
	"github.com/bestpatch/bestpatch/executor/outcome"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

// AccuracyConfig configures Accuracy.
type AccuracyConfig struct {
	// Dir holds a generated set (see Generate).
	Dir  string
	Exec selector.Executor
	// InImages runs each task in its Docker image (made by gen --images);
	// otherwise on its repository checkout (the Local backend).
	InImages bool
	// Workers is the number of runs at once (0: the number of cores).
	Workers int
	// Cache, if set, serves runs already done.
	Cache selector.Cache
	// Policies are measured besides the baselines; nil means every built-in
	// policy (each signal alone is measured too: accuracy.Methods).
	Policies []scoring.Policy
	Log      *slog.Logger
}

// KindRow summarizes one kind of candidate over the pools.
type KindRow struct {
	Kind     string `json:"kind"`
	Count    int    `json:"count"`
	Resolved int    `json:"resolved"`
}

// TermRow is auto plus weight × one signal on the dev pools: how a new key
// earns its weight (accuracy.AutoWithTerm).
type TermRow struct {
	Signal   scoring.Signal `json:"signal"`
	Weight   float64        `json:"weight"`
	Accuracy float64        `json:"accuracy"`
}

// ConfidenceFit is the tests-scope confidence model fitted on the dev
// pools' verdicts, its reliability on both splits, and the minimum
// confidence chosen on dev for the abstaining row.
type ConfidenceFit struct {
	Models     scoring.ConfidenceModels `json:"models"`
	Skipped    []string                 `json:"skipped,omitempty"`
	Dev        accuracy.Reliability     `json:"dev"`
	Test       accuracy.Reliability     `json:"test"`
	MinConfide float64                  `json:"min_confidence"`
}

// AccuracyResult is the accuracy of every method on a generated set, per
// split: the test table is the result, the dev table is what the new keys'
// weights and the confidence were chosen on. Both are the one accuracy
// table (package accuracy), one pool per instance, grouped by the pool's
// profile.
type AccuracyResult struct {
	Test accuracy.Table `json:"test"`
	Dev  accuracy.Table `json:"dev"`
	// Terms is the dev sweep of each new key's weight.
	Terms      []TermRow      `json:"terms"`
	Confidence *ConfidenceFit `json:"confidence,omitempty"`
	// Stream is the stop rule of streaming jobs replayed in sample order.
	Stream *StreamResult `json:"stream,omitempty"`
	Kinds  []KindRow     `json:"kinds"`
	// Adaptive is what adaptive execution leaves out under each policy,
	// and the proof that it changes no choice (every task replayed).
	Adaptive []AdaptiveRow `json:"adaptive"`
	// Runs counts the runs executed (cache hits included) and Duration the
	// wall time of the whole evaluation.
	Runs     int           `json:"runs"`
	Duration time.Duration `json:"duration"`
}

// newKeys are the signals whose weight in auto's consensus key is chosen on
// the dev pools (SignalDef.AutoTerm), in name order.
func newKeys() []scoring.Signal {
	var out []scoring.Signal
	for _, d := range scoring.SignalDefs() {
		if d.AutoTerm {
			out = append(out, d.Name)
		}
	}
	slices.Sort(out)
	return out
}

// minConfidences are the minimum confidences tried on dev for the
// abstaining row.
var minConfidences = []float64{0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8}

// Accuracy runs every pool of a generated set through the selector (policy
// auto), splits the pools by their task's split, and scores both splits
// with every method: random pick, majority vote, every policy and signal,
// auto with each new key at the weight chosen on dev, auto without each
// kind of new evidence (ablations), auto abstaining below a minimum
// confidence (the tests-scope confidence model fitted on dev), the oracle.
func Accuracy(ctx context.Context, cfg AccuracyConfig) (AccuracyResult, error) {
	start := time.Now()
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	tasks, byInstance, labels, err := loadSet(cfg.Dir)
	if err != nil {
		return AccuracyResult{}, err
	}
	cat, err := LoadCatalog(filepath.Join(cfg.Dir, CatalogFile))
	if err != nil {
		return AccuracyResult{}, err
	}
	var runs atomic.Int64
	sel := &selector.Selector{Exec: cfg.Exec, Pool: selector.NewPool(cfg.Workers), Cache: cfg.Cache, Log: cfg.Log,
		OnEvent: func(e selector.Event) {
			if e.Kind == selector.EventRunFinished {
				runs.Add(1)
			}
		}}
	pools := make([]accuracy.Pool, len(tasks))
	splits := make([]string, len(tasks))
	g, gctx := errgroup.WithContext(ctx)
	// More jobs than slots keep the slots busy while a job waits for its base.
	g.SetLimit(max(2, 2*sel.Pool.Size()))
	var mu sync.Mutex
	done := 0
	var adaptive adaptiveTally
	for i, t := range tasks {
		c, draw, ok := PoolTask(cat, t.ID)
		if !ok {
			return AccuracyResult{}, fmt.Errorf("%s: pool %s is not in the catalog", cfg.Dir, t.ID)
		}
		splits[i] = c.Split
		if cfg.InImages {
			t.Env.Repo = ""
		} else {
			t.Env.Image = ""
		}
		g.Go(func() error {
			cands := byInstance[t.ID]
			// Every run: every policy and signal is ranked on this matrix.
			job := selector.Job{ID: t.ID, Task: t, Candidates: cands, Options: selector.Options{Execution: selector.ExecutionAll}}
			rep, err := sel.Select(gctx, job)
			if err != nil {
				return fmt.Errorf("task %s: %w", t.ID, err)
			}
			if err := adaptive.add(job, rep.Results, adaptiveWorkers(sel.Pool.Size())); err != nil {
				return fmt.Errorf("task %s: adaptive execution: %w", t.ID, err)
			}
			correct := map[string]bool{}
			for _, c := range cands {
				correct[c.ID] = labels[t.ID+"\x00"+c.Model].Resolved
			}
			m := rep.Evidence()
			p, err := accuracy.NewPool(t.ID, draw.Profile, scoring.Input{Candidates: cands, Matrix: m, TestFiles: t.TestFileMatcher()}, correct)
			if err != nil {
				return err
			}
			p.Selected = &rep.Verdict
			pools[i] = p
			mu.Lock()
			done++
			cfg.Log.Info("task selected", "task", t.ID, "done", done, "of", len(tasks), "chosen", rep.Verdict.Chosen, "right", correct[rep.Verdict.Chosen], "seconds", rep.Duration.Seconds())
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return AccuracyResult{}, err
	}
	var dev, test []accuracy.Pool
	for i, p := range pools {
		if splits[i] == SplitDev {
			dev = append(dev, p)
		} else {
			test = append(test, p)
		}
	}
	res := AccuracyResult{Kinds: kindRows(labels), Adaptive: adaptive.result()}
	// Each new key's weight, chosen on dev.
	chosen := map[scoring.Signal]float64{}
	for _, sig := range newKeys() {
		best := -1.0
		for _, w := range accuracy.TermWeights {
			t, err := accuracy.Compute(dev, []accuracy.Method{accuracy.AutoWithTerm(sig, w)})
			if err != nil {
				return AccuracyResult{}, err
			}
			a := t.Rows[0].Accuracy
			res.Terms = append(res.Terms, TermRow{Signal: sig, Weight: w, Accuracy: a})
			if a > best+1e-12 {
				best, chosen[sig] = a, w
			}
		}
	}
	// The confidence of tests verdicts, fitted on dev.
	fit, err := fitConfidence(dev, test, fmt.Sprintf("policy auto's verdicts on the %d dev pools of %s (bestpatch bench accuracy --fit-confidence)", len(dev), describeSet(cfg.Dir)))
	if err != nil {
		return AccuracyResult{}, err
	}
	res.Confidence = fit
	models := scoring.DefaultConfidence()
	if fit != nil {
		models = models.With(fit.Models)
	}
	if res.Stream, err = streamCurves(ctx, dev, test, models); err != nil {
		return AccuracyResult{}, err
	}
	methods := func(ps []accuracy.Pool) ([]accuracy.Method, error) {
		ms, err := accuracy.Methods(ps, accuracy.Options{Selected: "selected (policy auto)", Policies: cfg.Policies})
		if err != nil {
			return nil, err
		}
		var extra []accuracy.Method
		for _, sig := range newKeys() {
			m := accuracy.AutoWithTerm(sig, chosen[sig])
			m.Note = "weight chosen on dev"
			extra = append(extra, m)
		}
		extra = append(extra, ablations()...)
		if fit != nil && len(fit.Models) > 0 {
			extra = append(extra, minConfidence(fit.Models, fit.MinConfide))
		}
		// Before the references (best single system, oracle).
		return slices.Insert(ms, len(ms)-2, extra...), nil
	}
	for _, split := range []struct {
		pools []accuracy.Pool
		into  *accuracy.Table
	}{{dev, &res.Dev}, {test, &res.Test}} {
		ms, err := methods(split.pools)
		if err != nil {
			return AccuracyResult{}, err
		}
		if *split.into, err = accuracy.Compute(split.pools, ms); err != nil {
			return AccuracyResult{}, err
		}
	}
	res.Runs = int(runs.Load())
	res.Duration = time.Since(start)
	return res, nil
}

// fitConfidence fits the confidence models of the dev pools' verdicts
// (policy auto, as the selector chose), measures them on both splits, and
// chooses on dev the minimum confidence that maximizes the pools answered
// right plus the pools without a correct candidate abstained on. source
// says what the models were fitted on.
func fitConfidence(dev, test []accuracy.Pool, source string) (*ConfidenceFit, error) {
	samples := func(ps []accuracy.Pool) []accuracy.Sample {
		var out []accuracy.Sample
		for _, p := range ps {
			if s, ok := accuracy.SampleOf(*p.Selected, p.Correct); ok {
				out = append(out, s)
			}
		}
		return out
	}
	ms, skipped, err := accuracy.FitConfidenceModels(samples(dev), source)
	if err != nil {
		return nil, err
	}
	fit := &ConfidenceFit{Models: ms, Skipped: skipped}
	for _, m := range ms {
		if m.Scope == scoring.ScopeTests {
			fit.Dev = accuracy.MeasureSamples(m, samples(dev))
			fit.Test = accuracy.MeasureSamples(m, samples(test))
		}
	}
	if len(ms) == 0 {
		return fit, nil
	}
	best := -1.0
	for _, min := range minConfidences {
		t, err := accuracy.Compute(dev, []accuracy.Method{minConfidence(ms, min)})
		if err != nil {
			return nil, err
		}
		r := t.Rows[0]
		score := r.Accuracy*float64(len(dev)) + float64(r.AbstainedNoCorrect)
		if score > best+1e-9 {
			best, fit.MinConfide = score, min
		}
	}
	return fit, nil
}

// describeSet names a generated set by the configuration that made it (its
// manifest), so that a model fitted on it says how to make the set again.
func describeSet(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, manifestFile))
	var m manifest
	if err != nil || json.Unmarshal(b, &m) != nil {
		return "a bench set"
	}
	mods := make([]string, len(m.Config.Modules))
	for i, mod := range m.Config.Modules {
		mods[i] = mod.Path
		if mod.Version != "" {
			mods[i] += "@" + mod.Version
		}
	}
	return fmt.Sprintf("the bench set of bestpatch bench gen --tasks %d --candidates %d --seed %d (generator version %d; modules %s)",
		m.Config.Tasks, m.Config.Candidates, m.Config.Seed, m.Version, strings.Join(mods, ", "))
}

// minConfidence is the run's own verdict, calibrated with models, that
// abstains (asks for more samples) below min: --min-confidence.
func minConfidence(models scoring.ConfidenceModels, min float64) accuracy.Method {
	return accuracy.Method{Name: fmt.Sprintf("selected, min confidence %.0f%%", 100*min), Kind: accuracy.KindSelected,
		Note: "model and minimum chosen on dev",
		Score: func(p accuracy.Pool) (accuracy.Outcome, error) {
			if p.Selected == nil {
				return accuracy.Outcome{}, nil
			}
			v := *p.Selected
			models.Calibrate(&v)
			v.RequireConfidence(min)
			return accuracy.VerdictOutcome(v, p.Correct), nil
		}}
}

// ablations are auto without each kind of evidence this benchmark was made
// to exercise: the trees its runs left (clusters by effect), and the
// original cases that fail on base (reproduction evidence from the
// original suite).
func ablations() []accuracy.Method {
	auto, err := scoring.ParsePolicy(scoring.PolicyAuto)
	if err != nil {
		panic(err) // a built-in name
	}
	ablate := func(name string, strip func(*scoring.Matrix)) accuracy.Method {
		return accuracy.Method{Name: "auto without " + name, Kind: accuracy.KindPolicy, Note: "ablation", Score: func(p accuracy.Pool) (accuracy.Outcome, error) {
			in := p.Input
			if in.Matrix != nil {
				m := cloneMatrix(in.Matrix)
				strip(m)
				in.Matrix = m
			}
			v, err := scoring.Score(in, auto)
			if err != nil {
				return accuracy.Outcome{}, err
			}
			return accuracy.VerdictOutcome(v, p.Correct), nil
		}}
	}
	return []accuracy.Method{
		ablate("effect clusters", func(m *scoring.Matrix) {
			for id, r := range m.Candidates {
				r.Tree = ""
				m.Candidates[id] = r
			}
		}),
		ablate("failing original tests", func(m *scoring.Matrix) {
			for _, a := range m.Artifacts {
				if a.Generated {
					continue
				}
				for c, o := range m.Base.Cases[a.ID] {
					if o == outcome.Fail {
						delete(m.Base.Cases[a.ID], c)
					}
				}
			}
		}),
	}
}

// cloneMatrix copies what the ablations change: the rows and the base's
// cases.
func cloneMatrix(m *scoring.Matrix) *scoring.Matrix {
	c := *m
	c.Candidates = map[string]scoring.Row{}
	for id, r := range m.Candidates {
		c.Candidates[id] = r
	}
	c.Base.Cases = map[string]map[string]outcome.Outcome{}
	for a, cs := range m.Base.Cases {
		c.Base.Cases[a] = map[string]outcome.Outcome{}
		for id, o := range cs {
			c.Base.Cases[a][id] = o
		}
	}
	return &c
}

// loadSet reads a generated set: tasks (one per pool), candidates by
// instance, labels by instance and model.
func loadSet(dir string) ([]selector.Task, map[string][]scoring.Candidate, map[string]Label, error) {
	tasks, err := selector.LoadTasks(filepath.Join(dir, TasksFile))
	if err != nil {
		return nil, nil, nil, err
	}
	preds, err := filepath.Glob(filepath.Join(dir, PredsDir, "*.jsonl"))
	if err != nil || len(preds) == 0 {
		return nil, nil, nil, fmt.Errorf("no predictions files in %s: run bestpatch bench gen first", filepath.Join(dir, PredsDir))
	}
	slices.Sort(preds)
	byInstance, err := selector.LoadPredictions(preds)
	if err != nil {
		return nil, nil, nil, err
	}
	ls, err := LoadLabels(filepath.Join(dir, LabelsFile))
	if err != nil {
		return nil, nil, nil, err
	}
	labels := map[string]Label{}
	for _, l := range ls {
		labels[l.InstanceID+"\x00"+l.Model] = l
	}
	for _, t := range tasks {
		for _, c := range byInstance[t.ID] {
			if _, ok := labels[t.ID+"\x00"+c.Model]; !ok {
				return nil, nil, nil, fmt.Errorf("%s: no label for %s of %s", filepath.Join(dir, LabelsFile), c.Model, t.ID)
			}
		}
	}
	return tasks, byInstance, labels, nil
}

func kindRows(labels map[string]Label) []KindRow {
	byKind := map[string]*KindRow{}
	for _, l := range labels {
		r := byKind[l.Kind]
		if r == nil {
			r = &KindRow{Kind: l.Kind}
			byKind[l.Kind] = r
		}
		r.Count++
		if l.Resolved {
			r.Resolved++
		}
	}
	var rows []KindRow
	for _, r := range byKind {
		rows = append(rows, *r)
	}
	slices.SortFunc(rows, func(a, b KindRow) int { return strings.Compare(a.Kind, b.Kind) })
	return rows
}

// WriteAccuracy prints the test split's accuracy table (by pool profile),
// the dev split's, the dev sweep of each new key, the confidence's
// reliability on both splits, then the pools' kinds.
func WriteAccuracy(w io.Writer, r AccuracyResult) error {
	for _, s := range []struct {
		name string
		t    accuracy.Table
	}{{"test", r.Test}, {"dev", r.Dev}} {
		fmt.Fprintf(w, "Selection accuracy, %s split: %d pools, %d candidates (%d contested, %d without a correct candidate); by pool profile\n",
			s.name, s.t.Pools, s.t.Candidates, s.t.Contested, s.t.NoCorrect)
		if err := s.t.WriteText(w, true); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "auto's key + weight × signal, dev split only\tweight\taccuracy")
	for _, t := range r.Terms {
		fmt.Fprintf(tw, "%s\t%g\t%s\n", t.Signal, t.Weight, accuracy.Percent(t.Accuracy))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if c := r.Confidence; c != nil {
		fmt.Fprintln(w)
		for _, s := range c.Skipped {
			fmt.Fprintf(w, "Confidence: not fitted for %s\n", s)
		}
		for _, m := range c.Models {
			if m.Scope != scoring.ScopeTests {
				continue
			}
			fmt.Fprintf(w, "Confidence of tests verdicts (fitted on dev; min confidence chosen on dev: %.0f%%)\n", 100*c.MinConfide)
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "split\tverdicts\taccuracy\tmean confidence\tBrier\tECE")
			for _, s := range []struct {
				name string
				r    accuracy.Reliability
			}{{"dev (fitted on)", c.Dev}, {"test", c.Test}} {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.4f\t%.4f\n", s.name, s.r.Verdicts, accuracy.Percent(s.r.Accuracy), accuracy.Percent(s.r.MeanConfidence), s.r.Brier, s.r.ECE)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintln(w, "reliability on test (bins of 0.1: verdicts, mean confidence, accuracy):")
			for _, b := range c.Test.Bins {
				if b.Verdicts > 0 {
					fmt.Fprintf(w, "  [%.1f, %.1f)  %3d  %s  %s\n", b.Lo, b.Hi, b.Verdicts, accuracy.Percent(b.MeanConfidence), accuracy.Percent(b.Accuracy))
				}
			}
			if err := accuracy.WriteModel(w, m); err != nil {
				return err
			}
		}
	}
	if r.Stream != nil {
		fmt.Fprintln(w)
		if err := writeStream(w, r.Stream); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	if len(r.Adaptive) > 0 {
		if err := WriteAdaptive(w, r.Adaptive); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "candidate kind\tin pools\tresolved")
	for _, k := range r.Kinds {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", k.Kind, k.Count, k.Resolved)
	}
	return tw.Flush()
}
