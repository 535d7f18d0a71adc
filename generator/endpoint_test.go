package generator

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func ask(text string) ChatRequest {
	return ChatRequest{Messages: []Message{{Role: RoleUser, Content: text}}, MaxTokens: 16}
}

func TestNewEndpointWithoutURLIsErrNoEndpoint(t *testing.T) {
	_, err := NewEndpoint(Config{Model: "m"})
	if !errors.Is(err, ErrNoEndpoint) {
		t.Fatalf("err = %v, want ErrNoEndpoint", err)
	}
}

func TestNewEndpointRejects(t *testing.T) {
	t.Setenv("BP_EMPTY_KEY", "")
	for name, cfg := range map[string]Config{
		"no model":           {URL: "http://localhost:8000/v1"},
		"not http":           {URL: "localhost:8000/v1", Model: "m"},
		"named key is empty": {URL: "http://localhost:8000/v1", Model: "m", KeyEnv: "BP_EMPTY_KEY"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewEndpoint(cfg); err == nil || errors.Is(err, ErrNoEndpoint) {
				t.Fatalf("err = %v, want a configuration error", err)
			}
		})
	}
}

func TestCompleteSendsModelAndKey(t *testing.T) {
	t.Setenv("BP_TEST_KEY", "sk-test")
	f := newFakeLLM(t, script(reply{content: "hello"}))
	cfg := testConfig(f)
	cfg.KeyEnv = "BP_TEST_KEY"
	s := mustEndpoint(t, cfg).NewSession()
	resp, err := s.Complete(t.Context(), ask("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text() != "hello" {
		t.Errorf("text = %q", resp.Text())
	}
	if got := f.headers[0].Get("Authorization"); got != "Bearer sk-test" {
		t.Errorf("Authorization = %q", got)
	}
	if got := f.requests()[0].Model; got != "fake-coder" {
		t.Errorf("model = %q", got)
	}
	if got := s.Spent(); got.Requests != 1 || got.Tokens != 110 {
		t.Errorf("spent = %+v, want 1 request, 110 tokens", got)
	}
}

func TestCompleteWithoutKeySendsNoAuthorization(t *testing.T) {
	t.Setenv(DefaultKeyEnv, "")
	f := newFakeLLM(t, script(reply{content: "ok"}))
	if _, err := mustEndpoint(t, testConfig(f)).NewSession().Complete(t.Context(), ask("hi")); err != nil {
		t.Fatal(err)
	}
	if got := f.headers[0].Get("Authorization"); got != "" {
		t.Errorf("Authorization = %q, want none", got)
	}
}

func TestCompleteRetries(t *testing.T) {
	for _, tc := range []struct {
		name    string
		replies []reply
		calls   int
		wantErr string
	}{
		{"429 then success", []reply{{status: 429, header: map[string]string{"Retry-After": "0"}}, {content: "ok"}}, 2, ""},
		{"429 with retry-after-ms", []reply{{status: 429, header: map[string]string{"Retry-After-Ms": "1"}}, {content: "ok"}}, 2, ""},
		{"503 twice then success", []reply{{status: 503}, {status: 502}, {content: "ok"}}, 3, ""},
		{"500 until retries run out", []reply{{status: 500}}, 3, "answered 500"},
		{"400 is not retried", []reply{{status: 400, raw: `{"error":{"message":"context length exceeded"}}`}}, 1, "context length exceeded"},
		{"401 is not retried", []reply{{status: 401}}, 1, "API key"},
		{"not a chat completion", []reply{{raw: `<html>proxy</html>`}}, 1, "not a chat completion"},
		{"no choices", []reply{{raw: `{"choices":[]}`}}, 1, "no choices"},
		{"Retry-After beyond the retry time", []reply{{status: 429, header: map[string]string{"Retry-After": "3600"}}, {content: "ok"}}, 1, "answered 429"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeLLM(t, script(tc.replies...))
			cfg := testConfig(f)
			cfg.Retries = 2
			cfg.MaxRetryTime = time.Minute
			resp, err := mustEndpoint(t, cfg).NewSession().Complete(t.Context(), ask("hi"))
			if got := len(f.requests()); got != tc.calls {
				t.Errorf("requests = %d, want %d", got, tc.calls)
			}
			if tc.wantErr == "" {
				if err != nil || resp.Text() != "ok" {
					t.Fatalf("got %q, %v; want ok", resp.Text(), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestCompleteSlowAnswerTimesOut(t *testing.T) {
	f := newFakeLLM(t, script(reply{hang: true}))
	cfg := testConfig(f)
	cfg.Timeout = 50 * time.Millisecond
	cfg.Retries = 1
	s := mustEndpoint(t, cfg).NewSession()
	_, err := s.Complete(t.Context(), ask("hi"))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "--llm-timeout") {
		t.Fatalf("err = %v, want a timeout that names --llm-timeout", err)
	}
	if got := len(f.requests()); got != 2 {
		t.Errorf("requests = %d, want 2 (one retry)", got)
	}
	if got := s.Spent(); got.Requests != 1 || got.Tokens != 0 {
		t.Errorf("spent = %+v, want 1 request and no tokens", got)
	}
}

func TestCompleteStopsWhenTheJobIsCancelled(t *testing.T) {
	f := newFakeLLM(t, script(reply{status: 503}))
	cfg := testConfig(f)
	cfg.RetryWait = time.Hour
	ctx, cancel := context.WithCancel(t.Context())
	cfg.HTTPClient = &http.Client{Transport: cancelAfter{cancel: cancel}}
	_, err := mustEndpoint(t, cfg).NewSession().Complete(ctx, ask("hi"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// cancelAfter answers 503 and cancels the job, as a user pressing ^C while
// the client waits to retry.
type cancelAfter struct{ cancel context.CancelFunc }

func (c cancelAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.cancel()
	return &http.Response{StatusCode: 503, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
}

func TestCompleteCachesResponses(t *testing.T) {
	f := newFakeLLM(t, func(call int, req ChatRequest) reply { return reply{content: "answer to " + req.Messages[0].Content} })
	cfg := testConfig(f)
	cfg.CacheDir = t.TempDir()

	s := mustEndpoint(t, cfg).NewSession()
	for range 3 {
		resp, err := s.Complete(t.Context(), ask("a"))
		if err != nil || resp.Text() != "answer to a" {
			t.Fatalf("got %q, %v", resp.Text(), err)
		}
	}
	if _, err := s.Complete(t.Context(), ask("b")); err != nil {
		t.Fatal(err)
	}
	if got := len(f.requests()); got != 2 {
		t.Errorf("requests = %d, want 2 (a once, b once)", got)
	}
	if got := s.Spent(); got.Requests != 2 || got.Cached != 2 {
		t.Errorf("spent = %+v, want 2 requests and 2 cached", got)
	}

	// A new process with the same cache directory sends nothing.
	s2 := mustEndpoint(t, cfg).NewSession()
	for _, q := range []string{"a", "b"} {
		if resp, err := s2.Complete(t.Context(), ask(q)); err != nil || resp.Text() != "answer to "+q {
			t.Fatalf("got %q, %v", resp.Text(), err)
		}
	}
	if got := len(f.requests()); got != 2 {
		t.Errorf("requests after restart = %d, want still 2", got)
	}
	if got := s2.Spent(); got.Requests != 0 || got.Tokens != 0 || got.Cached != 2 {
		t.Errorf("spent after restart = %+v, want nothing but 2 cached", got)
	}
}

func TestCacheKeyIsTheCanonicalRequest(t *testing.T) {
	seed := int64(1)
	a := ask("x")
	b := ask("x")
	c := ask("x")
	c.Seed = &seed
	_, ka, _ := requestKey(a)
	_, kb, _ := requestKey(b)
	_, kc, _ := requestKey(c)
	if ka != kb || ka == kc || len(ka) != 64 {
		t.Errorf("keys a=%s b=%s c=%s: want a == b != c, 64 hex digits", ka, kb, kc)
	}
}

func TestBudget(t *testing.T) {
	for _, tc := range []struct {
		name     string
		limits   Limits
		resource string
		okCalls  int
	}{
		{"requests", Limits{Requests: 2}, "requests", 2},
		// Each request is estimated at 1+4+16 = 21 tokens and uses 110.
		{"tokens", Limits{Tokens: 120}, "tokens", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeLLM(t, script(reply{content: "ok"}))
			s := mustEndpoint(t, testConfig(f)).NewSessionWithBudget(tc.limits)
			var err error
			calls := 0
			for i := range 5 {
				if _, err = s.Complete(t.Context(), ask(string(rune('a'+i)))); err != nil {
					break
				}
				calls++
			}
			var be *BudgetError
			if !errors.Is(err, ErrBudgetExceeded) || !errors.As(err, &be) || be.Resource != tc.resource {
				t.Fatalf("err = %v, want a %s BudgetError", err, tc.resource)
			}
			if calls != tc.okCalls || len(f.requests()) != tc.okCalls {
				t.Errorf("answered %d, sent %d; want %d", calls, len(f.requests()), tc.okCalls)
			}
			// A cached answer is free even when the budget is spent.
			if _, err := s.Complete(t.Context(), ask("a")); err != nil {
				t.Errorf("cached request refused: %v", err)
			}
		})
	}
}

func TestBudgetIsPerSession(t *testing.T) {
	f := newFakeLLM(t, script(reply{content: "ok"}))
	e := mustEndpoint(t, testConfig(f))
	one, two := e.NewSessionWithBudget(Limits{Requests: 1}), e.NewSessionWithBudget(Limits{Requests: 1})
	if _, err := one.Complete(t.Context(), ask("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := two.Complete(t.Context(), ask("b")); err != nil {
		t.Fatalf("the second job's budget was charged for the first's request: %v", err)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	const limit, total = 2, 6
	var (
		mu       sync.Mutex
		inflight int
		peak     int
	)
	arrived := make(chan struct{}, total)
	release := make(chan struct{})
	f := newFakeLLM(t, func(int, ChatRequest) reply { return reply{content: "ok"} })
	inner := f.srv.Config.Handler
	f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inflight++
		peak = max(peak, inflight)
		mu.Unlock()
		arrived <- struct{}{}
		<-release
		inner.ServeHTTP(w, r)
		mu.Lock()
		inflight--
		mu.Unlock()
	})
	cfg := testConfig(f)
	cfg.Concurrency = limit
	s := mustEndpoint(t, cfg).NewSession()
	var wg sync.WaitGroup
	for i := range total {
		wg.Go(func() {
			if _, err := s.Complete(t.Context(), ask(string(rune('a'+i)))); err != nil {
				t.Error(err)
			}
		})
	}
	for range total {
		<-arrived
		release <- struct{}{}
	}
	wg.Wait()
	if peak > limit {
		t.Errorf("peak in flight = %d, want at most %d", peak, limit)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		header map[string]string
		want   time.Duration
		ok     bool
	}{
		{map[string]string{"Retry-After": "7"}, 7 * time.Second, true},
		{map[string]string{"Retry-After": "0.5"}, 500 * time.Millisecond, true},
		{map[string]string{"Retry-After": now.Add(30 * time.Second).Format(http.TimeFormat)}, 30 * time.Second, true},
		{map[string]string{"Retry-After": now.Add(-time.Hour).Format(http.TimeFormat)}, 0, true},
		{map[string]string{"Retry-After-Ms": "250", "Retry-After": "9"}, 250 * time.Millisecond, true},
		{map[string]string{"Retry-After": "soon"}, 0, false},
		{map[string]string{}, 0, false},
	} {
		h := http.Header{}
		for k, v := range tc.header {
			h.Set(k, v)
		}
		got, ok := retryAfter(h, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("retryAfter(%v) = %v, %v; want %v, %v", tc.header, got, ok, tc.want, tc.ok)
		}
	}
}
