package selector

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bluekeyes/go-gitdiff/gitdiff"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/outcome"
	"github.com/bestpatch/bestpatch/generator"
	"github.com/bestpatch/bestpatch/scoring"
)

// Generation reports what the model endpoint contributed to a job.
type Generation struct {
	// Kept are the generated tests added to the job.
	Kept []string `json:"kept,omitempty"`
	// Dropped are the generated tests left out, with the reason.
	Dropped []generator.Dropped `json:"dropped,omitempty"`
	// Judged holds the P(YES) the judge gave, by candidate.
	Judged map[string]float64 `json:"judged,omitempty"`
	// Adversarial lists the adversarial rounds played.
	Adversarial []AdversarialRound `json:"adversarial,omitempty"`
	// Spent is what the job used of the endpoint.
	Spent generator.Spent `json:"spent"`
	// Problems are failures that did not stop the job (a malformed answer,
	// the budget running out), for the report.
	Problems []string `json:"problems,omitempty"`
}

// AdversarialRound is one test written to tell two tied candidates apart.
type AdversarialRound struct {
	Round int    `json:"round"`
	Test  string `json:"test,omitempty"`
	A     string `json:"a"`
	B     string `json:"b"`
	// Winner is the candidate that passes the test, empty when the test
	// did not tell them apart.
	Winner string `json:"winner,omitempty"`
	Note   string `json:"note"`
}

// session returns a model session for the job, or nil with a note when the
// job asks for model evidence but no endpoint is configured.
func (s *Selector) session(job Job) (*generator.Session, string) {
	if !job.Options.wantsModel() {
		return nil, ""
	}
	if s.Models == nil {
		s.noModelOnce.Do(func() {
			s.logger().Warn("jobs ask for generated tests, judge scores or adversarial tests, but no model endpoint is configured (--llm-url): working with the tests and scores the jobs brought")
		})
		return nil, "no model endpoint configured (--llm-url): generated tests, judge scores and adversarial tests were skipped; the job's own tests and scores were used"
	}
	return s.Models.NewSession(), ""
}

// modelContext gathers what the model is shown about the repository: the
// touched files and an example test, when the repository is on this host.
func modelContext(ctx context.Context, job Job) (generator.Context, error) {
	var patches, touched []string
	for _, c := range job.Candidates {
		patches = append(patches, c.Patch)
		files, _, err := gitdiff.Parse(strings.NewReader(c.Patch))
		if err != nil {
			continue
		}
		for _, f := range files {
			touched = append(touched, f.NewName)
		}
	}
	lang, err := generator.LanguageOf(job.Task.Format, touched)
	if err != nil {
		return generator.Context{}, err
	}
	mctx := generator.Context{Language: lang}
	// An image-only task: the model sees the problem and the patches.
	if repo := job.Task.Env.Repo; repo != "" {
		if _, err := os.Stat(filepath.Join(repo, ".git")); err == nil {
			mctx, err = generator.GatherContext(ctx, generator.GitCheckout{Dir: repo, Commit: job.Task.Env.Commit}, lang, patches)
			if err != nil {
				return generator.Context{}, err
			}
		}
	}
	mctx.Format = job.Task.Format
	return mctx, nil
}

// baseRunner runs test patches on the base for the TestWriter, through the
// selector's pool and cache.
type baseRunner struct {
	s    *Selector
	pool *Pool
	job  Job
}

func (b baseRunner) RunBase(ctx context.Context, tests []executor.TestPatch) (executor.Result, error) {
	r := b.job.Task.generatedRun("", tests)
	_, res, err := b.s.runOne(ctx, b.job.ID, PlannedRun{ID: "gen/base", Key: RunKey(r), Run: r}, b.pool.slot, true)
	return res, err
}

// generate adds model evidence to a job before it is planned: generated
// tests. The judge comes after the runs (judge), which tell which
// candidates apply.
func (s *Selector) generate(ctx context.Context, sess *generator.Session, job Job, gen *Generation) (Job, generator.Context) {
	mctx, err := modelContext(ctx, job)
	if err != nil {
		gen.Problems = append(gen.Problems, "model context: "+err.Error())
		return job, mctx
	}
	if k := job.Options.GenerateTests; k > 0 {
		w := &generator.TestWriter{Model: sess, Runner: baseRunner{s: s, pool: s.pool(), job: job}, IDPrefix: testPrefix(job.Task.GeneratedTests)}
		rep, err := w.Write(ctx, generator.TestRequest{Problem: job.Task.Problem, Context: mctx, Count: k})
		if err != nil {
			gen.Problems = append(gen.Problems, "generated tests: "+err.Error())
		}
		gen.Dropped = rep.Dropped
		task := job.Task
		task.GeneratedTests = slices.Clone(task.GeneratedTests)
		for _, t := range rep.Kept {
			task.GeneratedTests = append(task.GeneratedTests, GeneratedTest{ID: t.ID, Patch: t.Patch})
			gen.Kept = append(gen.Kept, t.ID)
		}
		job.Task = task
	}
	return job, mctx
}

// testPrefix is the prefix of the model's test IDs (PREFIX-1, ...): "gen",
// or "gen2", "gen3" ... when a test of the task has an ID of that form
// already. The tests the model adds are then valid by construction (unique
// IDs, patches that add files), and the job is not validated again.
func testPrefix(tests []GeneratedTest) string {
	for n := 1; ; n++ {
		prefix := "gen"
		if n > 1 {
			prefix = fmt.Sprint("gen", n)
		}
		if !slices.ContainsFunc(tests, func(g GeneratedTest) bool { return strings.HasPrefix(g.ID, prefix+"-") }) {
			return prefix
		}
	}
}

// judge gives every candidate that applies and has no verifier score the
// judge's P(YES); candidates with the same change share one request. It
// runs once the plan's runs are in: a candidate that does not apply is out
// whatever the judge says, so asking about it would only spend the budget.
func (s *Selector) judge(ctx context.Context, sess *generator.Session, plan *Plan, gen *Generation) {
	j := &generator.Judge{Model: sess}
	job := plan.job
	cands := slices.Clone(job.Candidates)
	byKey := map[string]float64{}
	for i, c := range cands {
		if c.Verifier != nil || !plan.applies(c.ID) {
			continue
		}
		key, empty := dedupeKey(c.Patch)
		if empty {
			continue
		}
		p, ok := byKey[key]
		if !ok {
			score, err := j.Score(ctx, generator.JudgeInput{Problem: job.Task.Problem, Patch: c.Patch})
			if err != nil {
				gen.Problems = append(gen.Problems, fmt.Sprintf("judge %s: %v", c.ID, err))
				if errors.Is(err, generator.ErrBudgetExceeded) || ctx.Err() != nil {
					break
				}
				continue
			}
			p = score.PYes
			byKey[key] = p
		}
		cands[i].Verifier = &p
		if gen.Judged == nil {
			gen.Judged = map[string]float64{}
		}
		gen.Judged[c.ID] = p
	}
	plan.job.Candidates = cands
}

// applies reports whether a candidate's patch applies: its evidence run
// applied it (a run that timed out had; one that failed for the
// infrastructure says whether it got that far). In an execution-free job,
// which runs nothing, a patch applies when the executor's vetting accepts
// it (it parses, and writes nothing it must not).
func (p *Plan) applies(id string) bool {
	if p.job.Options.executionFree() {
		i := slices.IndexFunc(p.job.Candidates, func(c scoring.Candidate) bool { return c.ID == id })
		if i < 0 {
			return false
		}
		_, ok := executor.RunPatch(p.job.Candidates[i].Patch, p.job.Task.TestFileMatcher().Patterns())
		return ok
	}
	g, ok := p.byID[id]
	if !ok {
		return false // an empty patch: never run
	}
	run, ok := p.evidenceRun(g)
	res, recorded := p.results[run.ID]
	if !ok || !recorded {
		return false
	}
	switch res.Status {
	case executor.Completed, executor.TimedOut:
		return true
	case executor.Infra:
		return res.Applied != ""
	}
	return false
}

// adversarial plays up to Options.AdversarialRounds rounds: while two or more
// top candidates with different changes are tied, the model writes a test
// that tells two of them apart; it runs on base and on both, and the one
// that fails it leaves the tie.
func (s *Selector) adversarial(ctx context.Context, sess *generator.Session, plan *Plan, mctx generator.Context, rep *Report, gen *Generation) {
	job := plan.job
	v := &rep.Verdict
	adv := &generator.Adversary{Model: sess}
	feedback := ""
	for round := 1; round <= job.Options.AdversarialRounds; round++ {
		tied := plan.distinctAmong(v.Ties)
		if len(tied) < 2 {
			return
		}
		a, b := tied[0], tied[1]
		r := AdversarialRound{Round: round, A: a.members[0], B: b.members[0]}
		t, err := adv.Distinguish(ctx, generator.DistinguishInput{Problem: job.Task.Problem, Context: mctx, A: a.patch, B: b.patch, Round: round, Feedback: feedback})
		if err != nil {
			r.Note = "no test: " + err.Error()
			gen.Adversarial = append(gen.Adversarial, r)
			if errors.Is(err, generator.ErrBudgetExceeded) || ctx.Err() != nil {
				return
			}
			continue
		}
		r.Test = t.ID
		results := map[string]executor.Result{}
		for name, patch := range map[string]string{"base": "", "a": a.patch, "b": b.patch} {
			run := job.Task.generatedRun(patch, []executor.TestPatch{t.TestPatch})
			_, res, err := s.runOne(ctx, job.ID, PlannedRun{ID: "adv/" + name, Key: RunKey(run), Run: run}, s.pool().slot, true)
			if err != nil {
				r.Note = "run failed: " + err.Error()
				gen.Adversarial = append(gen.Adversarial, r)
				return
			}
			results[name] = res
		}
		// A run that timed out or failed for infrastructure reasons holds no
		// evidence: its cases may be cut short or missing.
		unknown := unknownRun(results, r)
		switch {
		case unknown != "":
			r.Note = unknown
		case t.Broken(results["base"]):
			feedback = "the test did not compile or could not be collected on the base commit:\n" + results["base"].Output
			r.Note = "the test does not compile on base"
		case !t.Separates(results["a"], results["b"]):
			feedback = "both candidates gave the same outcomes on the test: write one whose result differs between A and B"
			r.Note = "the test did not tell them apart"
		default:
			winner, loser := a, b
			if passes(t, results["b"]) > passes(t, results["a"]) {
				winner, loser = b, a
			}
			r.Winner = winner.members[0]
			r.Note = fmt.Sprintf("%s passes more of the test's cases than %s", winner.members[0], loser.members[0])
			v.Ties = slices.DeleteFunc(v.Ties, func(id string) bool { return slices.Contains(loser.members, id) })
			if slices.Contains(loser.members, v.Chosen) {
				v.Chosen = v.Ties[0]
				v.Why += fmt.Sprintf(" Adversarial round %d: test %s told %s from %s; %s chosen.", round, t.ID, a.members[0], b.members[0], v.Chosen)
			}
			feedback = ""
		}
		v.Notes = append(v.Notes, fmt.Sprintf("adversarial round %d (%s vs %s): %s", round, r.A, r.B, r.Note))
		gen.Adversarial = append(gen.Adversarial, r)
	}
}

// unknownRun says which of an adversarial round's runs ended without
// evidence (timeout, infrastructure failure, or anything but a completed
// run), or "" when all three completed.
func unknownRun(results map[string]executor.Result, r AdversarialRound) string {
	for _, run := range []struct{ name, label string }{{"base", "the base"}, {"a", r.A}, {"b", r.B}} {
		if res := results[run.name]; res.Status != executor.Completed {
			_, why := rowStatus(res)
			return fmt.Sprintf("no evidence: the test's run on %s ended %s (%s)", run.label, res.Status, why)
		}
	}
	return ""
}

// passes counts a test's passing cases in a run.
func passes(t generator.Test, res executor.Result) int {
	n := 0
	for _, c := range t.Cases(res) {
		if c.Outcome == outcome.Pass {
			n++
		}
	}
	return n
}

// distinctAmong returns the groups of the given candidates, in their order,
// one per distinct change.
func (p *Plan) distinctAmong(ids []string) []*group {
	var out []*group
	for _, id := range ids {
		g, ok := p.byID[id]
		if ok && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}
