package selector_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/generator"
	"github.com/bestpatch/bestpatch/generator/llmtest"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

// fakeModel is an OpenAI-compatible endpoint that answers each request from
// a script keyed by the request's seed; the real HTTP client talks to it.
func fakeModel(t *testing.T, answer func(seed int64, body string) string) (*generator.Endpoint, *llmtest.Server) {
	t.Helper()
	srv := llmtest.NewServer(t, func(_ int, req generator.ChatRequest) llmtest.Reply {
		var seed int64
		if req.Seed != nil {
			seed = *req.Seed
		}
		var all strings.Builder
		for _, m := range req.Messages {
			all.WriteString(m.Content)
		}
		return llmtest.Reply{Content: answer(seed, all.String())}
	})
	return srv.Endpoint(t), srv
}

func goFile(name, body string) string {
	return fmt.Sprintf("Here is the test.\n\n```go %s\n%s```\n", name, body)
}

const reproTest = `package uuid

import "testing"

func TestModelFourthHyphen(t *testing.T) {
	if _, err := Parse("f47ac10b-58cc-0372-8567x0e02b2c3d479"); err == nil {
		t.Fatal("Parse accepted a UUID without its fourth hyphen")
	}
}
`

// TestSelectWithGeneratedTests: the model writes three tests (one reproduces
// the bug, one does not compile, one passes on base); only the first is
// kept, and it makes the fix win where consensus alone picks the wrong fix
// that two agents agree on.
func TestSelectWithGeneratedTests(t *testing.T) {
	s, job := uuidJob(t)
	byID := map[string]scoring.Candidate{}
	for _, c := range s.Candidates {
		byID[c.ID] = c
	}
	job.Task.GeneratedTests = nil
	job.Candidates = []scoring.Candidate{
		{ID: "a-wrong", Patch: byID["wrong"].Patch}, {ID: "b-wrong", Patch: byID["wrong"].Patch}, {ID: "c-fix", Patch: byID["fix"].Patch},
	}
	sel := &selector.Selector{Exec: newLocal(t), Pool: selector.NewPool(2)}
	before, err := sel.Select(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if before.Verdict.Chosen == "c-fix" {
		t.Fatalf("without tests the fix already wins; the scenario proves nothing: %+v", before.Verdict)
	}

	ep, calls := fakeModel(t, func(seed int64, body string) string {
		switch seed {
		case 1:
			return goFile("gen_model_repro_test.go", reproTest)
		case 2:
			return goFile("gen_model_broken_test.go", "package uuid\n\nimport \"testing\"\n\nfunc TestModelBroken(t *testing.T) { _ = NoSuchFunction() }\n")
		default:
			return goFile("gen_model_pass_test.go", "package uuid\n\nimport \"testing\"\n\nfunc TestModelValid(t *testing.T) {\n\tif _, err := Parse(\"f47ac10b-58cc-0372-8567-0e02b2c3d479\"); err != nil {\n\t\tt.Fatal(err)\n\t}\n}\n")
		}
	})
	sel.Models = ep
	job.Options.GenerateTests = 3
	after, err := sel.Select(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if after.Verdict.Chosen != "c-fix" {
		t.Fatalf("with the generated tests chose %q, want c-fix\n%+v", after.Verdict.Chosen, after.Verdict)
	}
	g := after.Generation
	if g == nil || len(g.Kept) != 1 || len(g.Dropped) != 2 {
		t.Fatalf("generation = %+v, want 1 kept and 2 dropped", g)
	}
	if g.Spent.Requests == 0 || g.Spent.Requests != len(calls.Requests()) {
		t.Errorf("spent %d requests, the server saw %d", g.Spent.Requests, len(calls.Requests()))
	}
}

// TestSelectAdversarialRound: two candidates tie on every execution signal
// (both pass the job's reproducing test) but differ; the model's adversarial
// test tells them apart and the real fix wins.
func TestSelectAdversarialRound(t *testing.T) {
	s, job := uuidJob(t)
	var fix string
	for _, c := range s.Candidates {
		if c.ID == "fix" {
			fix = c.Patch
		}
	}
	// Rejects only 'x' in place of the fourth hyphen: passes the job's repro
	// test, which uses 'x', but not the model's, which uses '0'.
	half := strings.Replace(fix, "|| s[23] != '-' {", "|| s[23] == 'x' {", 1)
	if half == fix {
		t.Fatal("could not derive the half fix")
	}
	job.Task.GeneratedTests = job.Task.GeneratedTests[:1] // repro only
	job.Candidates = []scoring.Candidate{{ID: "a-half", Patch: half}, {ID: "b-fix", Patch: fix}}
	sel := &selector.Selector{Exec: newLocal(t), Pool: selector.NewPool(2)}
	ep, _ := fakeModel(t, func(seed int64, body string) string {
		return goFile("gen_adv_test.go", strings.ReplaceAll(reproTest, "8567x0e02", "856700e02"))
	})
	sel.Models = ep
	job.Options.AdversarialRounds = 2
	rep, err := sel.Select(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict.Chosen != "b-fix" {
		t.Fatalf("chose %q, want b-fix\n%+v\n%+v", rep.Verdict.Chosen, rep.Verdict, rep.Generation)
	}
	if len(rep.Generation.Adversarial) == 0 || rep.Generation.Adversarial[0].Winner != "b-fix" {
		t.Fatalf("adversarial rounds = %+v", rep.Generation.Adversarial)
	}
}

// TestSelectWithoutEndpoint: a job asking for model evidence without an
// endpoint still gets a verdict, with a note saying what was skipped.
func TestSelectWithoutEndpoint(t *testing.T) {
	_, job := uuidJob(t)
	job.Task.GeneratedTests = job.Task.GeneratedTests[:1]
	job.Candidates = job.Candidates[:2]
	job.Options.GenerateTests, job.Options.Judge = 2, true
	rep, err := (&selector.Selector{Exec: newLocal(t), Pool: selector.NewPool(2)}).Select(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(rep.Verdict.Notes, "\n"), "no model endpoint") || rep.Generation != nil {
		t.Fatalf("notes = %v, generation = %+v", rep.Verdict.Notes, rep.Generation)
	}
}

// TestAdversarialRoundIgnoresUnknownRuns: an adversarial test that fails a
// case with one candidate and then hangs until the timeout tells nothing
// about that candidate: the timed-out run is not evidence, so the tie
// stands and the round names no winner. Before, the cut-short run counted
// and the other candidate won.
func TestAdversarialRoundIgnoresUnknownRuns(t *testing.T) {
	job, _ := tinyJob(t, "fix", "wrong")
	// No generated tests, and TestAnswer (which fails on base and would
	// count as FP for fix) left out: fix and wrong tie on every key (no
	// regressions, symmetric similarity); the tie-break picks fix.
	job.Task.TestCommand = "go test -json -count=1 -run 'TestEnvironment|TestAdv' ./..."
	job.Task.Timeout = selector.Duration(20 * time.Second)
	adv := `package tiny

import (
	"testing"
	"time"
)

func TestAdvFirst(t *testing.T) {
	if Answer() == 42 {
		t.Fatal("42")
	}
}

func TestAdvSecond(t *testing.T) {
	if Answer() == 42 {
		time.Sleep(time.Hour)
	}
}
`
	ep, _ := fakeModel(t, func(seed int64, body string) string { return goFile("adv_test.go", adv) })
	sel := &selector.Selector{Exec: newLocal(t), Pool: selector.NewPool(2), Models: ep}
	job.Options.AdversarialRounds = 1
	rep, err := sel.Select(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	g := rep.Generation
	if g == nil || len(g.Adversarial) != 1 {
		t.Fatalf("adversarial rounds = %+v\nverdict %+v", g, rep.Verdict)
	}
	r := g.Adversarial[0]
	if r.Winner != "" || !strings.Contains(r.Note, "no evidence") || !strings.Contains(r.Note, "timeout") {
		t.Errorf("round = %+v, want no winner and a note that the run timed out", r)
	}
	if rep.Verdict.Chosen != "fix" || len(rep.Verdict.Ties) != 2 {
		t.Errorf("chosen %q, ties %v: want fix, still tied with wrong", rep.Verdict.Chosen, rep.Verdict.Ties)
	}
}

// TestJudgeOnlyCandidatesThatApply: the judge is asked about each distinct
// candidate that applies, once the runs say which do: not about a patch
// that does not apply (stale context) nor an empty one, and twins share a
// request. In an execution-free job, which runs nothing, a patch the
// executor's vetting refuses (it writes outside the repository) is not
// judged either.
func TestJudgeOnlyCandidatesThatApply(t *testing.T) {
	job, _ := tinyJob(t, "fix", "wrong")
	fix := job.Candidates[0].Patch
	stale := strings.Replace(fix, "-func Answer() int { return 41 }", "-func Answer() int { return 40 }", 1)
	if stale == fix {
		t.Fatal("could not derive the stale patch")
	}
	outside := "diff --git a/../evil.go b/../evil.go\nnew file mode 100644\n--- /dev/null\n+++ b/../evil.go\n@@ -0,0 +1 @@\n+package evil\n"
	job.Candidates = append(job.Candidates,
		scoring.Candidate{ID: "twin", Patch: fix}, scoring.Candidate{ID: "stale", Patch: stale},
		scoring.Candidate{ID: "empty"}, scoring.Candidate{ID: "outside", Patch: outside})
	job.Options.Judge = true
	for _, tc := range []struct {
		name      string
		execution string
		judged    []string
	}{
		{"runs", "", []string{"fix", "twin", "wrong"}},
		{"execution-free", selector.ExecutionNone, []string{"fix", "stale", "twin", "wrong"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := llmtest.NewServer(t, func(int, generator.ChatRequest) llmtest.Reply { return llmtest.Yes(0.9) })
			sel := &selector.Selector{Exec: newLocal(t), Pool: selector.NewPool(2), Models: srv.Endpoint(t)}
			job := job
			job.Options.Execution = tc.execution
			rep, err := sel.Select(context.Background(), job)
			if err != nil {
				t.Fatal(err)
			}
			var judged []string
			for id := range rep.Generation.Judged {
				judged = append(judged, id)
			}
			slices.Sort(judged)
			if !slices.Equal(judged, tc.judged) {
				t.Errorf("judged %v, want %v", judged, tc.judged)
			}
			// One request per distinct change judged: fix and its twin share one.
			if n := len(srv.Requests()); n != len(tc.judged)-1 {
				t.Errorf("%d judge requests, want %d", n, len(tc.judged)-1)
			}
			for _, r := range rep.Verdict.Ranking {
				if _, ok := rep.Generation.Judged[r.ID]; (r.Signals.Verifier != nil) != ok {
					t.Errorf("candidate %s: verifier %v, judged %v", r.ID, r.Signals.Verifier, ok)
				}
			}
		})
	}
}
