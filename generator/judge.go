package generator

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
)

// Errors of a judge's answer. They are reported, never guessed around.
var (
	// ErrNoLogprobs: the endpoint returned no log-probabilities for the
	// answer (it must support logprobs and top_logprobs).
	ErrNoLogprobs = errors.New("the answer carries no token log-probabilities")
	// ErrNoAnswerToken: YES or NO is not among the first token's top
	// alternatives, so P(YES) cannot be computed.
	ErrNoAnswerToken = errors.New("YES or NO is missing from the first token's log-probabilities")
)

// Judge scores a candidate with a verifier model's P(YES) (DeepSWE,
// R2E-Gym): the model reads the issue, the patch and optionally the agent's
// trajectory and answers YES or NO; the score is
// exp(l_yes) / (exp(l_yes) + exp(l_no)) over the first generated token's
// top log-probabilities, each of l_yes and l_no summing its spellings
// ("YES", "Yes", " yes", ...).
type Judge struct {
	Model Model
	// ContextTokens bounds the prompt (default 30000 tokens, estimated at
	// three bytes a token); the trajectory is trimmed to fit, oldest
	// reasoning first. The issue and the patch are never cut.
	ContextTokens int
	// TopLogprobs is the number of alternatives asked for (default 20, the
	// OpenAI maximum and vLLM's default --max-logprobs).
	TopLogprobs int
}

// JudgeInput is what the judge reads about one candidate.
type JudgeInput struct {
	Problem string
	Patch   string
	// Trajectory is the agent's work, oldest first; optional.
	Trajectory []Step
}

// StepKind classifies a trajectory step; reasoning is dropped first.
type StepKind string

// Kinds of trajectory steps.
const (
	StepReasoning   StepKind = "reasoning"
	StepAction      StepKind = "action"
	StepObservation StepKind = "observation"
)

// Step is one step of an agent's trajectory.
type Step struct {
	Kind StepKind `json:"kind"`
	Text string   `json:"text"`
}

// Score is a judge's verdict on one candidate.
type Score struct {
	// PYes is P(YES) in [0, 1]: scoring.Candidate.Verifier.
	PYes float64 `json:"p_yes"`
	// LogprobYes and LogprobNo are l_yes and l_no.
	LogprobYes float64 `json:"logprob_yes"`
	LogprobNo  float64 `json:"logprob_no"`
	// StepsOmitted counts trajectory steps left out to fit the context.
	StepsOmitted int `json:"steps_omitted,omitempty"`
}

// Score asks the judge about one candidate: one request of one output token.
func (j *Judge) Score(ctx context.Context, in JudgeInput) (Score, error) {
	budget := j.ContextTokens
	if budget <= 0 {
		budget = 30000
	}
	top := j.TopLogprobs
	if top <= 0 {
		top = 20
	}
	fixed := estimateTokens(ChatRequest{Messages: judgePrompt(in.Problem, in.Patch, "")})
	// The trajectory's framing (its tag and heading) costs about 30 tokens.
	trajectory, omitted := fitTrajectory(in.Trajectory, budget-fixed-30)
	resp, err := j.Model.Complete(ctx, ChatRequest{
		Messages:    judgePrompt(in.Problem, in.Patch, trajectory),
		MaxTokens:   1,
		Temperature: 0,
		Logprobs:    true,
		TopLogprobs: top,
	})
	if err != nil {
		return Score{}, fmt.Errorf("judge: %w", err)
	}
	s, err := yesNo(resp)
	if err != nil {
		return Score{}, fmt.Errorf("judge: %w", err)
	}
	s.StepsOmitted = omitted
	return s, nil
}

// yesNo computes P(YES) from the first generated token's alternatives.
func yesNo(resp ChatResponse) (Score, error) {
	if len(resp.Choices) == 0 {
		return Score{}, fmt.Errorf("%w: the answer has no choices", ErrNoLogprobs)
	}
	ch := resp.Choices[0]
	if ch.Logprobs == nil || len(ch.Logprobs.Content) == 0 {
		return Score{}, fmt.Errorf("%w: the endpoint must support logprobs and top_logprobs (vLLM: --max-logprobs 20 or more)", ErrNoLogprobs)
	}
	first := ch.Logprobs.Content[0]
	alts := append([]TopLogprob{{Token: first.Token, Logprob: first.Logprob}}, first.TopLogprobs...)
	var yes, no []float64
	seen := map[string]bool{}
	for _, a := range alts {
		if seen[a.Token] {
			continue
		}
		seen[a.Token] = true
		switch answerWord(a.Token) {
		case "yes":
			yes = append(yes, a.Logprob)
		case "no":
			no = append(no, a.Logprob)
		}
	}
	if len(yes) == 0 || len(no) == 0 {
		missing := "YES"
		if len(yes) > 0 {
			missing = "NO"
		}
		var toks []string
		for _, a := range alts {
			toks = append(toks, fmt.Sprintf("%q", a.Token))
		}
		return Score{}, fmt.Errorf("%w: no %s among %s", ErrNoAnswerToken, missing, strings.Join(toks, " "))
	}
	ly, ln := logSumExp(yes), logSumExp(no)
	// exp(ly)/(exp(ly)+exp(ln)), written to stay finite for very negative logprobs.
	return Score{PYes: 1 / (1 + math.Exp(ln-ly)), LogprobYes: ly, LogprobNo: ln}, nil
}

// answerWord normalizes a token: whitespace and tokenizer space markers
// (SentencePiece "▁", byte-level BPE "Ġ") off, lower case.
func answerWord(tok string) string {
	t := strings.TrimSpace(tok)
	t = strings.TrimLeft(t, "▁Ġ")
	return strings.ToLower(strings.TrimSpace(t))
}

func logSumExp(xs []float64) float64 {
	m := math.Inf(-1)
	for _, x := range xs {
		m = max(m, x)
	}
	s := 0.0
	for _, x := range xs {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}

// fitTrajectory renders the steps within about budget tokens: it drops the
// oldest reasoning step while over budget, then the oldest step of any
// kind, and finally cuts the last step's head. It returns the text and the
// number of steps left out.
func fitTrajectory(steps []Step, budget int) (string, int) {
	if len(steps) == 0 {
		return "", 0
	}
	if budget <= 0 {
		return "", len(steps)
	}
	kept := make([]bool, len(steps))
	for i := range kept {
		kept[i] = true
	}
	// One note up front says what is missing; inline markers would cost a
	// line per dropped reasoning step.
	note := func(omitted int) string {
		if omitted == 0 {
			return ""
		}
		return fmt.Sprintf("[%d of %d steps omitted to fit, the oldest reasoning first]\n", omitted, len(steps))
	}
	render := func() string {
		var b strings.Builder
		n := 0
		for i := range steps {
			if !kept[i] {
				n++
			}
		}
		b.WriteString(note(n))
		for i, s := range steps {
			if kept[i] {
				fmt.Fprintf(&b, "[%s]\n%s\n", s.Kind, strings.TrimRight(s.Text, "\n"))
			}
		}
		return b.String()
	}
	omitted := 0
	for text := render(); tokensIn(text) > budget; text = render() {
		victim := -1
		last := len(steps) - 1
		for i, s := range steps {
			if kept[i] && s.Kind == StepReasoning && i != last {
				victim = i
				break
			}
		}
		if victim < 0 {
			for i := range steps {
				if kept[i] && i != last {
					victim = i
					break
				}
			}
		}
		if victim < 0 {
			// Only the last step is left: keep its tail.
			gapNote := note(omitted)
			head := fmt.Sprintf("[%s]\n[... start omitted ...]\n", steps[last].Kind)
			room := budget*bytesPerToken - len(head) - len(gapNote) - 1
			if room <= 0 {
				return "", len(steps)
			}
			body := strings.TrimRight(steps[last].Text, "\n")
			body = strings.ToValidUTF8(body[len(body)-min(room, len(body)):], "")
			return gapNote + head + body + "\n", omitted
		}
		kept[victim] = false
		omitted++
	}
	return render(), omitted
}
