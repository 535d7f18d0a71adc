package selector

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/outcome"
	"github.com/bestpatch/bestpatch/scoring"
)

// adaptiveWorld is a random job and the runs' results: every result is a
// function of the run (the patch, the generated tests applied), so the
// same run gives the same result whichever plan asks for it.
type adaptiveWorld struct {
	seed      uint64
	originals map[string]outcome.Outcome // base outcome of each original case
	gens      []string                   // generated test IDs
	genBase   map[string]outcome.Outcome // base outcome of each generated test's case
	flaky     string                     // an original case that flips between base runs, or ""
}

var adaptiveLines = []string{"return a + b", "return a - b", "return a * b", "if a > b {", "x := f(a)", "return nil", "a++"}

// adaptivePatch is a diff of calc.go: a few lines replaced, sometimes
// respelled (one more line deleted and added back: another text, the same
// tree) or with a test file changed as well (tampering).
func adaptivePatch(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString("diff --git a/calc.go b/calc.go\n--- a/calc.go\n+++ b/calc.go\n")
	pos := 1 + r.IntN(3)*4
	del := 1 + r.IntN(2)
	added := []string{adaptiveLines[r.IntN(len(adaptiveLines))]}
	var old []string
	for k := 0; k < del; k++ {
		old = append(old, fmt.Sprintf("line %d", pos+k))
	}
	if r.IntN(5) == 0 {
		old = append(old, fmt.Sprintf("line %d", pos+del))
		added = append(added, fmt.Sprintf("line %d", pos+del))
	}
	fmt.Fprintf(&b, "@@ -%d,%d +%d,%d @@\n", pos, len(old), pos, len(added))
	for _, l := range old {
		b.WriteString("-" + l + "\n")
	}
	for _, l := range added {
		b.WriteString("+" + l + "\n")
	}
	if r.IntN(8) == 0 {
		b.WriteString("diff --git a/calc_test.go b/calc_test.go\n--- a/calc_test.go\n+++ b/calc_test.go\n@@ -1 +1 @@\n-t1\n+t2\n")
	}
	return b.String()
}

func randomAdaptiveJob(r *rand.Rand) (Job, *adaptiveWorld) {
	w := &adaptiveWorld{seed: r.Uint64(), originals: map[string]outcome.Outcome{}, genBase: map[string]outcome.Outcome{}}
	job := Job{ID: "j", Task: Task{ID: "t", Env: executor.Environment{Repo: "/r"}, TestCommand: "go test -json ./...", Format: executor.GoJSON}}
	for k := 0; k < 2+r.IntN(4); k++ {
		o := outcome.Pass
		if r.IntN(5) == 0 {
			o = outcome.Fail
		}
		w.originals[fmt.Sprintf("p::TestO%d", k)] = o
	}
	if r.IntN(6) == 0 {
		w.flaky = "p::TestO0"
	}
	for g := 0; g < r.IntN(4); g++ {
		id := fmt.Sprintf("g%d", g)
		w.gens = append(w.gens, id)
		job.Task.GeneratedTests = append(job.Task.GeneratedTests, GeneratedTest{ID: id, Patch: testPatch("gen_"+id+"_test.go", "TestGen"+strings.ToUpper(id))})
		w.genBase["p::TestGen"+strings.ToUpper(id)] = []outcome.Outcome{outcome.Fail, outcome.Fail, outcome.Pass}[r.IntN(3)]
	}
	n := 2 + r.IntN(10)
	var patches []string
	for len(patches) < n {
		if len(patches) > 0 && r.IntN(3) == 0 {
			patches = append(patches, patches[r.IntN(len(patches))])
		} else {
			patches = append(patches, adaptivePatch(r))
		}
	}
	for i, p := range patches {
		c := scoring.Candidate{ID: fmt.Sprintf("c%02d", i), Patch: p}
		if r.IntN(3) == 0 {
			v := float64(r.IntN(5)) / 4
			c.Verifier = &v
		}
		job.Candidates = append(job.Candidates, c)
	}
	return job, w
}

// result is the world's result of a run.
func (w *adaptiveWorld) result(id string, run executor.Run) executor.Result {
	h := fnv.New64a()
	fmt.Fprint(h, w.seed, run.Patch)
	r := rand.New(rand.NewPCG(h.Sum64(), 7))
	res := executor.Result{Status: executor.Completed, Duration: time.Duration(1+r.IntN(5)) * time.Second}
	if run.Patch != "" {
		switch x := r.IntN(20); {
		case x == 0:
			return executor.Result{Status: executor.ApplyFailed, Duration: time.Second}
		case x == 1:
			return executor.Result{Status: executor.TimedOut, Duration: 10 * time.Second}
		}
		variant := 0
		if r.IntN(4) == 0 {
			variant = 1
		}
		res.Tree = fmt.Sprintf("%s/%d", scoring.EffectSignature(run.Patch), variant)
	}
	perfect := run.Patch != "" && r.IntN(3) == 0
	ended := func(base outcome.Outcome) outcome.Outcome {
		switch {
		case run.Patch == "":
			return base
		case perfect:
			return outcome.Pass
		}
		return []outcome.Outcome{outcome.Pass, outcome.Pass, outcome.Fail, base}[r.IntN(4)]
	}
	for _, c := range slices.Sorted(mapKeys(w.originals)) {
		o := ended(w.originals[c])
		if c == w.flaky && id == "base/2" {
			o = outcome.Fail + outcome.Pass - o
		}
		res.Cases = append(res.Cases, executor.Case{ID: c, Outcome: o})
	}
	for _, t := range run.Tests {
		c := "p::TestGen" + strings.ToUpper(t.ID)
		res.Cases = append(res.Cases, executor.Case{ID: c, Outcome: ended(w.genBase[c])})
	}
	return res
}

// fullResults runs the job's plan with every run, returning every result.
func (w *adaptiveWorld) fullResults(t *testing.T, job Job) map[string]executor.Result {
	t.Helper()
	job.Options.Execution = ExecutionAll
	p, err := NewPlan(job)
	if err != nil {
		t.Fatal(err)
	}
	for !p.Done() {
		for _, r := range p.Needed() {
			if err := p.Record(r.ID, w.result(r.ID, r.Run)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return p.results
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestAdaptiveChoosesAsEveryRun: over random jobs (duplicates, respelled
// twins that leave the same tree, tampering, patches that do not apply or
// time out, generated tests, flaky cases, verifier scores) and every
// built-in policy, the adaptive plan, run 1 to 3 at a time, chooses the
// candidate the plan with every run chooses, with the same ties, making
// the same runs however many run at a time; and it leaves runs out often
// enough for the test to say something.
func TestAdaptiveChoosesAsEveryRun(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 2))
	jobs := 60
	if testing.Short() {
		jobs = 25
	}
	skipped, runs := map[string]int{}, map[string]int{}
	for range jobs {
		job, w := randomAdaptiveJob(r)
		results := w.fullResults(t, job)
		for _, policy := range scoring.PolicyNames() {
			job.Options.Policy = policy
			job.Options.Execution = ExecutionAll
			full, err := Simulate(job, results, 1)
			if err != nil {
				t.Fatal(err)
			}
			job.Options.Execution = ""
			var made []string
			for workers := 1; workers <= 3; workers++ {
				got, err := Simulate(job, results, workers)
				if err != nil {
					t.Fatal(err)
				}
				// The runs made are a function of the results, not of
				// their timing.
				var ran []string
				for _, r := range got.Runs {
					ran = append(ran, r.ID)
				}
				slices.Sort(ran)
				if workers == 1 {
					made = ran
				} else if !slices.Equal(ran, made) {
					t.Fatalf("policy %s: %d at a time made runs %v, one at a time %v", policy, workers, ran, made)
				}
				if got.Verdict.Chosen != full.Verdict.Chosen || !slices.Equal(sorted(got.Verdict.Ties), sorted(full.Verdict.Ties)) {
					t.Fatalf("policy %s, %d at a time: adaptive chose %q ties %v (%d not run: %v); every run: %q ties %v\njob %+v",
						policy, workers, got.Verdict.Chosen, got.Verdict.Ties, got.NotRun, got.Verdict.Basis.NotRun, full.Verdict.Chosen, full.Verdict.Ties, job)
				}
				if got.NotRun > 0 && len(got.Verdict.Basis.NotRun) == 0 && got.Verdict.Basis.Execution != scoring.EvidenceNone {
					t.Logf("policy %s: %d runs not made, no candidate in play among them", policy, got.NotRun)
				}
				if workers == 1 {
					skipped[policy] += got.NotRun
					runs[policy] += full.Distinct
				}
			}
		}
	}
	t.Logf("distinct candidates not run, one run at a time (of %d): %v", runs[scoring.PolicyAuto], skipped)
	for _, p := range []string{scoring.PolicyAuto, scoring.PolicyAgentless, scoring.PolicyR2EHybrid, scoring.PolicyConsensus} {
		if skipped[p] == 0 {
			t.Errorf("policy %s: no run left out in %d jobs: the test says nothing about it", p, jobs)
		}
	}
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

// TestAdaptiveRunsEveryCandidateForAMinimumConfidence: a job that asks for
// a minimum confidence, with a model that speaks for its verdicts, runs
// every candidate (the model's features count them all); with
// options.execution "all" too.
func TestAdaptiveRunsEveryCandidateForAMinimumConfidence(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 3))
	tests := scoring.ConfidenceModel{Scope: scoring.ScopeTests, Intercept: 0.1, Weights: map[string]float64{scoring.FeatureLogCandidates: 0.5}}
	free := scoring.ConfidenceModel{Scope: scoring.ScopeExecutionFree, Intercept: 0.1}
	left := 0
	for range 30 {
		job, w := randomAdaptiveJob(r)
		results := w.fullResults(t, job)
		adaptive, err := Simulate(job, results, 1)
		if err != nil {
			t.Fatal(err)
		}
		left += adaptive.NotRun
		for _, o := range []Options{
			{MinConfidence: 0.5, ConfidenceModels: scoring.ConfidenceModels{tests, free}},
			{Execution: ExecutionAll},
		} {
			job.Options = o
			rep, err := Simulate(job, results, 1)
			if err != nil {
				t.Fatal(err)
			}
			if rep.NotRun != 0 || len(rep.Verdict.Basis.NotRun) != 0 {
				t.Fatalf("options %+v: %d runs not made (%v): want every run", o, rep.NotRun, rep.Verdict.Basis.NotRun)
			}
		}
	}
	if left == 0 {
		t.Fatal("no job left a run out without a minimum: the test says nothing")
	}
}
