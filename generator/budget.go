package generator

import (
	"errors"
	"fmt"
	"sync"
)

// ErrBudgetExceeded is the errors.Is target of every *BudgetError.
var ErrBudgetExceeded = errors.New("model budget exceeded")

// Limits bound one job's use of the endpoint. Zero means no limit.
type Limits struct {
	// Requests bounds the requests sent to the endpoint (cache hits are free;
	// retries of one request count once).
	Requests int
	// Tokens bounds prompt plus completion tokens as the server reports them.
	Tokens int
}

// Spent is what a Session has used so far.
type Spent struct {
	// Requests sent to the endpoint (cache misses).
	Requests int `json:"requests"`
	// Tokens the server counted (prompt + completion); the estimate when
	// the server reported no usage.
	Tokens int `json:"tokens"`
	// Cached counts requests answered from the cache at no cost.
	Cached int `json:"cached"`
}

// BudgetError says which limit a request would have crossed. It is
// errors.Is(err, ErrBudgetExceeded).
type BudgetError struct {
	// Resource is "requests" or "tokens".
	Resource string
	Limit    int
	// Spent is the amount used (and reserved by requests in flight) when the
	// request was refused; Need is what the request would have added.
	Spent, Need int
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("the job's model budget of %d %s is spent (%d used, the next request needs about %d): raise --llm-budget-%s or use fewer generator features",
		e.Limit, e.Resource, e.Spent, e.Need, e.Resource)
}

// Is makes errors.Is(err, ErrBudgetExceeded) true.
func (e *BudgetError) Is(target error) bool { return target == ErrBudgetExceeded }

// budget accounts one job's requests. Tokens are reserved before a request
// (an estimate: prompt bytes / 3 plus max_tokens) so that concurrent requests
// cannot together overshoot the limit, then settled at the reported usage.
type budget struct {
	mu       sync.Mutex
	limits   Limits
	spent    Spent
	reserved int
}

// reserve admits a request estimated at `estimate` tokens or refuses it with
// a *BudgetError. The returned settle must be called once with the tokens
// actually used.
func (b *budget) reserve(estimate int) (settle func(used int), err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.limits.Requests > 0 && b.spent.Requests+1 > b.limits.Requests {
		return nil, &BudgetError{Resource: "requests", Limit: b.limits.Requests, Spent: b.spent.Requests, Need: 1}
	}
	if b.limits.Tokens > 0 && b.spent.Tokens+b.reserved+estimate > b.limits.Tokens {
		return nil, &BudgetError{Resource: "tokens", Limit: b.limits.Tokens, Spent: b.spent.Tokens + b.reserved, Need: estimate}
	}
	b.spent.Requests++
	b.reserved += estimate
	var once sync.Once
	return func(used int) {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.reserved -= estimate
			b.spent.Tokens += used
		})
	}, nil
}

func (b *budget) cached() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.spent.Cached++
}

func (b *budget) snapshot() Spent {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.spent
}

// bytesPerToken is the estimate's ratio. Measured on this package's prompts
// with the cl100k_base and o200k_base tokenizers: 2.4 (Go test code) to 3.9
// (English) bytes a token, 2.9 for a whole test-writing prompt; 3 errs on the
// side of reserving too much, which a budget and a context window want.
const bytesPerToken = 3

// tokensIn estimates the tokens of a text.
func tokensIn(s string) int { return (len(s) + bytesPerToken - 1) / bytesPerToken }

// estimateTokens is a deliberately rough token count for reservations: the
// messages' text, a few tokens of framing per message, and the whole answer
// allowance.
func estimateTokens(req ChatRequest) int {
	n := 0
	for _, m := range req.Messages {
		n += tokensIn(m.Content) + 4
	}
	return n + req.MaxTokens
}
