package generator

import (
	"errors"
	"net/http"
	"time"
)

// ErrNoEndpoint is returned by NewEndpoint when no endpoint URL is configured:
// the generator features are off, and the caller should say so once.
var ErrNoEndpoint = errors.New("no model endpoint configured (set --llm-url)")

// DefaultKeyEnv is the environment variable that holds the API key unless
// Config.KeyEnv names another.
const DefaultKeyEnv = "OPENAI_API_KEY"

// BaseURLEnv is the environment variable the OpenAI clients read the base
// URL from; the command line takes it when --llm-url is not given.
const BaseURLEnv = "OPENAI_BASE_URL"

// Config says how to reach an OpenAI-compatible chat-completion endpoint.
// Zero values take the defaults documented on each field.
type Config struct {
	// URL is the API base URL, the part before /chat/completions, e.g.
	// "http://localhost:8000/v1" for vLLM. Empty: ErrNoEndpoint.
	URL string
	// Model is the served model name sent with every request.
	Model string
	// KeyEnv names the environment variable holding the API key (default
	// OPENAI_API_KEY). An unset default variable sends no key, as a local
	// vLLM needs; an explicitly named variable must be set.
	KeyEnv string
	// Timeout bounds one HTTP attempt, the whole answer included
	// (default 5m: a local model writing a test file can take minutes).
	Timeout time.Duration
	// Retries is how many times a failed attempt (429, 5xx, timeout,
	// connection error) is retried (default 4; negative: none).
	Retries int
	// RetryWait is the first backoff interval; it grows exponentially with
	// jitter (default 1s). A 429's Retry-After overrides it.
	RetryWait time.Duration
	// MaxRetryTime bounds the total time spent retrying one request, waits
	// included (default 10m). A Retry-After beyond it fails the request.
	MaxRetryTime time.Duration
	// Concurrency bounds the requests in flight to the endpoint across all
	// jobs of the process (default 4).
	Concurrency int
	// CacheDir keeps responses on disk, keyed by the request, so that a
	// re-run costs nothing. Empty: the in-memory cache only.
	CacheDir string
	// MemoryCacheEntries bounds the in-memory cache (default 4096 responses).
	MemoryCacheEntries int
	// Budget is the default per-job budget of each Session.
	Budget Limits
	// HTTPClient sends the requests (default: a client without its own
	// timeout; Timeout applies per attempt).
	HTTPClient *http.Client
}

func (c Config) withDefaults() Config {
	if c.KeyEnv == "" {
		c.KeyEnv = DefaultKeyEnv
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Minute
	}
	if c.Retries == 0 {
		c.Retries = 4
	}
	if c.Retries < 0 {
		c.Retries = 0
	}
	if c.RetryWait <= 0 {
		c.RetryWait = time.Second
	}
	if c.MaxRetryTime <= 0 {
		c.MaxRetryTime = 10 * time.Minute
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.MemoryCacheEntries <= 0 {
		c.MemoryCacheEntries = 4096
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	return c
}
