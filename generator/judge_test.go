package generator

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

func firstToken(token string, lp float64, top ...TopLogprob) *ChoiceLogprobs {
	return &ChoiceLogprobs{Content: []TokenLogprob{{Token: token, Logprob: lp, TopLogprobs: top}}}
}

func TestJudgeScore(t *testing.T) {
	sig := func(ly, ln float64) float64 { return math.Exp(ly) / (math.Exp(ly) + math.Exp(ln)) }
	lse := func(a, b float64) float64 { return math.Log(math.Exp(a) + math.Exp(b)) }
	for _, tc := range []struct {
		name     string
		logprobs *ChoiceLogprobs
		want     float64
		err      error
	}{
		{"YES and NO", firstToken("YES", -0.1, TopLogprob{"YES", -0.1}, TopLogprob{"NO", -2.4}), sig(-0.1, -2.4), nil},
		{"NO chosen", firstToken("NO", -0.05, TopLogprob{"NO", -0.05}, TopLogprob{"YES", -3}), sig(-3, -0.05), nil},
		{"spellings are summed", firstToken("Yes", -0.7,
			TopLogprob{"Yes", -0.7}, TopLogprob{" yes", -1.2}, TopLogprob{"NO", -2}, TopLogprob{"The", -3}, TopLogprob{"ĠNo", -4}),
			sig(lse(-0.7, -1.2), lse(-2, -4)), nil},
		{"sentencepiece marker", firstToken("▁YES", -0.2, TopLogprob{"▁YES", -0.2}, TopLogprob{"▁NO", -1.8}), sig(-0.2, -1.8), nil},
		{"very confident stays finite", firstToken("YES", 0, TopLogprob{"YES", 0}, TopLogprob{"NO", -9999}), 1, nil},
		{"NO missing", firstToken("YES", -0.01, TopLogprob{"YES", -0.01}, TopLogprob{"Y", -5}), 0, ErrNoAnswerToken},
		{"YES missing", firstToken("No", -0.01, TopLogprob{"No", -0.01}), 0, ErrNoAnswerToken},
		{"no top logprobs: only the sampled token", firstToken("YES", -0.01), 0, ErrNoAnswerToken},
		{"no logprobs", nil, 0, ErrNoLogprobs},
		{"empty logprobs", &ChoiceLogprobs{}, 0, ErrNoLogprobs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeLLM(t, script(reply{content: "YES", logprobs: tc.logprobs}))
			j := &Judge{Model: mustEndpoint(t, testConfig(f)).NewSession()}
			s, err := j.Score(t.Context(), JudgeInput{Problem: "issue", Patch: "diff"})
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(s.PYes-tc.want) > 1e-12 {
				t.Errorf("P(YES) = %v, want %v", s.PYes, tc.want)
			}
			req := f.requests()[0]
			if !req.Logprobs || req.TopLogprobs != 20 || req.MaxTokens != 1 || req.Temperature != 0 {
				t.Errorf("request asks logprobs=%v top=%d max_tokens=%d temperature=%v; want true 20 1 0",
					req.Logprobs, req.TopLogprobs, req.MaxTokens, req.Temperature)
			}
		})
	}
}

func TestJudgePromptCarriesTheTrajectoryWithinBudget(t *testing.T) {
	f := newFakeLLM(t, script(reply{content: "YES", logprobs: firstToken("YES", -0.1, TopLogprob{"NO", -2})}))
	j := &Judge{Model: mustEndpoint(t, testConfig(f)).NewSession(), ContextTokens: 800}
	var steps []Step
	for i := range 20 {
		steps = append(steps,
			Step{StepReasoning, fmt.Sprintf("thought %d %s", i, strings.Repeat("r", 100))},
			Step{StepAction, fmt.Sprintf("action %d", i)},
			Step{StepObservation, fmt.Sprintf("observation %d %s", i, strings.Repeat("o", 40))})
	}
	s, err := j.Score(t.Context(), JudgeInput{Problem: "the issue", Patch: "the patch", Trajectory: steps})
	if err != nil {
		t.Fatal(err)
	}
	prompt := f.requests()[0].Messages[1].Content
	if est := estimateTokens(ChatRequest{Messages: f.requests()[0].Messages}); est > 800 {
		t.Errorf("prompt is about %d tokens, over the 800 budget", est)
	}
	for _, want := range []string{"the issue", "the patch", "observation 19", "action 0", "steps omitted to fit"} {
		if !strings.Contains(prompt, want) {
			t.Errorf("prompt lacks %q", want)
		}
	}
	if strings.Contains(prompt, "thought 0 ") || s.StepsOmitted == 0 {
		t.Errorf("the oldest reasoning was kept (omitted %d)", s.StepsOmitted)
	}
}

func TestFitTrajectory(t *testing.T) {
	r := func(s string) Step { return Step{StepReasoning, s} }
	a := func(s string) Step { return Step{StepAction, s} }
	o := func(s string) Step { return Step{StepObservation, s} }
	long := strings.Repeat("x", 400)
	for _, tc := range []struct {
		name    string
		steps   []Step
		budget  int
		keep    []string // substrings that must remain
		gone    []string // substrings that must be dropped
		omitted int
	}{
		{"fits", []Step{r("r1"), a("a1"), o("o1")}, 1000, []string{"r1", "a1", "o1"}, nil, 0},
		{"reasoning goes first", []Step{r("r1" + long), a("a1"), o("o1"), r("r2" + long), a("a2")}, 200,
			[]string{"a1", "o1", "r2", "a2"}, []string{"r1"}, 1},
		{"then the oldest of any kind", []Step{a("a1" + long), o("o1" + long), r("r2"), a("a2")}, 120,
			[]string{"a2"}, []string{"a1", "o1"}, 3},
		{"the last step's tail", []Step{r("r1"), o("HEAD" + long + "TAIL")}, 40,
			[]string{"TAIL", "start omitted"}, []string{"HEAD", "r1"}, 1},
		{"no room", []Step{a("a1")}, 0, nil, []string{"a1"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text, omitted := fitTrajectory(tc.steps, tc.budget)
			if tokensIn(text) > tc.budget && tc.budget > 0 {
				t.Errorf("%d bytes, over %d tokens", len(text), tc.budget)
			}
			for _, k := range tc.keep {
				if !strings.Contains(text, k) {
					t.Errorf("lost %q:\n%s", k, text)
				}
			}
			for _, g := range tc.gone {
				if strings.Contains(text, g) {
					t.Errorf("kept %q:\n%s", g, text)
				}
			}
			if omitted != tc.omitted {
				t.Errorf("omitted %d, want %d", omitted, tc.omitted)
			}
		})
	}
}
