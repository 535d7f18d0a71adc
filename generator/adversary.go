package generator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/outcome"
)

// Adversary writes a test that tells two candidates apart, for an
// adversarial round: when the top candidates tie on every execution signal
// but their normalized patches differ. The selector runs the test on base
// and on both candidates, and re-scores.
type Adversary struct {
	Model Model
	// Repairs bounds repair requests for a test that cannot run as written
	// (a Go syntax error, no test function); default 1, negative for none.
	// Compile errors seen only in a run are the caller's: pass them back as
	// DistinguishInput.Feedback.
	Repairs int
	// Temperature (default 0.6) and MaxTokens (default 4096) of the request.
	Temperature float64
	MaxTokens   int
	// IDPrefix starts the test IDs (default "adv").
	IDPrefix string
}

// DistinguishInput is what the model is shown to tell two patches apart.
type DistinguishInput struct {
	Problem string
	Context Context
	// A and B are the two candidates' patches (shown as "A" and "B").
	A, B string
	// Round (1-based) names the test and seeds the request, so that a later
	// round asks anew instead of hitting the cache.
	Round int
	// Feedback says why the previous round's test failed (it did not compile,
	// with the build output; or both candidates gave the same outcomes).
	Feedback string
}

// Distinguish asks for one test that passes with one patch and fails with
// the other. The test's ID is PREFIX-ROUND-HASH, HASH naming the pair, so
// tests of several pairs in one round do not collide. Errors wrap
// ErrMalformed when the answer holds no usable test, and the request's error
// (errors.Is ErrBudgetExceeded, a *StatusError) when the request failed.
func (a *Adversary) Distinguish(ctx context.Context, in DistinguishInput) (Test, error) {
	if err := in.Context.Language.check(); err != nil {
		return Test{}, err
	}
	prefix := a.IDPrefix
	if prefix == "" {
		prefix = "adv"
	}
	au := author{model: a.Model, temperature: a.Temperature, maxTokens: a.MaxTokens}
	if au.temperature == 0 {
		au.temperature = 0.6
	}
	if au.maxTokens <= 0 {
		au.maxTokens = 4096
	}
	repairs := a.Repairs
	switch {
	case repairs == 0:
		repairs = 1
	case repairs < 0:
		repairs = 0
	}
	pair := sha256.Sum256([]byte(in.A + "\x00" + in.B))
	d := &draft{
		id:   fmt.Sprintf("%s-%d-%s", prefix, in.Round, hex.EncodeToString(pair[:4])),
		seed: int64(in.Round),
		conv: distinguishPrompt(in),
	}
	err := au.write(ctx, d, in.Context)
	for errors.Is(err, errNotRunnable) && d.repairs < repairs {
		err = au.repair(ctx, d, in.Context, strings.TrimPrefix(err.Error(), errNotRunnable.Error()+": "), "")
	}
	if err != nil {
		return Test{}, fmt.Errorf("adversarial test %s: %w", d.id, err)
	}
	return d.test, nil
}

// Separates reports whether the test's cases end differently in two runs
// (one PASS where the other FAILs), i.e. whether it told the two
// candidates apart. Cases that did not run in either are not evidence.
func (t Test) Separates(a, b executor.Result) bool {
	outcomes := func(r executor.Result) map[string]outcome.Outcome {
		m := map[string]outcome.Outcome{}
		for _, c := range t.Cases(r) {
			m[c.ID] = c.Outcome
		}
		return m
	}
	oa, ob := outcomes(a), outcomes(b)
	for id, x := range oa {
		y, ok := ob[id]
		if ok && (x == outcome.Pass && y == outcome.Fail || x == outcome.Fail && y == outcome.Pass) {
			return true
		}
	}
	return false
}
