package generator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	"golang.org/x/sync/singleflight"
)

// maxResponseBytes bounds a response body; a chat completion is far smaller.
const maxResponseBytes = 32 << 20

// Endpoint is one OpenAI-compatible chat-completion endpoint, shared by all
// jobs of a process: it holds the HTTP client, the concurrency limit and the
// response cache. Jobs use it through a Session.
type Endpoint struct {
	cfg    Config
	url    string
	key    string
	slots  chan struct{}
	cache  *responseCache
	flight singleflight.Group
}

// NewEndpoint checks the configuration and prepares the endpoint. It sends
// nothing. Without cfg.URL it returns ErrNoEndpoint.
func NewEndpoint(cfg Config) (*Endpoint, error) {
	if strings.TrimSpace(cfg.URL) == "" {
		return nil, ErrNoEndpoint
	}
	explicitKeyEnv := cfg.KeyEnv != ""
	cfg = cfg.withDefaults()
	if cfg.Model == "" {
		return nil, fmt.Errorf("model endpoint %s: no model name: set --llm-model to the served model (vLLM: the --served-model-name)", cfg.URL)
	}
	if !strings.HasPrefix(cfg.URL, "http://") && !strings.HasPrefix(cfg.URL, "https://") {
		return nil, fmt.Errorf("model endpoint %q: want an http:// or https:// base URL such as http://localhost:8000/v1", cfg.URL)
	}
	key := os.Getenv(cfg.KeyEnv)
	if key == "" && explicitKeyEnv && cfg.KeyEnv != DefaultKeyEnv {
		return nil, fmt.Errorf("model endpoint %s: the API key variable %s is empty: export it, or drop --llm-key-env for an endpoint without a key", cfg.URL, cfg.KeyEnv)
	}
	cache, err := newResponseCache(cfg.CacheDir, cfg.MemoryCacheEntries)
	if err != nil {
		return nil, err
	}
	return &Endpoint{
		cfg:   cfg,
		url:   strings.TrimRight(cfg.URL, "/") + "/chat/completions",
		key:   key,
		slots: make(chan struct{}, cfg.Concurrency),
		cache: cache,
	}, nil
}

// Model is the served model name requests are sent with.
func (e *Endpoint) Model() string { return e.cfg.Model }

// NewSession starts one job's use of the endpoint with the configured budget.
func (e *Endpoint) NewSession() *Session { return e.NewSessionWithBudget(e.cfg.Budget) }

// NewSessionWithBudget starts one job's use of the endpoint with its own limits.
func (e *Endpoint) NewSessionWithBudget(l Limits) *Session {
	return &Session{endpoint: e, budget: &budget{limits: l}}
}

// Session is one job's use of an endpoint: every request it sends is
// charged to the job's budget. Safe for concurrent use.
type Session struct {
	endpoint *Endpoint
	budget   *budget
}

// Spent reports what the session has used so far.
func (s *Session) Spent() Spent { return s.budget.snapshot() }

// Complete answers a chat request: from the cache when the same request was
// answered before (free), else from the endpoint, within the job's budget
// (a *BudgetError, errors.Is ErrBudgetExceeded, when it would be crossed),
// the endpoint's concurrency limit, and bounded retries.
func (s *Session) Complete(ctx context.Context, req ChatRequest) (ChatResponse, error) {
	e := s.endpoint
	if req.Model == "" {
		req.Model = e.cfg.Model
	}
	body, key, err := requestKey(req)
	if err != nil {
		return ChatResponse{}, err
	}
	// Concurrent identical requests (the same patch judged for two jobs)
	// share one answer. An error that belongs to the session that sent it
	// (its budget, its context) is not shared: the others try themselves.
	for try := 0; ; try++ {
		// ran is written by the flight's goroutine before it sends on ch.
		ran := false
		ch := e.flight.DoChan(key, func() (any, error) {
			ran = true
			return s.fetch(ctx, key, body, req)
		})
		var r singleflight.Result
		select {
		case r = <-ch:
		case <-ctx.Done():
			return ChatResponse{}, fmt.Errorf("chat completion at %s: %w", e.url, context.Cause(ctx))
		}
		if r.Err == nil {
			if !ran {
				s.budget.cached()
			}
			return r.Val.(ChatResponse), nil
		}
		if ran || try > 0 || ctx.Err() != nil {
			return ChatResponse{}, r.Err
		}
	}
}

func (s *Session) fetch(ctx context.Context, key string, body []byte, req ChatRequest) (ChatResponse, error) {
	e := s.endpoint
	if raw, ok := e.cache.get(key); ok {
		if resp, err := decodeResponse(raw); err == nil {
			s.budget.cached()
			return resp, nil
		}
		e.cache.forget(key)
	}
	estimate := estimateTokens(req)
	settle, err := s.budget.reserve(estimate)
	if err != nil {
		return ChatResponse{}, err
	}
	raw, resp, err := e.send(ctx, body)
	if err != nil {
		// The tokens of a failed request are unknown; nothing came back.
		settle(0)
		return ChatResponse{}, err
	}
	settle(tokensUsed(req, resp))
	// A cache that cannot write (disk full) only costs a re-run; the
	// directory was checked when the endpoint was made.
	_ = e.cache.put(key, raw)
	return resp, nil
}

// tokensUsed is the server's count, or an estimate when it sent none.
func tokensUsed(req ChatRequest, resp ChatResponse) int {
	if u := resp.Usage; u != nil {
		if u.TotalTokens > 0 {
			return u.TotalTokens
		}
		if u.PromptTokens+u.CompletionTokens > 0 {
			return u.PromptTokens + u.CompletionTokens
		}
	}
	n := estimateTokens(req) - req.MaxTokens
	for _, c := range resp.Choices {
		n += tokensIn(c.Message.Content)
	}
	return n
}

func decodeResponse(raw []byte) (ChatResponse, error) {
	var resp ChatResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		return ChatResponse{}, fmt.Errorf("the answer is not a chat completion: %w", err)
	}
	if len(resp.Choices) == 0 {
		return ChatResponse{}, errors.New("the answer has no choices")
	}
	return resp, nil
}

// StatusError is an HTTP answer other than 200 from the endpoint.
type StatusError struct {
	URL  string
	Code int
	// Message is the server's error message (OpenAI's error.message, or the
	// start of the body).
	Message string
	// retryAfter carries a 429's Retry-After to the backoff loop.
	retryAfter *backoff.RetryAfterError
}

func (e *StatusError) Error() string {
	hint := ""
	switch {
	case e.Code == http.StatusUnauthorized || e.Code == http.StatusForbidden:
		hint = ": check the API key (the variable named by --llm-key-env, default OPENAI_API_KEY)"
	case e.Code == http.StatusNotFound:
		hint = ": check --llm-url (the base URL, usually ending in /v1) and --llm-model"
	case e.Code == http.StatusTooManyRequests:
		hint = ": the endpoint is rate-limiting; lower --llm-concurrency"
	case e.Code >= 500:
		hint = ": the endpoint failed; check its logs"
	}
	return fmt.Sprintf("model endpoint %s answered %d %s: %s%s", e.URL, e.Code, http.StatusText(e.Code), e.Message, hint)
}

// Unwrap exposes the Retry-After to the retry loop.
func (e *StatusError) Unwrap() error {
	if e.retryAfter == nil {
		return nil
	}
	return e.retryAfter
}

// send posts the request, retrying 408, 429 (after its Retry-After), 5xx,
// attempt timeouts and connection errors with exponential backoff.
func (e *Endpoint) send(ctx context.Context, body []byte) ([]byte, ChatResponse, error) {
	type answer struct {
		raw  []byte
		resp ChatResponse
	}
	attempts := 0
	expo := backoff.NewExponentialBackOff()
	expo.InitialInterval = e.cfg.RetryWait
	expo.MaxInterval = max(e.cfg.RetryWait, time.Minute)
	a, err := backoff.Retry(ctx, func() (answer, error) {
		attempts++
		raw, resp, err := e.attempt(ctx, body)
		return answer{raw, resp}, err
	}, backoff.WithBackOff(expo),
		backoff.WithMaxTries(uint(e.cfg.Retries)+1),
		backoff.WithMaxElapsedTime(e.cfg.MaxRetryTime))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ChatResponse{}, fmt.Errorf("chat completion at %s: %w", e.url, context.Cause(ctx))
		}
		return nil, ChatResponse{}, fmt.Errorf("chat completion (%d attempts): %w", attempts, err)
	}
	return a.raw, a.resp, nil
}

// attempt is one HTTP exchange. Errors not worth retrying are wrapped in
// backoff.Permanent.
func (e *Endpoint) attempt(ctx context.Context, body []byte) ([]byte, ChatResponse, error) {
	select {
	case e.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ChatResponse{}, backoff.Permanent(context.Cause(ctx))
	}
	defer func() { <-e.slots }()

	actx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return nil, ChatResponse{}, backoff.Permanent(fmt.Errorf("model endpoint %s: %w", e.url, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if e.key != "" {
		req.Header.Set("Authorization", "Bearer "+e.key)
	}
	res, err := e.cfg.HTTPClient.Do(req)
	var raw []byte
	if err == nil {
		raw, err = io.ReadAll(io.LimitReader(res.Body, maxResponseBytes))
		res.Body.Close()
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ChatResponse{}, backoff.Permanent(context.Cause(ctx))
		}
		if actx.Err() != nil {
			return nil, ChatResponse{}, fmt.Errorf("model endpoint %s sent no complete answer within %s (raise --llm-timeout): %w",
				e.url, e.cfg.Timeout, context.DeadlineExceeded)
		}
		return nil, ChatResponse{}, fmt.Errorf("model endpoint %s: %w", e.url, err)
	}
	if res.StatusCode != http.StatusOK {
		serr := &StatusError{URL: e.url, Code: res.StatusCode, Message: errorMessage(raw)}
		switch {
		case res.StatusCode == http.StatusTooManyRequests:
			if d, ok := retryAfter(res.Header, time.Now()); ok {
				serr.retryAfter = &backoff.RetryAfterError{Duration: d}
			}
			return nil, ChatResponse{}, serr
		case res.StatusCode == http.StatusRequestTimeout || res.StatusCode >= 500:
			return nil, ChatResponse{}, serr
		default:
			return nil, ChatResponse{}, backoff.Permanent(serr)
		}
	}
	resp, err := decodeResponse(raw)
	if err != nil {
		return nil, ChatResponse{}, backoff.Permanent(fmt.Errorf("model endpoint %s: %w: %s", e.url, err, clip(string(raw), 300)))
	}
	return raw, resp, nil
}

// retryAfter reads retry-after-ms (OpenAI, vLLM behind some proxies) or
// Retry-After (seconds or an HTTP date).
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// errorMessage extracts the server's message from an error body: OpenAI's
// {"error":{"message"}}, vLLM's {"message"} or FastAPI's {"detail"}.
func errorMessage(raw []byte) string {
	var b struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  any             `json:"detail"`
	}
	if json.Unmarshal(raw, &b) == nil {
		var nested struct {
			Message string `json:"message"`
		}
		var flat string
		switch {
		case json.Unmarshal(b.Error, &nested) == nil && nested.Message != "":
			return clip(nested.Message, 500)
		case json.Unmarshal(b.Error, &flat) == nil && flat != "":
			return clip(flat, 500)
		case b.Message != "":
			return clip(b.Message, 500)
		case b.Detail != nil:
			return clip(fmt.Sprint(b.Detail), 500)
		}
	}
	if s := strings.TrimSpace(string(raw)); s != "" {
		return clip(s, 500)
	}
	return "(empty body)"
}

// clip shortens s to at most n bytes, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
