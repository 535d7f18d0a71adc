package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/bestpatch/bestpatch/generator"
	"github.com/bestpatch/bestpatch/internal/runcache"
	"github.com/bestpatch/bestpatch/selector"
)

// runtimeFlags are the flags every command that runs jobs shares: which
// executor, how many workers, where the result cache lives, and logging.
type runtimeFlags struct {
	executor    string
	dockerReuse bool
	workers     int
	cacheDir    string
	noCache     bool
	logLevel    string
	logFormat   string
	llm         generator.Config
}

func (r *runtimeFlags) register(f *pflag.FlagSet) {
	f.StringVar(&r.executor, "executor", "auto", "where runs happen: docker, local (runs patches on this host, unsandboxed), or auto (docker for tasks with an image, local for a repo)")
	f.BoolVar(&r.dockerReuse, "docker-reuse", false, "let a Docker container serve several runs one after another (no engine call per run once its container is made; weaker isolation: what a run writes outside the work tree and /tmp is seen by the next; trusted candidates only, docs/DOCKER.md)")
	f.IntVar(&r.workers, "workers", 0, "parallel runs (default: the number of cores)")
	f.StringVar(&r.cacheDir, "cache-dir", defaultCacheDir(), "result cache: finished runs are never run again")
	f.BoolVar(&r.noCache, "no-cache", false, "run everything again, ignoring and not writing the result cache")
	f.StringVar(&r.logLevel, "log-level", "warn", "log level: debug, info, warn, error")
	f.StringVar(&r.logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&r.llm.URL, "llm-url", "", "OpenAI-compatible endpoint for generated tests, judge and adversarial tests, e.g. http://localhost:8000/v1 (default: $"+generator.BaseURLEnv+", as the OpenAI clients read it; docs/GENERATOR.md)")
	f.StringVar(&r.llm.Model, "llm-model", "", "served model name, required with --llm-url or $"+generator.BaseURLEnv)
	f.StringVar(&r.llm.KeyEnv, "llm-key-env", generator.DefaultKeyEnv, "environment variable holding the API key (unset "+generator.DefaultKeyEnv+": no key is sent)")
	f.DurationVar(&r.llm.Timeout, "llm-timeout", 0, "bound on one model request (default 5m)")
	f.IntVar(&r.llm.Budget.Requests, "llm-budget-requests", 0, "model requests one job may send (0: no limit)")
	f.IntVar(&r.llm.Budget.Tokens, "llm-budget-tokens", 0, "model tokens one job may use (0: no limit)")
	f.IntVar(&r.llm.Concurrency, "llm-concurrency", 0, "model requests in flight across all jobs (default 4)")
	f.StringVar(&r.llm.CacheDir, "llm-cache-dir", "", "keep model responses on disk so that re-running a job costs nothing")
}

// registerModelWork adds the flags that ask the model endpoint for
// evidence; select and batch share them.
func registerModelWork(f *pflag.FlagSet, o *selector.Options) {
	f.IntVar(&o.GenerateTests, "generate-tests", 0, "ask the model endpoint (--llm-url) for K tests that reproduce the issue")
	f.BoolVar(&o.Judge, "judge", false, "ask the model endpoint (--llm-url) for P(YES) of each candidate without a verifier_score")
	f.IntVar(&o.AdversarialRounds, "adversarial-rounds", 0, "rounds of model-written tests (--llm-url) to break ties between top candidates")
}

// llmConfig is the model endpoint's configuration: the --llm-* flags, with
// $OPENAI_BASE_URL in place of --llm-url when the flag is not given, as the
// OpenAI clients read it (the key is $OPENAI_API_KEY's unless --llm-key-env
// names another variable). fromEnv says the URL came from the environment.
func (r *runtimeFlags) llmConfig() (cfg generator.Config, fromEnv bool) {
	cfg = r.llm
	if cfg.URL == "" {
		cfg.URL = os.Getenv(generator.BaseURLEnv)
		fromEnv = cfg.URL != ""
	}
	return cfg, fromEnv
}

// noModel says why there is no model endpoint, or "" when there is one
// (or a flag error that models reports). $OPENAI_BASE_URL without
// --llm-model is no endpoint: other tools set that variable, and a shell
// that has it must not make every select fail for want of a model name.
func (r *runtimeFlags) noModel() string {
	cfg, fromEnv := r.llmConfig()
	switch {
	case cfg.URL == "":
		return "give --llm-url URL (or set " + generator.BaseURLEnv + ") and --llm-model NAME (an OpenAI-compatible endpoint, docs/GENERATOR.md)"
	case fromEnv && cfg.Model == "":
		return generator.BaseURLEnv + " is set (" + cfg.URL + ") but --llm-model is not: give --llm-model NAME, the served model"
	}
	return ""
}

// checkModelWork refuses options that ask for model work when no endpoint
// is configured: the jobs would run without the evidence they asked for.
func (r *runtimeFlags) checkModelWork(o selector.Options) error {
	work := o.ModelWork()
	why := r.noModel()
	if len(work) == 0 || why == "" {
		return nil
	}
	flags := make([]string, len(work))
	for i, w := range work {
		flags[i] = "--" + strings.ReplaceAll(w, "_", "-")
	}
	list := strings.Join(flags, " and ")
	return fmt.Errorf("no model endpoint for %s: %s, or drop %s", list, why, list)
}

// models connects the model endpoint, or returns nil when none is
// configured (noModel says why).
func (r *runtimeFlags) models() (*generator.Endpoint, error) {
	cfg, _ := r.llmConfig()
	switch {
	case cfg.URL == "" && cfg.Model != "":
		return nil, fmt.Errorf("--llm-model %s without an endpoint: give --llm-url URL or set %s", cfg.Model, generator.BaseURLEnv)
	case r.noModel() != "":
		return nil, nil
	}
	return generator.NewEndpoint(cfg)
}

func defaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "bestpatch-cache")
	}
	return filepath.Join(dir, "bestpatch", "runs")
}

func (r *runtimeFlags) logger(w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(r.logLevel)); err != nil {
		level = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(r.logFormat, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// selector builds a Selector for jobs with these options on these tasks;
// close releases what it opened (snapshots, engine connections). Jobs that
// run nothing (execution-free) get no executor: they need no engine.
func (r *runtimeFlags) selector(ctx context.Context, log *slog.Logger, opts selector.Options, tasks ...selector.Task) (*selector.Selector, func(), error) {
	var exec selector.Executor
	closeFn := func() {}
	if opts.Execution != selector.ExecutionNone {
		var err error
		if exec, closeFn, err = r.newExecutor(ctx, log, r.remedy, tasks...); err != nil {
			return nil, nil, err
		}
	}
	models, err := r.models()
	if err != nil {
		closeFn()
		return nil, nil, err
	}
	sel := &selector.Selector{Exec: exec, Pool: selector.NewPool(r.workers), Log: log, Models: models}
	if !r.noCache {
		cache, err := runcache.Open(r.cacheDir)
		if err != nil {
			closeFn()
			return nil, nil, err
		}
		sel.Cache = cache
	}
	return sel, closeFn, nil
}

// remedy says how a user of select, batch or bench gets a backend that a
// run needs and the executor lacks.
func (r *runtimeFlags) remedy(b backend) string {
	return "use --executor " + b.name + " or auto " + b.note
}

// newExecutor returns the executor for jobs on these tasks: a Router over the
// backends (backends.go) that --executor allows, whose error for a run it
// cannot run says what to do by remedy (the flags differ between commands).
// With auto, a backend is opened when a task needs it; with no tasks (the
// daemon serves whatever comes), every one is, and one that cannot be
// opened (no Docker engine) is a warning, not an error.
func (r *runtimeFlags) newExecutor(ctx context.Context, log *slog.Logger, remedy func(backend) string, tasks ...selector.Task) (selector.Executor, func(), error) {
	all := backends()
	use := make([]bool, len(all))
	optional := false
	switch named := slices.IndexFunc(all, func(b backend) bool { return b.name == r.executor }); {
	case named >= 0:
		use[named] = true
	case r.executor == "auto" && len(tasks) == 0:
		for i := range use {
			use[i] = true
		}
		optional = true
	case r.executor == "auto":
		for _, t := range tasks {
			if i := slices.IndexFunc(all, func(b backend) bool { return b.handles(t.Env) }); i >= 0 {
				use[i] = true
			}
		}
	default:
		names := make([]string, len(all))
		for i, b := range all {
			names[i] = b.name
		}
		return nil, nil, fmt.Errorf("--executor %q is not known: use %s or auto", r.executor, strings.Join(names, ", "))
	}
	var router selector.Router
	var closers []func()
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	for i, b := range all {
		route := selector.Route{Name: b.name, Handles: b.handles, Remedy: remedy(b)}
		if use[i] {
			exec, closeFn, err := b.open(ctx, backendOptions{log: log, dockerReuse: r.dockerReuse})
			switch {
			case err == nil:
				route.Exec = exec
				closers = append(closers, closeFn)
			case optional:
				log.Warn("an executor backend cannot be opened: the tasks it runs are refused here", "executor", b.name, "err", err)
			default:
				closeAll()
				return nil, nil, err
			}
		}
		router.Routes = append(router.Routes, route)
	}
	return router, closeAll, nil
}

// noExecFlag registers --no-exec, which sets the jobs' execution option to
// "none": nothing runs, the choice rests on the execution-free signals;
// and --execution, which names the option (adaptive, all or none).
func noExecFlag(f *pflag.FlagSet, opts *selector.Options) {
	f.Var(noExecValue{opts}, "no-exec", "run nothing: choose by the execution-free signals alone (consensus, verifier scores); the verdict says it rests on no execution (--execution none)")
	f.Lookup("no-exec").NoOptDefVal = "true"
	f.Var(executionValue{opts}, "execution", "which candidates run: adaptive (stop running those whose runs cannot change the choice or the ties: docs/SCORING.md), all, or none (--no-exec)")
}

// noExecValue is the boolean flag --no-exec, stored as Options.Execution.
type noExecValue struct{ opts *selector.Options }

func (v noExecValue) String() string {
	if v.opts != nil && v.opts.Execution == selector.ExecutionNone {
		return "true"
	}
	return "false"
}

func (v noExecValue) Set(s string) error {
	on, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("--no-exec takes true or false: %w", err)
	}
	v.opts.Execution = ""
	if on {
		v.opts.Execution = selector.ExecutionNone
	}
	return nil
}

func (noExecValue) Type() string { return "bool" }

// executionValue is --execution, stored as Options.Execution.
type executionValue struct{ opts *selector.Options }

func (v executionValue) String() string {
	if v.opts == nil || v.opts.Execution == "" {
		return selector.ExecutionAdaptive
	}
	return v.opts.Execution
}

func (v executionValue) Set(s string) error {
	if !slices.Contains(selector.ExecutionModes, s) {
		return fmt.Errorf("--execution %q: want one of %s", s, strings.Join(selector.ExecutionModes, ", "))
	}
	v.opts.Execution = s
	return nil
}

func (executionValue) Type() string { return "mode" }
