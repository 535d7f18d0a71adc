package generator

import (
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/local"
	"github.com/bestpatch/bestpatch/executor/outcome"
)

const distinguishingBody = `package uuid

import "testing"

func TestAdversarialFourthHyphen(t *testing.T) {
	if _, err := Parse("f47ac10b-58cc-0372-8567x0e02b2c3d479"); err == nil {
		t.Fatal("Parse accepted a UUID whose fourth hyphen is an x")
	}
}
`

func TestAdversaryTellsTwoCandidatesApart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test on a real module")
	}
	s, c := uuidTask(t)
	patches := map[string]string{}
	for _, cand := range s.Candidates {
		patches[cand.ID] = cand.Patch
	}
	f := newFakeLLM(t, script(reply{content: goAnswer("uuid_adversarial_test.go", distinguishingBody)}))
	adv := &Adversary{Model: mustEndpoint(t, testConfig(f)).NewSession()}
	test, err := adv.Distinguish(t.Context(), DistinguishInput{
		Problem: uuidProblem, Context: c, A: patches["fix"], B: patches["wrong"], Round: 1,
		Feedback: "the last test passed with both patches",
	})
	if err != nil {
		t.Fatal(err)
	}
	req := f.requests()[0]
	prompt := req.Messages[1].Content
	for _, want := range []string{"s[23] != '-'", "s[23] == '+'", `<patch name="A">`, `<patch name="B">`, "passed with both patches", uuidProblem} {
		if !strings.Contains(prompt, want) {
			t.Errorf("prompt lacks %q", want)
		}
	}
	if req.Seed == nil || *req.Seed != 1 {
		t.Errorf("seed = %v, want the round, 1", req.Seed)
	}
	if !strings.HasPrefix(test.ID, "adv-1-") || test.Package != "github.com/google/uuid" || len(test.Funcs) != 1 {
		t.Errorf("test = %s in %q with %v, want adv-1-HASH in github.com/google/uuid with one function", test.ID, test.Package, test.Funcs)
	}

	// Run it with each candidate, as the selector does: it must tell them apart.
	loc := local.New(local.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(func() { loc.Close() })
	run := func(patch string) executor.Result {
		res, err := loc.Run(t.Context(), executor.Run{
			Env: executor.Environment{Repo: s.Repo}, Patch: patch, Tests: []executor.TestPatch{test.TestPatch},
			Command: "go test -json -count=1 -run TestAdversarial .", Format: executor.GoJSON, Timeout: 5 * time.Minute,
		})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	fix, wrong, twin := run(patches["fix"]), run(patches["wrong"]), run(patches["twin"])
	if !test.Separates(fix, wrong) || !test.Separates(wrong, fix) {
		t.Errorf("the test does not tell fix %v from wrong %v", test.Cases(fix), test.Cases(wrong))
	}
	if test.Separates(fix, twin) {
		t.Errorf("the test tells fix from its cosmetic twin: %v vs %v", test.Cases(fix), test.Cases(twin))
	}
}

func TestAdversaryReportsAnswersWithoutATest(t *testing.T) {
	for _, tc := range []struct {
		name    string
		replies []reply
		calls   int
		err     error
		msg     string
	}{
		{"no code block", []reply{{content: "Patch A is right."}}, 1, ErrMalformed, "no fenced code block"},
		{"syntax error, then repaired", []reply{{content: goAnswer("a_test.go", syntaxErrorBody)}, {content: "```go\n" + distinguishingBody + "```"}}, 2, nil, ""},
		{"syntax error twice", []reply{{content: goAnswer("a_test.go", syntaxErrorBody)}}, 2, errNotRunnable, "missing condition"},
		{"budget", []reply{{status: 429, header: map[string]string{"Retry-After": "0"}}}, 0, ErrBudgetExceeded, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeLLM(t, script(tc.replies...))
			e := mustEndpoint(t, testConfig(f))
			session := e.NewSession()
			if tc.err == ErrBudgetExceeded {
				session = e.NewSessionWithBudget(Limits{Tokens: 10})
			}
			adv := &Adversary{Model: session}
			test, err := adv.Distinguish(t.Context(), DistinguishInput{Problem: "p", Context: Context{Language: Go}, A: "a", B: "b", Round: 2})
			if got := len(f.requests()); got != tc.calls {
				t.Errorf("requests = %d, want %d", got, tc.calls)
			}
			if tc.err == nil {
				if err != nil || test.Path != "a_test.go" || !strings.Contains(test.Patch, "TestAdversarialFourthHyphen") {
					t.Fatalf("got %+v, %v; want the repaired test at a_test.go", test, err)
				}
				return
			}
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tc.err, tc.msg)
			}
		})
	}
}

func TestSeparates(t *testing.T) {
	test := Test{Language: Go, Path: "a_test.go", Funcs: []string{"TestA"}}
	res := func(o outcome.Outcome) executor.Result {
		return executor.Result{Cases: []executor.Case{{ID: "m::TestA", Outcome: o}, {ID: "m::TestOther", Outcome: outcome.Pass}}}
	}
	for _, tc := range []struct {
		a, b executor.Result
		want bool
	}{
		{res(outcome.Pass), res(outcome.Fail), true},
		{res(outcome.Fail), res(outcome.Pass), true},
		{res(outcome.Pass), res(outcome.Pass), false},
		{res(outcome.Pass), res(outcome.Error), false}, // did not run: no evidence
		{res(outcome.Pass), executor.Result{}, false},
	} {
		if got := test.Separates(tc.a, tc.b); got != tc.want {
			t.Errorf("Separates(%v, %v) = %v, want %v", tc.a.Cases, tc.b.Cases, got, tc.want)
		}
	}
}
