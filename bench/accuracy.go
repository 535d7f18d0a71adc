package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"golang.org/x/sync/errgroup"

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
	// policy and each single signal alone (SignalPolicies).
	Policies []scoring.Policy
	Log      *slog.Logger
}

// AccuracyRow is one method's tie-aware accuracy over the tasks.
type AccuracyRow struct {
	Method string `json:"method"`
	// Accuracy is the mean over tasks of the chance that the method's pick
	// (a uniform pick among its tied top candidates) is resolved.
	Accuracy float64 `json:"accuracy"`
	// MixedTies counts tasks where the method ended in a tie between
	// resolved and unresolved candidates.
	MixedTies int    `json:"mixed_ties"`
	Note      string `json:"note,omitempty"`
}

// KindRow summarizes one kind of candidate over the pools.
type KindRow struct {
	Kind     string `json:"kind"`
	Count    int    `json:"count"`
	Resolved int    `json:"resolved"`
}

// AccuracyResult is the accuracy of every method on a generated set.
type AccuracyResult struct {
	Tasks      int `json:"tasks"`
	Candidates int `json:"candidates"`
	// Contested counts tasks whose pool holds resolved and unresolved
	// candidates: the only ones where choosing matters.
	Contested int           `json:"contested"`
	Rows      []AccuracyRow `json:"rows"`
	Kinds     []KindRow     `json:"kinds"`
	// Runs counts the runs executed (cache hits included) and Duration the
	// wall time of the whole evaluation.
	Runs     int           `json:"runs"`
	Duration time.Duration `json:"duration"`
}

// SignalPolicies are one-key policies, one per signal that the generated
// tasks carry, to report each signal alone.
func SignalPolicies() []scoring.Policy {
	var ps []scoring.Policy
	for _, s := range []scoring.Signal{scoring.SignalRegressions, scoring.SignalFPPP, scoring.SignalGeneratedPassed, scoring.SignalVotes, scoring.SignalSimilarity} {
		ps = append(ps, scoring.Policy{Name: "signal " + string(s), Keys: []scoring.Key{{Signal: s}}})
	}
	return ps
}

// jobOutcome is one task's evidence, scored by every method.
type jobOutcome struct {
	id       string
	resolved map[string]bool // by candidate ID
	a        *scoring.Assessment
	ids      []string
}

// Accuracy runs every generated task through the selector (policy auto)
// and scores the resulting outcome matrix with every policy, next to random
// pick, majority vote and the oracle, tie-aware.
func Accuracy(ctx context.Context, cfg AccuracyConfig) (AccuracyResult, error) {
	start := time.Now()
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	policies := cfg.Policies
	if policies == nil {
		for _, name := range scoring.PolicyNames() {
			p, err := scoring.ParsePolicy(name)
			if err != nil {
				return AccuracyResult{}, err
			}
			policies = append(policies, p)
		}
		policies = append(policies, SignalPolicies()...)
	}
	tasks, byInstance, labels, err := loadSet(cfg.Dir)
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
	outs := make([]jobOutcome, len(tasks))
	g, gctx := errgroup.WithContext(ctx)
	// More jobs than slots keep the slots busy while a job waits for its base.
	g.SetLimit(max(2, 2*sel.Pool.Size()))
	var mu sync.Mutex
	done := 0
	for i, t := range tasks {
		if cfg.InImages {
			t.Env.Repo = ""
		} else {
			t.Env.Image = ""
		}
		g.Go(func() error {
			cands := byInstance[t.ID]
			rep, err := sel.Select(gctx, selector.Job{ID: t.ID, Task: t, Candidates: cands})
			if err != nil {
				return fmt.Errorf("task %s: %w", t.ID, err)
			}
			a, err := scoring.Assess(scoring.Input{Candidates: cands, Matrix: &rep.Matrix})
			if err != nil {
				return fmt.Errorf("task %s: %w", t.ID, err)
			}
			o := jobOutcome{id: t.ID, resolved: map[string]bool{}, a: a}
			for _, c := range cands {
				o.ids = append(o.ids, c.ID)
				o.resolved[c.ID] = labels[t.ID+"\x00"+c.Model].Resolved
			}
			outs[i] = o
			mu.Lock()
			done++
			cfg.Log.Info("task selected", "task", t.ID, "done", done, "of", len(tasks), "chosen", rep.Verdict.Chosen, "right", o.resolved[rep.Verdict.Chosen], "seconds", rep.Duration.Seconds())
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return AccuracyResult{}, err
	}
	res, err := score(outs, policies)
	if err != nil {
		return AccuracyResult{}, err
	}
	res.Kinds = kindRows(labels)
	res.Runs = int(runs.Load())
	res.Duration = time.Since(start)
	return res, nil
}

// loadSet reads a generated set: tasks, candidates by instance, labels by
// instance and model.
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

// score computes every row from the tasks' assessments.
func score(outs []jobOutcome, policies []scoring.Policy) (AccuracyResult, error) {
	res := AccuracyResult{Tasks: len(outs)}
	n := float64(len(outs))
	if n == 0 {
		return res, nil
	}
	var random, oracle, vote float64
	voteTies := 0
	for _, o := range outs {
		res.Candidates += len(o.ids)
		right := 0
		for _, id := range o.ids {
			if o.resolved[id] {
				right++
			}
		}
		if right > 0 {
			oracle++
		}
		if right > 0 && right < len(o.ids) {
			res.Contested++
		}
		random += float64(right) / float64(len(o.ids))
		acc, mixed := majorityVote(o)
		vote += acc
		if mixed {
			voteTies++
		}
	}
	res.Rows = append(res.Rows,
		AccuracyRow{Method: "random pick", Accuracy: random / n},
		AccuracyRow{Method: "majority vote", Accuracy: vote / n, MixedTies: voteTies, Note: "most frequent normalized non-empty patch"},
	)
	for _, p := range policies {
		sum, mixed := 0.0, 0
		for _, o := range outs {
			v, err := o.a.Select(p)
			if err != nil {
				return res, fmt.Errorf("policy %s on %s: %w", p.Name, o.id, err)
			}
			sum += scoring.ExpectedAccuracy(v, func(id string) bool { return o.resolved[id] })
			if mixedTie(v.Ties, o.resolved) {
				mixed++
			}
		}
		name := p.Name
		if !strings.HasPrefix(name, "signal ") {
			name = "policy " + name
		}
		res.Rows = append(res.Rows, AccuracyRow{Method: name, Accuracy: sum / n, MixedTies: mixed})
	}
	res.Rows = append(res.Rows, AccuracyRow{Method: "oracle", Accuracy: oracle / n, Note: "any resolved candidate in the pool"})
	return res, nil
}

// majorityVote is the tie-aware accuracy of picking among the candidates
// whose normalized patch is the most frequent, empty patches left out (as
// a voter would), and whether that tie mixes labels.
func majorityVote(o jobOutcome) (float64, bool) {
	count := map[string]int{}
	key := map[string]string{}
	for _, id := range o.ids {
		s, _ := o.a.Signals(id)
		if slices.Contains(s.Flags, scoring.FlagEmpty) || slices.Contains(s.Flags, scoring.FlagOnlyTests) {
			continue
		}
		key[id] = s.Key
		count[s.Key]++
	}
	if len(key) == 0 { // nothing but empty patches: any of them
		for _, id := range o.ids {
			key[id] = ""
			count[""]++
		}
	}
	top := 0
	for _, c := range count {
		top = max(top, c)
	}
	var picked []string
	for _, id := range o.ids {
		if k, ok := key[id]; ok && count[k] == top {
			picked = append(picked, id)
		}
	}
	right := 0
	for _, id := range picked {
		if o.resolved[id] {
			right++
		}
	}
	return float64(right) / float64(len(picked)), mixedTie(picked, o.resolved)
}

func mixedTie(ids []string, resolved map[string]bool) bool {
	right := 0
	for _, id := range ids {
		if resolved[id] {
			right++
		}
	}
	return right > 0 && right < len(ids)
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

// WriteAccuracy prints the accuracy table, then the pools' kinds.
func WriteAccuracy(w io.Writer, r AccuracyResult) error {
	fmt.Fprintf(w, "Selection accuracy: %d tasks, %d candidates (%d tasks contested: resolved and unresolved candidates); %d runs in %s\n",
		r.Tasks, r.Candidates, r.Contested, r.Runs, r.Duration.Round(time.Second))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "method\taccuracy\tmixed ties\tnote")
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "%s\t%5.1f%%\t%d\t%s\n", row.Method, 100*row.Accuracy, row.MixedTies, row.Note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "candidate kind\tin pools\tresolved")
	for _, k := range r.Kinds {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", k.Kind, k.Count, k.Resolved)
	}
	return tw.Flush()
}
