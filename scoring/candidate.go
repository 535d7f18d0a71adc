package scoring

// Candidate is one proposed patch for an issue.
type Candidate struct {
	// ID identifies the candidate within its job; results are keyed by it,
	// never by position.
	ID string `json:"id"`
	// Patch is the unified diff as the agent produced it.
	Patch string `json:"patch"`
	// Model is the producing system (SWE-bench's model_name_or_path).
	Model string `json:"model_name_or_path,omitempty"`
	// Sample is the sample index of the producing run (which predictions file).
	Sample int `json:"sample"`
	// Verifier is an optional judge's P(YES) in [0, 1].
	Verifier *float64 `json:"verifier_score,omitempty"`
	// Prior is an optional reliability prior in [0, 1]: how often the
	// producing model's candidates were correct on labelled runs (for this
	// repository when known). Priors.Apply fills it from a fitted table.
	Prior *float64 `json:"prior,omitempty"`
}

// SignalVerifier is a judge's P(YES), when the candidate carries one.
const SignalVerifier Signal = "verifier"

var verifierSignal = SignalDef{Name: SignalVerifier, Unit: "[0, 1]", Column: "verifier", Format: "%.3f", unitScale: true,
	Doc: "a verifier's or judge's P(the patch is correct), when the candidate carries one (verifier_score, or the judge's P(YES))",
	value: func(s *Signals) (float64, bool) {
		if s.Verifier == nil {
			return 0, false
		}
		return *s.Verifier, true
	}}
