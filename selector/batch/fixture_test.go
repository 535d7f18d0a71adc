package batch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/bench/testsubject"
	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/local"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

// The benchmark of these tests: three real Go modules with a known bug and
// candidates of known correctness, and three instances that cannot run.
const (
	uuidID    = "google__uuid-1"
	xxhashID  = "cespare__xxhash-1"
	exampleID = "example__interval-1" // testdata/example
	missingID = "acme__missing-1"     // its repository does not exist
	noPredsID = "acme__nopreds-1"     // no predictions name it
	orphanID  = "acme__orphan-1"      // predictions without a task
)

// models names the producer of each predictions file: file k is agent-<k>.
var models = []string{"agent-a", "agent-b", "agent-c", "agent-d", "agent-e", "agent-f", "agent-g", "agent-h"}

// The candidates of the real instances, by predictions file.
var (
	uuidOrder   = []string{"fix", "twin", "fix-regress", "wrong", "noapply", "empty"}
	xxhashOrder = []string{"fix", "twin", "alt", "wrong", "fix-regress", "empty"}
	// exampleResolved: the example's fix (agent-a) and its cosmetic twin
	// (agent-b); agent-c breaks String, d-f fix one side only, g does not
	// apply, h is empty.
	exampleResolved = []bool{true, true, false, false, false, false, false, false}
)

// fixture is the benchmark on disk: a tasks file, eight predictions files
// and a labels file mixing both label forms.
type fixture struct {
	dir        string
	tasks      []selector.Task
	tasksFile  string
	preds      []string
	labelsFile string
	uuid, xx   *testsubject.Subject
	// examplePatches are the example's candidate patches, by file.
	examplePatches []string
}

var (
	fixtureOnce sync.Once
	shared      *fixture
	fixtureErr  error
	fixtureDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// benchmark builds the fixture once for the package's tests.
func benchmark(t *testing.T) *fixture {
	t.Helper()
	if testing.Short() {
		t.Skip("runs go test on real modules")
	}
	fixtureOnce.Do(func() {
		fixtureDir, fixtureErr = os.MkdirTemp("", "bestpatch-batch-test-")
		if fixtureErr == nil {
			shared, fixtureErr = buildFixture(fixtureDir)
		}
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return shared
}

func buildFixture(dir string) (*fixture, error) {
	ctx := context.Background()
	f := &fixture{dir: dir}
	var err error
	if f.uuid, err = testsubject.UUID(ctx, mkdir(dir, "uuid")); err != nil {
		return nil, err
	}
	if f.xx, err = testsubject.XXHash(ctx, mkdir(dir, "xxhash")); err != nil {
		return nil, err
	}
	exampleDir, err := filepath.Abs("../../testdata/example")
	if err != nil {
		return nil, err
	}
	example, err := selector.LoadTasks(filepath.Join(exampleDir, "task.json"))
	if err != nil {
		return nil, err
	}
	goTask := func(id string, s *testsubject.Subject, tests ...string) selector.Task {
		t := selector.Task{ID: id, Env: executor.Environment{Repo: s.Repo}, TestCommand: s.Command,
			Format: executor.GoJSON, Timeout: selector.Duration(5 * time.Minute)}
		for _, g := range tests {
			t.GeneratedTests = append(t.GeneratedTests, selector.GeneratedTest{ID: g, Patch: s.Tests[g]})
		}
		return t
	}
	missing := example[0]
	missing.ID, missing.Env.Repo = missingID, filepath.Join(dir, "no-such-repository")
	nopreds := example[0]
	nopreds.ID = noPredsID
	f.tasks = []selector.Task{
		goTask(uuidID, f.uuid, "repro", "passing", "broken"),
		goTask(xxhashID, f.xx, "repro", "passing"),
		example[0],
		missing,
		nopreds,
	}
	f.tasksFile = filepath.Join(dir, "tasks.jsonl")
	if err := writeJSONL(f.tasksFile, f.tasks); err != nil {
		return nil, err
	}

	byID := func(s *testsubject.Subject, id string) string {
		for _, c := range s.Candidates {
			if c.ID == id {
				return c.Patch
			}
		}
		panic("no candidate " + id)
	}
	for k, model := range models {
		exPreds, err := selector.LoadPredictions([]string{fmt.Sprintf("../../testdata/example/preds/run_%02d.jsonl", k)})
		if err != nil {
			return nil, err
		}
		f.examplePatches = append(f.examplePatches, exPreds[exampleID][0].Patch)
		var lines []map[string]any
		add := func(id, patch string) {
			lines = append(lines, map[string]any{"instance_id": id, "model_name_or_path": model, "model_patch": patch})
		}
		if k < len(uuidOrder) {
			add(uuidID, byID(f.uuid, uuidOrder[k]))
		}
		if k < len(xxhashOrder) {
			add(xxhashID, byID(f.xx, xxhashOrder[k]))
		}
		add(exampleID, exPreds[exampleID][0].Patch)
		if k < 2 {
			add(missingID, byID(f.uuid, "fix"))
		}
		if k == 2 {
			add(orphanID, byID(f.uuid, "fix"))
		}
		path := filepath.Join(dir, fmt.Sprintf("run_%02d.jsonl", k))
		if err := writeJSONL(path, lines); err != nil {
			return nil, err
		}
		f.preds = append(f.preds, path)
	}

	// Labels: the Go modules by model, the example by patch text (the
	// candidate-set form of ../shared/data), the missing instance by model.
	var labels []any
	for k, id := range uuidOrder {
		labels = append(labels, map[string]any{"instance_id": uuidID, "model_name_or_path": models[k], "resolved": f.uuid.Correct[id]})
	}
	for k, id := range xxhashOrder {
		labels = append(labels, map[string]any{"instance_id": xxhashID, "model_name_or_path": models[k], "resolved": f.xx.Correct[id]})
	}
	var cands []map[string]any
	for k, p := range f.examplePatches {
		cands = append(cands, map[string]any{"system": "system-" + models[k], "patch": p, "resolved": exampleResolved[k]})
	}
	labels = append(labels,
		map[string]any{"instance_id": exampleID, "candidates": cands},
		map[string]any{"instance_id": missingID, "model_name_or_path": "agent-a", "resolved": true})
	f.labelsFile = filepath.Join(dir, "labels.jsonl")
	if err := writeJSONL(f.labelsFile, labels); err != nil {
		return nil, err
	}
	return f, nil
}

func mkdir(parent, name string) string {
	d := filepath.Join(parent, name)
	os.MkdirAll(d, 0o755)
	return d
}

func writeJSONL[T any](path string, lines []T) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(out)
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			out.Close()
			return err
		}
	}
	return out.Close()
}

// load reads the fixture's files through the real input path.
func (f *fixture) load(t *testing.T) ([]selector.Task, map[string][]scoring.Candidate) {
	t.Helper()
	tasks, err := selector.LoadTasks(f.tasksFile)
	if err != nil {
		t.Fatal(err)
	}
	preds, err := selector.LoadPredictions(f.preds)
	if err != nil {
		t.Fatal(err)
	}
	return tasks, preds
}

// recordingExec wraps the real executor and records every run that reaches
// it, and the content keys of the runs it finished with a cacheable result.
type recordingExec struct {
	selector.Executor

	mu        sync.Mutex
	calls     []call // in call order
	completed map[string]bool
}

// call is one run that reached the executor.
type call struct {
	key, repo string
}

func newRecordingExec(t *testing.T) *recordingExec {
	l := local.New(local.Config{Logger: slog.New(slog.DiscardHandler), TempDir: t.TempDir()})
	t.Cleanup(func() { l.Close() })
	return &recordingExec{Executor: l, completed: map[string]bool{}}
}

func (r *recordingExec) Run(ctx context.Context, run executor.Run) (executor.Result, error) {
	key := selector.RunKey(run)
	r.mu.Lock()
	r.calls = append(r.calls, call{key: key, repo: run.Env.Repo})
	r.mu.Unlock()
	res, err := r.Executor.Run(ctx, run)
	if err == nil && selector.Cacheable(res) {
		r.mu.Lock()
		r.completed[key] = true
		r.mu.Unlock()
	}
	return res, err
}

func (r *recordingExec) snapshot() (calls []call, completed map[string]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	completed = map[string]bool{}
	for k := range r.completed {
		completed[k] = true
	}
	return append([]call(nil), r.calls...), completed
}
