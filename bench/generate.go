package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/local"
	"github.com/bestpatch/bestpatch/selector"
)

// Output files of a generated set, relative to its directory.
const (
	TasksFile    = "tasks.jsonl"
	CatalogFile  = "catalog.jsonl"
	LabelsFile   = "labels.jsonl"
	PredsDir     = "preds"
	ReposDir     = "repos"
	manifestFile = "manifest.json"
	workDir      = "work"
)

// genVersion changes when the generator makes different tasks from the
// same configuration: a set made by another version is made again.
const genVersion = 3

// GenConfig configures Generate.
type GenConfig struct {
	// Out is the output directory.
	Out     string   `json:"-"`
	Modules []Module `json:"modules"`
	// Tasks is the number of tasks per module.
	Tasks int `json:"tasks"`
	// Candidates is the pool size of each task (one predictions file per
	// sample index).
	Candidates int    `json:"candidates"`
	Seed       uint64 `json:"seed"`
	// Workers bounds the test runs in flight (0: the number of cores).
	Workers int `json:"-"`
	// Images builds a Docker image per task with BuildScript go-task.
	Images      bool   `json:"-"`
	BuildScript string `json:"-"`
	// Force makes the set again even when Out holds one made from the same
	// configuration.
	Force bool         `json:"-"`
	Log   *slog.Logger `json:"-"`
}

// GenSummary says what Generate made.
type GenSummary struct {
	Tasks int
	// PerModule counts tasks by module; a module that ran out of bug sites
	// has fewer than asked.
	PerModule map[string]int
	// Reused is true when Out already held this set.
	Reused   bool
	Duration time.Duration
}

type manifest struct {
	Version int       `json:"version"`
	Config  GenConfig `json:"config"`
}

// Generate makes selection tasks with ground truth from real modules:
// for each module, Tasks bugs injected and hidden, pools of Candidates
// graded candidates, noisy generated tests. It writes the task file, one
// predictions file per sample index, the labels and the catalog to Out
// (see docs/BENCHMARKS.md). The result is a function of the configuration
// (the seed included) and the modules' test outcomes.
func Generate(ctx context.Context, cfg GenConfig) (GenSummary, error) {
	start := time.Now()
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Tasks <= 0 || cfg.Candidates <= 0 || len(cfg.Modules) == 0 {
		return GenSummary{}, fmt.Errorf("generate: need at least one module, one task per module and one candidate (got %d, %d, %d)", len(cfg.Modules), cfg.Tasks, cfg.Candidates)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if sum, ok := reuse(cfg); ok {
		if cfg.Images {
			cat, err := LoadCatalog(filepath.Join(cfg.Out, CatalogFile))
			if err != nil {
				return GenSummary{}, err
			}
			if err := buildImages(ctx, cfg, cat); err != nil {
				return GenSummary{}, err
			}
		}
		sum.Duration = time.Since(start)
		return sum, nil
	}
	if err := os.RemoveAll(cfg.Out); err != nil {
		return GenSummary{}, err
	}
	if err := os.MkdirAll(filepath.Join(cfg.Out, workDir), 0o755); err != nil {
		return GenSummary{}, err
	}
	local := local.New(local.Config{Logger: cfg.Log, TempDir: filepath.Join(cfg.Out, workDir)})
	defer local.Close()
	slots := semaphore.NewWeighted(int64(cfg.Workers))

	perModule := make([][]*made, len(cfg.Modules))
	g, gctx := errgroup.WithContext(ctx)
	for i, mod := range cfg.Modules {
		g.Go(func() error {
			tasks, err := generateModule(gctx, cfg, mod, &suite{exec: local, slots: slots, command: mod.TestCommand(), env: mod.Env, timeout: 3 * time.Minute, log: cfg.Log})
			perModule[i] = tasks
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return GenSummary{}, err
	}
	sum := GenSummary{PerModule: map[string]int{}}
	var all []*made
	for i, tasks := range perModule {
		sum.PerModule[cfg.Modules[i].Path+"@"+cfg.Modules[i].Version] = len(tasks)
		all = append(all, tasks...)
	}
	sum.Tasks = len(all)
	if err := writeSet(cfg, all); err != nil {
		return GenSummary{}, err
	}
	if err := os.RemoveAll(filepath.Join(cfg.Out, workDir)); err != nil {
		return GenSummary{}, err
	}
	// The set is complete: a failed image build below does not make it again.
	b, _ := json.MarshalIndent(manifest{Version: genVersion, Config: cfg}, "", "  ")
	if err := os.WriteFile(filepath.Join(cfg.Out, manifestFile), b, 0o644); err != nil {
		return GenSummary{}, err
	}
	if cfg.Images {
		cat := make([]CatalogTask, len(all))
		for i, m := range all {
			cat[i] = m.catalog
		}
		if err := buildImages(ctx, cfg, cat); err != nil {
			return GenSummary{}, err
		}
	}
	sum.Duration = time.Since(start)
	return sum, nil
}

// reuse reports whether Out already holds the set cfg describes.
func reuse(cfg GenConfig) (GenSummary, bool) {
	if cfg.Force {
		return GenSummary{}, false
	}
	b, err := os.ReadFile(filepath.Join(cfg.Out, manifestFile))
	if err != nil {
		return GenSummary{}, false
	}
	var m manifest
	if json.Unmarshal(b, &m) != nil || m.Version != genVersion || !reflect.DeepEqual(normalizeConfig(m.Config), normalizeConfig(cfg)) {
		return GenSummary{}, false
	}
	cat, err := LoadCatalog(filepath.Join(cfg.Out, CatalogFile))
	if err != nil {
		return GenSummary{}, false
	}
	sum := GenSummary{Tasks: len(cat), PerModule: map[string]int{}, Reused: true}
	for _, c := range cat {
		sum.PerModule[c.Module]++
	}
	return sum, true
}

// buildImages builds each task's image (skipped by the script when it is
// up to date).
func buildImages(ctx context.Context, cfg GenConfig, cat []CatalogTask) error {
	for _, c := range cat {
		if err := BuildImage(ctx, cfg.BuildScript, filepath.Join(cfg.Out, ReposDir, c.InstanceID), imageTag(c.InstanceID)); err != nil {
			return err
		}
	}
	return nil
}

// normalizeConfig makes a config comparable to one read back from JSON.
func normalizeConfig(c GenConfig) GenConfig {
	b, _ := json.Marshal(c)
	var out GenConfig
	_ = json.Unmarshal(b, &out)
	return out
}

// generateModule makes one module's tasks, in order.
func generateModule(ctx context.Context, cfg GenConfig, mod Module, s *suite) ([]*made, error) {
	log := cfg.Log.With("module", mod.Path)
	h := fnv.New64a()
	h.Write([]byte(mod.Path + "@" + mod.Version))
	rng := rand.New(rand.NewPCG(cfg.Seed, h.Sum64()))
	u, err := openUpstream(ctx, mod, filepath.Join(cfg.Out, workDir, mod.slug()), s)
	if err != nil {
		return nil, err
	}
	draw, err := u.bugDraw(rng)
	if err != nil {
		return nil, err
	}
	tm := &taskMaker{u: u, s: s, rng: rng, out: cfg.Out, n: cfg.Candidates, log: log, draw: draw, used: map[string]bool{}, tried: map[string]bool{}}
	var tasks []*made
	for i := range cfg.Tasks {
		id := fmt.Sprintf("%s-%d", mod.slug(), i+1)
		m, err := tm.make(ctx, id)
		if errors.Is(err, errNoBug) {
			log.Warn("module ran out of bug sites", "tasks", len(tasks), "err", err)
			break
		}
		if err != nil {
			return nil, fmt.Errorf("task %s: %w", id, err)
		}
		m.catalog.Split = splitOf(i)
		tasks = append(tasks, m)
	}
	return tasks, nil
}

// splitOf is the split of a module's task i (0-based): dev and test
// alternate, so every module is on both sides.
func splitOf(i int) string {
	if i%2 == 0 {
		return SplitDev
	}
	return SplitTest
}

// imageTag is the Docker image of a task.
func imageTag(id string) string { return "bestpatch/bench:" + id }

// sampleModel is the model name of sample index i: labels are keyed by it.
func sampleModel(i int) string { return fmt.Sprintf("sample-%02d", i) }

// writeSet writes the task file, the predictions files, the labels and the
// catalog.
func writeSet(cfg GenConfig, all []*made) error {
	var tasks, catalog, labels []any
	preds := make([][]any, cfg.Candidates)
	for _, m := range all {
		c := m.catalog
		mod := moduleOf(cfg.Modules, c.Module)
		t := selector.Task{
			Env: executor.Environment{
				Repo:  filepath.ToSlash(filepath.Join(ReposDir, c.InstanceID)),
				Image: imageTag(c.InstanceID),
				Env:   mod.Env,
			},
			TestCommand: mod.TestCommand(),
			Format:      executor.GoJSON,
			Timeout:     selector.Duration(5 * time.Minute),
			Problem:     m.problem,
		}
		for _, a := range m.tests {
			t.GeneratedTests = append(t.GeneratedTests, selector.GeneratedTest{ID: a.id, Patch: a.patch})
		}
		catalog = append(catalog, c)
		// One task per pool: the same repository, image and tests, its own
		// candidates.
		for _, p := range c.Pools {
			t.ID = p.InstanceID
			tasks = append(tasks, t)
			for i, name := range p.Samples {
				e, _ := c.Entry(name)
				preds[i] = append(preds[i], selector.Prediction{InstanceID: p.InstanceID, Model: sampleModel(i), Patch: e.Patch})
				labels = append(labels, Label{InstanceID: p.InstanceID, Model: sampleModel(i), Resolved: e.Resolved, Kind: e.Kind})
			}
		}
	}
	if err := writeJSONL(filepath.Join(cfg.Out, TasksFile), tasks); err != nil {
		return err
	}
	if err := writeJSONL(filepath.Join(cfg.Out, CatalogFile), catalog); err != nil {
		return err
	}
	if err := writeJSONL(filepath.Join(cfg.Out, LabelsFile), labels); err != nil {
		return err
	}
	for i, p := range preds {
		if err := writeJSONL(filepath.Join(cfg.Out, PredsDir, sampleModel(i)+".jsonl"), p); err != nil {
			return err
		}
	}
	return nil
}

func moduleOf(mods []Module, modver string) Module {
	i := slices.IndexFunc(mods, func(m Module) bool { return m.Path+"@"+m.Version == modver })
	if i < 0 {
		return Module{}
	}
	return mods[i]
}

func writeJSONL(path string, lines []any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// LoadCatalog reads a catalog file.
func LoadCatalog(path string) ([]CatalogTask, error) {
	return readJSONL[CatalogTask](path)
}

// LoadLabels reads a labels file.
func LoadLabels(path string) ([]Label, error) {
	return readJSONL[Label](path)
}

func readJSONL[T any](path string) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []T
	dec := json.NewDecoder(f)
	for line := 1; dec.More(); line++ {
		var v T
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s: record %d: %w", path, line, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// BuildImage builds a task's Docker image offline: script is
// testdata/images/build.sh, which layers the repository onto the go-base image (and
// skips the build when the tag already holds the same content).
func BuildImage(ctx context.Context, script, repo, tag string) error {
	if err := runBuildScript(ctx, script, "go-task", repo, tag); err != nil {
		return fmt.Errorf("build image %s from %s: %w", tag, repo, err)
	}
	return nil
}

// runBuildScript runs testdata/images/build.sh with args.
func runBuildScript(ctx context.Context, script string, args ...string) error {
	cmd := exec.CommandContext(ctx, script, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", script, strings.Join(args, " "), err, out)
	}
	return nil
}
