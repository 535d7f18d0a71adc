package batch_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bestpatch/bestpatch/bench/testsubject"
	"github.com/bestpatch/bestpatch/internal/runcache"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/batch"
)

// newBatch wires a batch as the command does: one Selector with a shared
// pool and the result cache in cacheDir, its events counted by the runner.
func newBatch(t *testing.T, f *fixture, exec selector.Executor, cacheDir, journal string, parallel int, onEvent func(selector.Event)) *batch.Runner {
	t.Helper()
	cache, err := runcache.Open(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	tasks, preds := f.load(t)
	sel := &selector.Selector{Exec: exec, Pool: selector.NewPool(2), Cache: cache}
	r, err := batch.New(batch.Config{Tasks: tasks, Predictions: preds, Selector: sel, Parallel: parallel, Journal: journal})
	if err != nil {
		t.Fatal(err)
	}
	sel.OnEvent = func(e selector.Event) {
		r.Observe(e)
		if onEvent != nil {
			onEvent(e)
		}
	}
	return r
}

func byInstance(res *batch.Result) map[string]batch.Instance {
	m := map[string]batch.Instance{}
	for _, in := range res.Instances {
		m[in.ID] = in
	}
	return m
}

// TestBatchEndToEnd runs the whole benchmark and checks what a researcher
// gets: a valid SWE-bench predictions file holding a correct patch for every
// real instance, each broken instance reported on its own without stopping
// the others, and a summary whose numbers match a hand count.
func TestBatchEndToEnd(t *testing.T) {
	f := benchmark(t)
	out := filepath.Join(t.TempDir(), "selected.jsonl")
	r := newBatch(t, f, newRecordingExec(t), t.TempDir(), batch.JournalPath(out), 2, nil)
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("batch: %d instances, %d runs in %s", len(res.Instances), res.Runs, res.Duration)

	// Instances in task order, then the orphan predictions.
	var ids []string
	for _, in := range res.Instances {
		ids = append(ids, in.ID)
	}
	if want := []string{uuidID, xxhashID, exampleID, missingID, noPredsID, orphanID}; !slices.Equal(ids, want) {
		t.Fatalf("instances %v, want %v", ids, want)
	}
	got := byInstance(res)
	for id, want := range map[string]string{
		missingID: "no-such-repository",
		noPredsID: "no predictions",
		orphanID:  "no task",
	} {
		in := got[id]
		if in.Status != batch.Failed || !strings.Contains(in.Error, want) {
			t.Errorf("%s: %s %q, want failed mentioning %q", id, in.Status, in.Error, want)
		}
	}
	correct := map[string]func(batch.Instance) bool{
		uuidID:    func(in batch.Instance) bool { c, _ := in.Chosen(); return f.uuid.Correct[uuidOrder[c.Sample]] },
		xxhashID:  func(in batch.Instance) bool { c, _ := in.Chosen(); return f.xx.Correct[xxhashOrder[c.Sample]] },
		exampleID: func(in batch.Instance) bool { c, _ := in.Chosen(); return exampleResolved[c.Sample] },
	}
	for id, ok := range correct {
		if in := got[id]; in.Status != batch.Selected || !ok(in) {
			c, _ := in.Chosen()
			t.Errorf("%s: %s %s, chose %q: want a correct candidate selected", id, in.Status, in.Error, c.ID)
		}
	}
	if res.Count(batch.Failed) != 3 || res.Count(batch.Selected) != 3 {
		t.Errorf("%d failed, %d selected; want 3 and 3", res.Count(batch.Failed), res.Count(batch.Selected))
	}

	// The predictions file: one line per selected instance, exactly the
	// harness's three fields, each patch the chosen one, applying to its base.
	if err := selector.WritePredictions(out, res.Predictions("bestpatch-test")); err != nil {
		t.Fatal(err)
	}
	repos := map[string]string{uuidID: f.uuid.Repo, xxhashID: f.xx.Repo, exampleID: "../../testdata/example/repo"}
	lines := readLines(t, out)
	if len(lines) != 3 {
		t.Fatalf("%d predictions, want 3:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for _, line := range lines {
		var p map[string]any
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("not JSON: %v: %s", err, line)
		}
		if len(p) != 3 || p["model_name_or_path"] != "bestpatch-test" {
			t.Errorf("want exactly instance_id, model_name_or_path=bestpatch-test, model_patch: %s", line)
		}
		id, _ := p["instance_id"].(string)
		patch, _ := p["model_patch"].(string)
		chosen, ok := got[id].Chosen()
		if !ok || patch != chosen.Patch {
			t.Errorf("%s: the written patch is not the chosen candidate's", id)
		}
		if id != exampleID {
			// The example's repository is a plain directory; the modules are git checkouts.
			if err := gitApplyCheck(t.TempDir(), repos[id], patch); err != nil {
				t.Errorf("%s: the selected patch does not apply to the base: %v", id, err)
			}
		}
	}

	// The summary against a hand count. Per instance (uuid, xxhash, example):
	// selected: 1, 1, 1 (the fix or its twin, tied: both right);
	// random: 2/6, 3/6, 2/8; majority vote: 1 (fix+twin: 2 votes), 1 (same),
	// 0 (the one-sided fix of agent-d/e/f has 3 votes); oracle: 1, 1, 1.
	labels, err := batch.LoadLabels(batch.Runs{}, f.labelsFile)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := batch.Summarize(res, labels, "auto")
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	sum.WriteText(&text)
	t.Logf("summary:\n%s", text.String())
	if sum.Pools != 3 || sum.Failed != 3 || sum.UnlabelledCandidates != 0 {
		t.Errorf("instances %d failed %d unlabelled candidates %d; want 3, 3, 0", sum.Pools, sum.Failed, sum.UnlabelledCandidates)
	}
	for _, tc := range []struct {
		method string
		all    float64
		byRepo map[string]float64
	}{
		{"selected (policy auto)", 1, map[string]float64{"google__uuid": 1, "cespare__xxhash": 1, "example__interval": 1}},
		{"random pick", (2.0/6 + 3.0/6 + 2.0/8) / 3, map[string]float64{"google__uuid": 2.0 / 6, "cespare__xxhash": 0.5, "example__interval": 0.25}},
		{"majority vote", 2.0 / 3, map[string]float64{"google__uuid": 1, "cespare__xxhash": 1, "example__interval": 0}},
		{"oracle", 1, map[string]float64{"google__uuid": 1, "cespare__xxhash": 1, "example__interval": 1}},
		{"policy auto", 1, nil},
	} {
		row, ok := sum.Row(tc.method)
		if !ok {
			t.Errorf("summary lacks %q", tc.method)
			continue
		}
		if !near(row.Accuracy, tc.all) {
			t.Errorf("%s: accuracy %.4f, want %.4f", tc.method, row.Accuracy, tc.all)
		}
		for repo, want := range tc.byRepo {
			if !near(row.ByGroup[repo], want) {
				t.Errorf("%s on %s: %.4f, want %.4f", tc.method, repo, row.ByGroup[repo], want)
			}
		}
	}
	for _, want := range []string{"signal fppp", "signal regressions", "signal similarity"} {
		if _, ok := sum.Row(want); !ok {
			t.Errorf("summary lacks %q", want)
		}
	}
	if _, ok := sum.Row("signal verifier"); ok {
		t.Error("summary has a verifier row although no candidate carries a verifier score")
	}
}

// TestBatchResume interrupts a batch in the middle of an instance and runs
// it again: the finished instance is not selected again (journal), the
// interrupted instance's finished runs come from the result cache, and no
// run finished before is executed again but the repeated base runs
// (base/2...), which always execute (flaky detection). A third run does no
// work at all.
func TestBatchResume(t *testing.T) {
	f := benchmark(t)
	cacheDir, out := t.TempDir(), filepath.Join(t.TempDir(), "selected.jsonl")
	journal := batch.JournalPath(out)

	// First run, one instance at a time: interrupted when uuid is done and
	// two runs of xxhash (its base runs) have finished.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exec1 := newRecordingExec(t)
	var mu sync.Mutex
	xxRuns := 0
	r1 := newBatch(t, f, exec1, cacheDir, journal, 1, func(e selector.Event) {
		mu.Lock()
		defer mu.Unlock()
		if e.Kind == selector.EventRunFinished && strings.HasPrefix(e.Job, xxhashID+"-") {
			if xxRuns++; xxRuns == 2 {
				cancel()
			}
		}
	})
	res1, err := r1.Run(ctx)
	if !errors.Is(err, context.Canceled) || res1 == nil || !res1.Interrupted {
		t.Fatalf("interrupted batch: err %v, result %+v; want context.Canceled and the result so far", err, res1)
	}
	got1 := byInstance(res1)
	if got1[uuidID].Status != batch.Selected || got1[xxhashID].Status != batch.NotRun || got1[exampleID].Status != batch.NotRun {
		t.Fatalf("after the interruption: uuid %s, xxhash %s, example %s; want selected, not_run, not_run",
			got1[uuidID].Status, got1[xxhashID].Status, got1[exampleID].Status)
	}
	calls1, done1 := exec1.snapshot()
	t.Logf("first run: %d runs executed, %d finished before the interruption", len(calls1), len(done1))

	// Second run: resumes.
	exec2 := newRecordingExec(t)
	var uuidEvents, cached int
	var repeats []string // xxhash's repeated base runs that executed
	r2 := newBatch(t, f, exec2, cacheDir, journal, 2, func(e selector.Event) {
		mu.Lock()
		defer mu.Unlock()
		if strings.HasPrefix(e.Job, uuidID+"-") {
			uuidEvents++
		}
		if e.Kind == selector.EventRunFinished && e.Cached {
			cached++
		}
		if e.Kind == selector.EventRunFinished && !e.Cached && strings.HasPrefix(e.Job, xxhashID+"-") &&
			strings.HasPrefix(e.Run, "base/") && e.Run != "base/1" {
			repeats = append(repeats, e.Run)
		}
	})
	res2, err := r2.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got2 := byInstance(res2)
	if !got2[uuidID].Resumed || uuidEvents != 0 {
		t.Errorf("uuid was selected again (resumed %v, %d events): the journal should have kept it", got2[uuidID].Resumed, uuidEvents)
	}
	if got2[uuidID].Report.Verdict.Chosen != got1[uuidID].Report.Verdict.Chosen {
		t.Errorf("resumed uuid verdict %q differs from the first run's %q", got2[uuidID].Report.Verdict.Chosen, got1[uuidID].Report.Verdict.Chosen)
	}
	for _, id := range []string{uuidID, xxhashID, exampleID} {
		if got2[id].Status != batch.Selected {
			t.Errorf("%s: %s after resuming, want selected", id, got2[id].Status)
		}
	}
	calls2, _ := exec2.snapshot()
	var again []call
	for _, c := range calls2 {
		if done1[c.key] {
			again = append(again, c)
		}
	}
	// base/2 has base/1's key: the one run of a finished key that executes
	// again is the repeated base run, never served from the cache.
	if len(repeats) != 1 || len(again) != len(repeats) {
		t.Errorf("runs finished in the first batch executed again: %v; repeated base runs of xxhash executed: %v; want just base/2 (repeats always execute, everything else comes from the cache)", again, repeats)
	}
	if cached < 1 || res2.Cached != cached {
		t.Errorf("second run: %d cached runs (result says %d); want xxhash's finished base/1 at least", cached, res2.Cached)
	}
	t.Logf("second run: %d runs executed, %d from the cache", len(calls2), cached)

	// Third run: everything is finished; only the failed instance (its
	// repository is missing) is tried again.
	exec3 := newRecordingExec(t)
	res3, err := newBatch(t, f, exec3, cacheDir, journal, 2, nil).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	calls3, _ := exec3.snapshot()
	for _, c := range calls3 {
		if !strings.Contains(c.repo, "no-such-repository") {
			t.Errorf("a finished batch run again executed a run on %s", c.repo)
		}
	}
	if res3.Runs != 0 {
		t.Errorf("a finished batch run again finished %d runs; want none", res3.Runs)
	}
	for _, id := range []string{uuidID, xxhashID, exampleID} {
		if in := byInstance(res3)[id]; !in.Resumed || in.Status != batch.Selected {
			t.Errorf("%s: resumed %v, %s; want resumed and selected", id, in.Resumed, in.Status)
		}
	}
	// Failed instances are tried again each time, not journaled.
	if in := byInstance(res3)[missingID]; in.Resumed || in.Status != batch.Failed {
		t.Errorf("%s: resumed %v, %s; want failed again, not resumed", missingID, in.Resumed, in.Status)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func readLines(t *testing.T, path string) []string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var lines []string
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

func gitApplyCheck(scratch, repo, patch string) error {
	p := filepath.Join(scratch, "selected.diff")
	if err := os.WriteFile(p, []byte(patch), 0o644); err != nil {
		return err
	}
	_, err := testsubject.Git(repo, "apply", "--check", p)
	return err
}
