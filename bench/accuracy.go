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

	"github.com/bestpatch/bestpatch/accuracy"
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

// AccuracyResult is the accuracy of every method on a generated set: the
// one accuracy table (package accuracy), one pool per task.
type AccuracyResult struct {
	accuracy.Table
	Kinds []KindRow `json:"kinds"`
	// Runs counts the runs executed (cache hits included) and Duration the
	// wall time of the whole evaluation.
	Runs     int           `json:"runs"`
	Duration time.Duration `json:"duration"`
}

// Accuracy runs every generated task through the selector (policy auto)
// and scores the resulting outcome matrix with every policy, next to random
// pick, majority vote and the oracle, tie-aware.
func Accuracy(ctx context.Context, cfg AccuracyConfig) (AccuracyResult, error) {
	start := time.Now()
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
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
	pools := make([]accuracy.Pool, len(tasks))
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
			correct := map[string]bool{}
			for _, c := range cands {
				correct[c.ID] = labels[t.ID+"\x00"+c.Model].Resolved
			}
			p, err := accuracy.NewPool(t.ID, "", scoring.Input{Candidates: cands, Matrix: rep.Evidence(), TestFiles: t.TestFileMatcher()}, correct)
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
	ms, err := accuracy.Methods(pools, accuracy.Options{Selected: "selected (policy auto)", Policies: cfg.Policies})
	if err != nil {
		return AccuracyResult{}, err
	}
	table, err := accuracy.Compute(pools, ms)
	if err != nil {
		return AccuracyResult{}, err
	}
	res := AccuracyResult{Table: table, Kinds: kindRows(labels)}
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
		r.Pools, r.Candidates, r.Contested, r.Runs, r.Duration.Round(time.Second))
	if err := r.WriteText(w, false); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "candidate kind\tin pools\tresolved")
	for _, k := range r.Kinds {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", k.Kind, k.Count, k.Resolved)
	}
	return tw.Flush()
}
