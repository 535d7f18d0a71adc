package generator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/sourcegraph/conc/iter"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/outcome"
)

// BaseRunner runs test patches on the base commit (no candidate applied)
// with the task's test command. The selector implements it.
type BaseRunner interface {
	RunBase(ctx context.Context, tests []executor.TestPatch) (executor.Result, error)
}

// TestWriter writes tests that reproduce an issue and keeps those that do:
// each must apply, compile and fail on the base commit.
type TestWriter struct {
	Model  Model
	Runner BaseRunner
	// Repairs bounds the repair requests per test (a compile error or a
	// syntax error fed back); default 2, negative for none.
	Repairs int
	// Temperature for sampling the K tests (default 0.8: they should differ).
	Temperature float64
	// MaxTokens bounds one answer (default 4096).
	MaxTokens int
	// IDPrefix names the tests PREFIX-1 ... PREFIX-K (default "gen").
	IDPrefix string
}

// TestRequest is what to write tests for.
type TestRequest struct {
	Problem string
	Context Context
	// Count is K, the number of tests asked for.
	Count int
}

// DropReason says why a generated test was not kept.
type DropReason string

// Why a generated test was dropped.
const (
	// DropMalformed: the answer held no usable test file.
	DropMalformed DropReason = "malformed"
	// DropRequestFailed: the model request failed (endpoint or budget).
	DropRequestFailed DropReason = "request_failed"
	// DropNotCompiling: it did not compile (or run) after every repair.
	DropNotCompiling DropReason = "does_not_compile"
	// DropPassesOnBase: every case passed on base: it reproduces nothing.
	DropPassesOnBase DropReason = "passes_on_base"
	// DropSkipped: its cases skipped themselves on base.
	DropSkipped DropReason = "skipped"
	// DropDidNotRun: the base run holds none of its cases and its unit is
	// not broken: the test command does not run it.
	DropDidNotRun DropReason = "did_not_run"
	// DropNotApplied: its patch did not apply.
	DropNotApplied DropReason = "did_not_apply"
	// DropTimedOut: the base run with it alone timed out.
	DropTimedOut DropReason = "timed_out"
	// DropBrokenOnBase: its package does not build on base even without it.
	DropBrokenOnBase DropReason = "unit_broken_on_base"
)

// Dropped is a generated test that was not kept, and why.
type Dropped struct {
	ID     string     `json:"id"`
	Path   string     `json:"path,omitempty"`
	Reason DropReason `json:"reason"`
	Detail string     `json:"detail"`
}

// TestReport is what TestWriter.Write produced.
type TestReport struct {
	// Kept are the tests that fail on base (they reproduce the issue).
	Kept    []Test    `json:"kept"`
	Dropped []Dropped `json:"dropped,omitempty"`
	// BaseRuns counts the base runs the validation used.
	BaseRuns int `json:"base_runs"`
	// Repairs counts repair requests.
	Repairs int `json:"repairs"`
}

func (w *TestWriter) author() author {
	a := author{model: w.Model, temperature: w.Temperature, maxTokens: w.MaxTokens}
	if a.temperature == 0 {
		a.temperature = 0.8
	}
	if a.maxTokens <= 0 {
		a.maxTokens = 4096
	}
	return a
}

func (w *TestWriter) repairs() int {
	switch {
	case w.Repairs < 0:
		return 0
	case w.Repairs == 0:
		return 2
	}
	return w.Repairs
}

// Write asks for req.Count tests and validates them on the base commit:
// all pending tests run together in one base run; when several of them land
// in a unit that did not build, each is rerun alone to find the culprit, and
// the base is run once without tests to tell a unit broken on base from a
// broken test. A test whose cases fail is kept; one that does not compile
// is repaired with its build output up to Repairs times; every other test is
// dropped with its reason.
//
// The report is valid even with an error: a refused request (the budget,
// errors.Is ErrBudgetExceeded) drops its test and is returned joined with
// any other request error after validation; a base run that fails (an
// infrastructure error) or a cancelled context stops the work.
func (w *TestWriter) Write(ctx context.Context, req TestRequest) (TestReport, error) {
	if req.Count <= 0 {
		return TestReport{}, nil
	}
	if w.Model == nil || w.Runner == nil {
		return TestReport{}, errors.New("generator: TestWriter needs a Model (a *Session) and a BaseRunner")
	}
	if err := req.Context.Language.check(); err != nil {
		return TestReport{}, err
	}
	prefix := w.IDPrefix
	if prefix == "" {
		prefix = "gen"
	}
	a := w.author()
	v := validation{w: w, a: a, c: req.Context}

	drafts := make([]*draft, req.Count)
	for i := range drafts {
		drafts[i] = &draft{id: fmt.Sprintf("%s-%d", prefix, i+1), seed: int64(i + 1), conv: testWriterPrompt(req.Problem, req.Context)}
	}
	errs := make([]error, len(drafts))
	iter.Iterator[*draft]{MaxGoroutines: len(drafts)}.ForEachIdx(drafts, func(i int, d **draft) {
		errs[i] = a.write(ctx, *d, req.Context)
	})
	pending := v.settle(ctx, drafts, errs)

	for len(pending) > 0 {
		if err := ctx.Err(); err != nil {
			return v.report, err
		}
		broken, err := v.round(ctx, pending)
		if err != nil {
			return v.report, err
		}
		pending = v.repairAll(ctx, broken)
	}
	slices.SortFunc(v.report.Kept, func(x, y Test) int { return strings.Compare(x.ID, y.ID) })
	slices.SortFunc(v.report.Dropped, func(x, y Dropped) int { return strings.Compare(x.ID, y.ID) })
	return v.report, errors.Join(v.askErrs...)
}

// validation is the state of one Write.
type validation struct {
	w      *TestWriter
	a      author
	c      Context
	report TestReport
	// plain is the base run without any generated test, made on demand.
	plain   *executor.Result
	mu      sync.Mutex
	askErrs []error
}

func (v *validation) drop(d *draft, reason DropReason, detail string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.report.Dropped = append(v.report.Dropped, Dropped{ID: d.id, Path: d.test.Path, Reason: reason, Detail: detail})
}

// brokenDraft is a draft whose test did not build, with its build output.
type brokenDraft struct {
	d      *draft
	why    string
	output string
}

// settle sorts freshly written drafts: runnable ones are pending for a base
// run; not-runnable ones are repaired at once (no run needed to see a syntax
// error); the rest are dropped.
func (v *validation) settle(ctx context.Context, drafts []*draft, errs []error) []*draft {
	var pending []*draft
	var fix []brokenDraft
	for i, d := range drafts {
		switch err := errs[i]; {
		case err == nil:
			pending = append(pending, d)
		case errors.Is(err, errAsk):
			v.drop(d, DropRequestFailed, err.Error())
			v.mu.Lock()
			v.askErrs = append(v.askErrs, fmt.Errorf("test %s: %w", d.id, err))
			v.mu.Unlock()
		case errors.Is(err, ErrMalformed):
			v.drop(d, DropMalformed, err.Error())
		case errors.Is(err, errNotRunnable):
			fix = append(fix, brokenDraft{d: d, why: strings.TrimPrefix(err.Error(), errNotRunnable.Error()+": ")})
		default:
			v.drop(d, DropMalformed, err.Error())
		}
	}
	return append(pending, v.repairAll(ctx, fix)...)
}

// repairAll asks for a repair of each broken draft that has repairs left,
// concurrently, and returns the drafts ready for a base run.
func (v *validation) repairAll(ctx context.Context, broken []brokenDraft) []*draft {
	var fix []brokenDraft
	for _, b := range broken {
		if b.d.repairs >= v.w.repairs() {
			v.drop(b.d, DropNotCompiling, fmt.Sprintf("%s (after %d repairs)\n%s", b.why, b.d.repairs, clip(b.output, 2000)))
			continue
		}
		fix = append(fix, b)
	}
	if len(fix) == 0 {
		return nil
	}
	v.report.Repairs += len(fix)
	errs := make([]error, len(fix))
	iter.Iterator[brokenDraft]{MaxGoroutines: len(fix)}.ForEachIdx(fix, func(i int, b *brokenDraft) {
		errs[i] = v.a.repair(ctx, b.d, v.c, b.why, b.output)
	})
	drafts := make([]*draft, len(fix))
	for i, b := range fix {
		drafts[i] = b.d
	}
	return v.settle(ctx, drafts, errs)
}

// round runs the pending tests on base together and classifies each. A
// test that may have been hurt by another is rerun: several tests in a
// unit that did not build (a Go package fails as a whole), or in a run that
// timed out, each alone; tests with no cases in a run where some unit broke
// (a pytest collection error stops the whole session) together without the
// suspects. It returns the tests that need a repair.
func (v *validation) round(ctx context.Context, pending []*draft) ([]brokenDraft, error) {
	res, err := v.runBase(ctx, pending)
	if err != nil {
		return nil, err
	}
	var broken []brokenDraft
	var suspects, collateral []*draft
	for _, d := range pending {
		c := classify(d.test, res)
		switch {
		case len(pending) > 1 && (c.kind == classBroken || c.kind == classTimedOut):
			suspects = append(suspects, d)
		case len(pending) > 1 && c.drop == DropDidNotRun && len(res.Broken) > 0:
			collateral = append(collateral, d)
		default:
			if b, ok := v.apply(ctx, d, c, res); ok {
				broken = append(broken, b)
			}
		}
	}
	var again [][]*draft
	if c := classify(firstOr(suspects), res); len(suspects) == 1 && c.kind == classBroken {
		// Alone in its broken unit: the culprit, or the unit is broken on base.
		if b, ok := v.apply(ctx, suspects[0], c, res); ok {
			broken = append(broken, b)
		}
	} else {
		for _, d := range suspects {
			again = append(again, []*draft{d})
		}
	}
	switch {
	case len(collateral) == 0:
	case len(collateral) < len(pending):
		again = append(again, collateral)
	default:
		// Nothing ran and nothing of ours broke: try each alone.
		for _, d := range collateral {
			again = append(again, []*draft{d})
		}
	}
	for _, group := range again {
		b, err := v.round(ctx, group)
		if err != nil {
			return nil, err
		}
		broken = append(broken, b...)
	}
	return broken, nil
}

func firstOr(ds []*draft) Test {
	if len(ds) == 0 {
		return Test{}
	}
	return ds[0].test
}

func (v *validation) runBase(ctx context.Context, drafts []*draft) (executor.Result, error) {
	tests := make([]executor.TestPatch, len(drafts))
	for i, d := range drafts {
		tests[i] = d.test.TestPatch
	}
	v.report.BaseRuns++
	res, err := v.w.Runner.RunBase(ctx, tests)
	if err != nil {
		return executor.Result{}, fmt.Errorf("validate generated tests on the base commit: %w", err)
	}
	if res.Status == executor.Infra || res.Status == executor.ApplyFailed || res.Status == executor.EmptyPatch {
		return executor.Result{}, fmt.Errorf("validate generated tests on the base commit: the base run ended %s: %s", res.Status, res.Reason)
	}
	return res, nil
}

// apply acts on a classification: keep, drop, or (true) repair.
func (v *validation) apply(ctx context.Context, d *draft, c classification, res executor.Result) (brokenDraft, bool) {
	switch c.kind {
	case classReproduces:
		v.mu.Lock()
		v.report.Kept = append(v.report.Kept, d.test)
		v.mu.Unlock()
	case classBroken, classErrored:
		// A Go package can be broken on base without the test; a Python
		// test's unit is its own new file, so it is the culprit: no base
		// run without it (which, for a command that takes its tests as
		// arguments, would run the whole suite).
		if c.kind == classBroken && d.test.Language == Go {
			plain, err := v.plainBase(ctx)
			if err == nil && d.test.Broken(plain) {
				v.drop(d, DropBrokenOnBase, "its unit does not build on the base commit even without generated tests")
				return brokenDraft{}, false
			}
		}
		return brokenDraft{d: d, why: c.detail, output: failureOutput(res, d.test)}, true
	default:
		v.drop(d, c.drop, c.detail)
	}
	return brokenDraft{}, false
}

// plainBase runs the base once without generated tests, on demand.
func (v *validation) plainBase(ctx context.Context) (executor.Result, error) {
	if v.plain != nil {
		return *v.plain, nil
	}
	res, err := v.runBase(ctx, nil)
	if err != nil {
		return executor.Result{}, err
	}
	v.plain = &res
	return res, nil
}

type classKind int

const (
	classReproduces classKind = iota + 1
	classBroken               // its unit did not build: repair
	classErrored              // its cases errored (setup, fixture): repair
	classTimedOut
	classDrop
)

type classification struct {
	kind   classKind
	drop   DropReason
	detail string
}

// classify reads a generated test's fate from a base run: its cases FAIL
// -> it reproduces; all PASS -> it reproduces nothing; none, and its unit is
// broken -> it does not compile.
func classify(t Test, res executor.Result) classification {
	if applied, ok := res.TestsApplied[t.ID]; ok && !applied {
		return classification{kind: classDrop, drop: DropNotApplied, detail: "its patch did not apply to the base commit (does " + t.Path + " exist already?)"}
	}
	cases := t.Cases(res)
	count := map[outcome.Outcome]int{}
	for _, c := range cases {
		count[c.Outcome]++
	}
	switch {
	case count[outcome.Fail] > 0:
		return classification{kind: classReproduces}
	case count[outcome.Error] > 0:
		return classification{kind: classErrored, detail: fmt.Sprintf("%d of its test cases could not run (an error before the test body)", count[outcome.Error])}
	case count[outcome.Pass] > 0:
		return classification{kind: classDrop, drop: DropPassesOnBase, detail: fmt.Sprintf("all %d of its cases pass on the base commit: it reproduces nothing", count[outcome.Pass])}
	case len(cases) > 0:
		return classification{kind: classDrop, drop: DropSkipped, detail: "its cases skip themselves on the base commit"}
	case t.Broken(res):
		return classification{kind: classBroken, detail: "it does not compile (its package failed to build)"}
	case res.Status == executor.TimedOut:
		return classification{kind: classTimedOut, drop: DropTimedOut, detail: "the base run timed out before its cases ran"}
	}
	return classification{kind: classDrop, drop: DropDidNotRun, detail: "the base run has none of its cases: the test command does not run " + t.Path}
}
