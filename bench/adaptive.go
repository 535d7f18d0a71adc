package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

// AdaptiveRow is what adaptive execution saved under one policy over a
// set's tasks, replayed on the runs of every task (selector.Simulate: the
// candidates in the policy's order, Workers at a time, each taking the
// time it took), and the proof that it changed no choice: Unchanged
// counts the tasks whose verdict chose the same candidate with the same
// ties as with every run.
type AdaptiveRow struct {
	Policy  string `json:"policy"`
	Workers int    `json:"workers"`
	Tasks   int    `json:"tasks"`
	// Runs and Made count the runs (base runs included) with every run and
	// with adaptive execution; NotRun the distinct candidates not run,
	// Candidates the candidates in play among them.
	Runs       int `json:"runs"`
	Made       int `json:"made"`
	NotRun     int `json:"not_run"`
	Candidates int `json:"candidates_not_run"`
	// Time and Adaptive are the simulated wall times, summed over tasks.
	Time     time.Duration `json:"time"`
	Adaptive time.Duration `json:"adaptive_time"`
	// Unchanged counts the tasks whose choice and ties are those of every
	// run; Changed names the others (a broken guarantee).
	Unchanged int      `json:"unchanged"`
	Changed   []string `json:"changed,omitempty"`
}

// adaptiveWorkers are the parallelisms the tasks are replayed at: the
// selector's (the runs made do not depend on it, only the wall time).
func adaptiveWorkers(workers int) []int { return []int{max(workers, 1)} }

// adaptiveTally adds up the rows over tasks, from any goroutine.
type adaptiveTally struct {
	mu   sync.Mutex
	rows map[string]*AdaptiveRow // by policy and workers
}

// add replays one task's job, run with every run (results), under every
// built-in policy with adaptive execution and with every run.
func (t *adaptiveTally) add(job selector.Job, results map[string]executor.Result, workers []int) error {
	for _, policy := range scoring.PolicyNames() {
		for _, w := range workers {
			job.Options.Policy = policy
			job.Options.Execution = selector.ExecutionAll
			full, err := selector.Simulate(job, results, w)
			if err != nil {
				return err
			}
			job.Options.Execution = selector.ExecutionAdaptive
			ad, err := selector.Simulate(job, results, w)
			if err != nil {
				return err
			}
			same := ad.Verdict.Chosen == full.Verdict.Chosen &&
				slices.Equal(slices.Sorted(slices.Values(ad.Verdict.Ties)), slices.Sorted(slices.Values(full.Verdict.Ties)))
			t.mu.Lock()
			if t.rows == nil {
				t.rows = map[string]*AdaptiveRow{}
			}
			key := fmt.Sprint(policy, "\x00", w)
			r := t.rows[key]
			if r == nil {
				r = &AdaptiveRow{Policy: policy, Workers: w}
				t.rows[key] = r
			}
			r.Tasks++
			r.Runs += len(full.Runs)
			r.Made += len(ad.Runs)
			r.NotRun += ad.NotRun
			r.Candidates += len(ad.Verdict.Basis.NotRun)
			r.Time += full.Duration
			r.Adaptive += ad.Duration
			if same {
				r.Unchanged++
			} else {
				r.Changed = append(r.Changed, fmt.Sprintf("%s (chose %q, ties %v; every run: %q, ties %v)", job.Task.ID, ad.Verdict.Chosen, ad.Verdict.Ties, full.Verdict.Chosen, full.Verdict.Ties))
			}
			t.mu.Unlock()
		}
	}
	return nil
}

// result lists the rows by policy (built-in order), then workers.
func (t *adaptiveTally) result() []AdaptiveRow {
	var rows []AdaptiveRow
	for _, policy := range scoring.PolicyNames() {
		var mine []AdaptiveRow
		for _, r := range t.rows {
			if r.Policy == policy {
				mine = append(mine, *r)
			}
		}
		slices.SortFunc(mine, func(a, b AdaptiveRow) int { return a.Workers - b.Workers })
		rows = append(rows, mine...)
	}
	return rows
}

// AdaptiveErr is an error when adaptive execution changed some task's
// choice or ties: a broken guarantee.
func AdaptiveErr(rows []AdaptiveRow) error {
	var changed []string
	for _, r := range rows {
		for _, c := range r.Changed {
			changed = append(changed, fmt.Sprintf("policy %s, %d at a time: %s", r.Policy, r.Workers, c))
		}
	}
	if len(changed) > 0 {
		return fmt.Errorf("adaptive execution changed the choice (a broken guarantee: report it, and use --execution all meanwhile): %s", strings.Join(changed, "; "))
	}
	return nil
}

// WriteAdaptive prints the adaptive execution table.
func WriteAdaptive(w io.Writer, rows []AdaptiveRow) error {
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintln(w, "Adaptive execution: every task replayed on its runs under each policy, the candidates in the policy's order, in waves of two, N runs at a time, each taking the time it took")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "policy\tN\truns, every run\truns made\tdistinct candidates not run\tcandidates not run\twall time (simulated)\tchoice and ties unchanged")
	for _, r := range rows {
		share := "-"
		if r.Time > 0 {
			share = fmt.Sprintf("%.0f%%", 100*r.Adaptive.Seconds()/r.Time.Seconds())
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s of %s (%s)\t%d of %d tasks\n", r.Policy, r.Workers, r.Runs, r.Made, r.NotRun, r.Candidates,
			r.Adaptive.Round(time.Second), r.Time.Round(time.Second), share, r.Unchanged, r.Tasks)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rows {
		for _, c := range r.Changed {
			fmt.Fprintf(w, "CHANGED (policy %s, %d at a time): %s\n", r.Policy, r.Workers, c)
		}
	}
	return nil
}
