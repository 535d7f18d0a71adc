package generator

// ChatRequest is the part of an OpenAI chat-completion request bestpatch
// uses. Its JSON form, field order included, is the cache key: change it
// only knowing that every cached response is then missed once.
type ChatRequest struct {
	// Model is filled from the endpoint's configuration when empty.
	Model    string    `json:"model"`
	Messages []Message `json:"messages"`
	// MaxTokens bounds the answer (max_tokens: the name vLLM, SGLang,
	// llama.cpp and OpenAI's non-reasoning models all accept).
	MaxTokens int `json:"max_tokens,omitempty"`
	// Temperature is always sent: 0 means greedy, not "server default".
	Temperature float64 `json:"temperature"`
	// Seed makes sampled answers reproducible where the server supports it,
	// and makes K samples of one prompt K distinct requests (and cache keys).
	Seed *int64 `json:"seed,omitempty"`
	// Logprobs asks for the log-probabilities of the generated tokens, and
	// TopLogprobs for that many alternatives at each position.
	Logprobs    bool `json:"logprobs,omitempty"`
	TopLogprobs int  `json:"top_logprobs,omitempty"`
}

// Message is one chat message.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Chat roles.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// ChatResponse is the part of a chat-completion response bestpatch reads.
type ChatResponse struct {
	ID      string   `json:"id,omitempty"`
	Model   string   `json:"model,omitempty"`
	Choices []Choice `json:"choices"`
	Usage   *Usage   `json:"usage,omitempty"`
}

// Choice is one generated answer.
type Choice struct {
	Index        int             `json:"index"`
	Message      Message         `json:"message"`
	FinishReason string          `json:"finish_reason,omitempty"`
	Logprobs     *ChoiceLogprobs `json:"logprobs,omitempty"`
}

// ChoiceLogprobs holds one entry per generated token.
type ChoiceLogprobs struct {
	Content []TokenLogprob `json:"content"`
}

// TokenLogprob is a generated token, its log-probability and the most likely
// alternatives at its position.
type TokenLogprob struct {
	Token       string       `json:"token"`
	Logprob     float64      `json:"logprob"`
	TopLogprobs []TopLogprob `json:"top_logprobs,omitempty"`
}

// TopLogprob is one alternative token at a position.
type TopLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
}

// Usage is the server's token count for one request.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Text returns the first choice's content, or "" when there is none.
func (r ChatResponse) Text() string {
	if len(r.Choices) == 0 {
		return ""
	}
	return r.Choices[0].Message.Content
}
