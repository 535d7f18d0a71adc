package generator

import (
	"context"
	"errors"
	"fmt"
)

// Model answers chat-completion requests. *Session implements it.
type Model interface {
	Complete(ctx context.Context, req ChatRequest) (ChatResponse, error)
}

// draft is one test being written: the conversation so far and the test
// its last answer held.
type draft struct {
	id      string
	seed    int64
	conv    []Message
	test    Test
	repairs int
}

// author turns conversations into test files; TestWriter and Adversary
// share it.
type author struct {
	model       Model
	temperature float64
	maxTokens   int
}

// errAsk marks a request that failed (endpoint, budget, context): nothing
// is wrong with the test, there is no test.
var errAsk = errors.New("model request failed")

// write sends the draft's conversation and reads the test file out of the
// answer. Errors: errAsk (the request failed), ErrMalformed (no usable file:
// reported, not guessed), errNotRunnable (the file cannot run as written:
// worth a repair).
func (a author) write(ctx context.Context, d *draft, c Context) error {
	seed := d.seed
	resp, err := a.model.Complete(ctx, ChatRequest{
		Messages:    d.conv,
		MaxTokens:   a.maxTokens,
		Temperature: a.temperature,
		Seed:        &seed,
	})
	if err != nil {
		return fmt.Errorf("%w: %w", errAsk, err)
	}
	if len(resp.Choices) == 0 {
		return fmt.Errorf("%w: the answer has no choices", errAsk)
	}
	answer := resp.Text()
	d.conv = append(d.conv, Message{Role: RoleAssistant, Content: answer})
	f, err := ExtractTestFile(answer, c.Language, d.test.Path)
	if err != nil {
		if resp.Choices[0].FinishReason == "length" {
			return fmt.Errorf("%w (the answer was cut off at %d tokens)", err, a.maxTokens)
		}
		return err
	}
	if c.exists(f.Path) {
		return fmt.Errorf("%w: %s already exists in the repository; the test must be a new file", errNotRunnable, f.Path)
	}
	t, err := newTest(d.id, c, f)
	// Later answers in this conversation keep the path.
	d.test.Path = f.Path
	if err != nil {
		return err
	}
	d.test = t
	return nil
}

// repair asks the model to fix the draft's test, explaining why it cannot
// run.
func (a author) repair(ctx context.Context, d *draft, c Context, why, output string) error {
	d.repairs++
	d.conv = append(d.conv, repairPrompt(why, output, c.Language))
	return a.write(ctx, d, c)
}
