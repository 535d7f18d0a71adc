package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/generator"
	"github.com/bestpatch/bestpatch/generator/llmtest"
	"github.com/bestpatch/bestpatch/selector"
)

// TestModelEndpointFlags: --llm-url wins over $OPENAI_BASE_URL, which
// stands in for it as the OpenAI clients read it; the environment's URL
// without --llm-model is no endpoint (a shell that has it for other tools
// must not break select) but asking for model work then says what is
// missing; --llm-model without any URL is an error.
func TestModelEndpointFlags(t *testing.T) {
	judge := selector.Options{Judge: true}
	for _, tc := range []struct {
		name, env, url, model string
		wantURL               string // "" : no endpoint
		wantErr               string // from models
		wantWorkErr           string // from checkModelWork with --judge
	}{
		{name: "nothing", wantWorkErr: "give --llm-url URL (or set OPENAI_BASE_URL) and --llm-model NAME"},
		{name: "flags", url: "http://flag/v1", model: "m", wantURL: "http://flag/v1"},
		{name: "environment", env: "http://env/v1", model: "m", wantURL: "http://env/v1"},
		{name: "flag over environment", env: "http://env/v1", url: "http://flag/v1", model: "m", wantURL: "http://flag/v1"},
		{name: "environment without a model", env: "http://env/v1", wantWorkErr: "OPENAI_BASE_URL is set (http://env/v1) but --llm-model is not"},
		{name: "flag without a model", url: "http://flag/v1", wantErr: "no model name: set --llm-model"},
		{name: "model without a URL", model: "m", wantErr: "--llm-model m without an endpoint: give --llm-url URL or set OPENAI_BASE_URL", wantWorkErr: "give --llm-url URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(generator.BaseURLEnv, tc.env)
			r := runtimeFlags{llm: generator.Config{URL: tc.url, Model: tc.model}}
			ep, err := r.models()
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("models: %v, want an error with %q", err, tc.wantErr)
				}
			case err != nil:
				t.Errorf("models: %v", err)
			case (ep != nil) != (tc.wantURL != ""):
				t.Errorf("endpoint %v, want one at %q", ep, tc.wantURL)
			}
			if cfg, _ := r.llmConfig(); tc.wantURL != "" && cfg.URL != tc.wantURL {
				t.Errorf("URL %q, want %q", cfg.URL, tc.wantURL)
			}
			err = r.checkModelWork(judge)
			if (err != nil) != (tc.wantWorkErr != "") || err != nil && !strings.Contains(err.Error(), tc.wantWorkErr) {
				t.Errorf("checkModelWork: %v, want %q", err, tc.wantWorkErr)
			}
		})
	}
}

// TestSelectOpenAIBaseURL: select --judge without --llm-url sends the judge
// requests to $OPENAI_BASE_URL.
func TestSelectOpenAIBaseURL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	llm := llmtest.NewServer(t, func(int, generator.ChatRequest) llmtest.Reply { return llmtest.Yes(0.8) })
	t.Setenv(generator.BaseURLEnv, llm.URL())
	_, stderr, err := run(t, "select", "--executor", "local", "--no-cache", "--judge", "--llm-model", llmtest.Model,
		"--task", filepath.Join(example, "task.json"), "--preds", strings.Join(examplePreds(t), ","))
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if len(llm.Requests()) == 0 {
		t.Fatal("no judge request reached $OPENAI_BASE_URL")
	}
}
