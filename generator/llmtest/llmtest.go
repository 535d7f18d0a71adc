// Package llmtest serves a scripted OpenAI-compatible chat-completion
// endpoint for the tests of code that asks a model through package
// generator (the selector, the daemon): the real HTTP client talks to it,
// and it records every request, so a test can prove what was asked.
//
// Package generator's own tests keep an in-package fake with scripted
// failures (they cannot import this package: it imports generator).
package llmtest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/bestpatch/bestpatch/generator"
)

// Model is the model name the server answers as.
const Model = "llmtest-model"

// Reply is one scripted answer.
type Reply struct {
	// Content is the assistant message.
	Content string
	// PYes, when set, makes the first generated token carry YES and NO
	// alternatives with these probabilities (the judge's answer).
	PYes *float64
	// Hang, when set, answers nothing: the request waits until the client
	// gives up.
	Hang bool
}

// Yes is a judge's answer with P(YES) = p.
func Yes(p float64) Reply { return Reply{Content: "YES", PYes: &p} }

// Server is a scripted OpenAI-compatible endpoint.
type Server struct {
	srv    *httptest.Server
	answer func(call int, req generator.ChatRequest) Reply

	mu    sync.Mutex
	calls []generator.ChatRequest
}

// NewServer starts a server that answers the n-th request (from 0) with
// answer(n, request); it is closed when the test ends.
func NewServer(t testing.TB, answer func(call int, req generator.ChatRequest) Reply) *Server {
	t.Helper()
	s := &Server{answer: answer}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the endpoint's base URL, the part before /chat/completions.
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// Config is a generator configuration for this server.
func (s *Server) Config() generator.Config {
	return generator.Config{URL: s.URL(), Model: Model, KeyEnv: ""}
}

// Endpoint connects a generator.Endpoint to this server.
func (s *Server) Endpoint(t testing.TB) *generator.Endpoint {
	t.Helper()
	ep, err := generator.NewEndpoint(s.Config())
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []generator.ChatRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]generator.ChatRequest(nil), s.calls...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		http.Error(w, `{"error":{"message":"no such route"}}`, http.StatusNotFound)
		return
	}
	var req generator.ChatRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, fmt.Sprintf(`{"error":{"message":%q}}`, err.Error()), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	n := len(s.calls)
	s.calls = append(s.calls, req)
	s.mu.Unlock()

	rep := s.answer(n, req)
	if rep.Hang {
		<-r.Context().Done()
		return
	}
	choice := generator.Choice{Message: generator.Message{Role: generator.RoleAssistant, Content: rep.Content}, FinishReason: "stop"}
	if rep.PYes != nil {
		yes, no := math.Log(max(*rep.PYes, 1e-9)), math.Log(max(1-*rep.PYes, 1e-9))
		choice.Logprobs = &generator.ChoiceLogprobs{Content: []generator.TokenLogprob{{
			Token: "YES", Logprob: yes,
			TopLogprobs: []generator.TopLogprob{{Token: "YES", Logprob: yes}, {Token: "NO", Logprob: no}},
		}}}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(generator.ChatResponse{
		ID: fmt.Sprintf("cmpl-%d", n), Model: Model, Choices: []generator.Choice{choice},
		Usage: &generator.Usage{PromptTokens: 100, CompletionTokens: 50, TotalTokens: 150},
	})
}
