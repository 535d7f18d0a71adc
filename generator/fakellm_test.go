package generator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// reply is one scripted answer of the fake endpoint.
type reply struct {
	status   int               // default 200
	header   map[string]string // extra response headers
	content  string            // the assistant message
	logprobs *ChoiceLogprobs
	usage    *Usage
	raw      string // a body sent as is, instead of a chat completion
	hang     bool   // never answer: block until the client gives up
}

// fakeLLM is an OpenAI-compatible chat-completion server that answers from a
// script. It records every request it received.
type fakeLLM struct {
	t      *testing.T
	answer func(call int, req ChatRequest) reply
	srv    *httptest.Server

	mu      sync.Mutex
	calls   []ChatRequest
	headers []http.Header
}

func newFakeLLM(t *testing.T, answer func(call int, req ChatRequest) reply) *fakeLLM {
	t.Helper()
	f := &fakeLLM{t: t, answer: answer}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// script answers the n-th request with replies[n] (the last one repeats).
func script(replies ...reply) func(int, ChatRequest) reply {
	return func(call int, _ ChatRequest) reply { return replies[min(call, len(replies)-1)] }
}

func (f *fakeLLM) url() string { return f.srv.URL + "/v1" }

func (f *fakeLLM) requests() []ChatRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ChatRequest(nil), f.calls...)
}

func (f *fakeLLM) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		http.Error(w, `{"error":{"message":"no such route"}}`, http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req ChatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	n := len(f.calls)
	f.calls = append(f.calls, req)
	f.headers = append(f.headers, r.Header.Clone())
	f.mu.Unlock()

	rep := f.answer(n, req)
	if rep.hang {
		<-r.Context().Done()
		return
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	if rep.status != 0 && rep.status != http.StatusOK {
		w.WriteHeader(rep.status)
		if rep.raw != "" {
			io.WriteString(w, rep.raw)
		} else {
			fmt.Fprintf(w, `{"error":{"message":"scripted %d"}}`, rep.status)
		}
		return
	}
	if rep.raw != "" {
		io.WriteString(w, rep.raw)
		return
	}
	usage := rep.usage
	if usage == nil {
		usage = &Usage{PromptTokens: 100, CompletionTokens: 10, TotalTokens: 110}
	}
	resp := ChatResponse{
		ID:    fmt.Sprintf("cmpl-%d", n),
		Model: req.Model,
		Choices: []Choice{{
			Message:      Message{Role: RoleAssistant, Content: rep.content},
			FinishReason: "stop",
			Logprobs:     rep.logprobs,
		}},
		Usage: usage,
	}
	json.NewEncoder(w).Encode(resp)
}

// testConfig is a configuration for the fake endpoint with fast retries.
func testConfig(f *fakeLLM) Config {
	return Config{URL: f.url(), Model: "fake-coder", RetryWait: 1e6 /* 1ms */}
}

func mustEndpoint(t *testing.T, cfg Config) *Endpoint {
	t.Helper()
	e, err := NewEndpoint(cfg)
	if err != nil {
		t.Fatalf("NewEndpoint: %v", err)
	}
	return e
}
