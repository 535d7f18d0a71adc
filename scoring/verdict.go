package scoring

// Signals are every piece of evidence scoring holds about one candidate.
// Pointers are nil when the signal does not apply (no tests of that kind, no
// verifier score, unknown run): "absent" is never confused with zero.
type Signals struct {
	// Status of the candidate's run, or empty when the job ran nothing.
	Status RunStatus `json:"status,omitempty"`

	// FPPP is Kimi-Dev's S_i = ΣFP/ΣF + ΣPP/ΣP over reproducing generated tests.
	FPPP *float64 `json:"fppp,omitempty"`
	FP   int      `json:"fp"`
	PP   int      `json:"pp"`
	// Regressions counts original cases passing on base that this candidate breaks.
	Regressions *int `json:"regressions,omitempty"`
	// GeneratedPassed counts the reproducing generated tests this candidate passes.
	GeneratedPassed *int `json:"generated_passed,omitempty"`

	// Votes is the number of candidates (itself included) whose normalized
	// patch is identical to this one.
	Votes int `json:"votes"`
	// Similarity is the mean similarity to the most similar half of the others.
	Similarity float64 `json:"similarity"`
	// Localization is the share of other candidates that touch the same files.
	Localization float64 `json:"localization"`
	// Verifier is the judge's P(YES), when the candidate carries one.
	Verifier *float64 `json:"verifier,omitempty"`

	// Flags: "empty", "apply_failed", "touches_tests", "size_outlier", "unknown".
	Flags []string `json:"flags,omitempty"`
}

// Ranked is one candidate's place in a verdict.
type Ranked struct {
	ID      string  `json:"id"`
	Rank    int     `json:"rank"`
	Signals Signals `json:"signals"`
	// Out says why the candidate was filtered out, if it was.
	Out string `json:"out,omitempty"`
}

// Verdict is the outcome of a selection.
type Verdict struct {
	Policy string `json:"policy"`
	// Chosen is the selected candidate's ID, empty when none could be chosen.
	Chosen string `json:"chosen,omitempty"`
	// Ties lists the candidates (the chosen one included) equal to the chosen
	// one on every key of the policy; the chosen one won the deterministic
	// tie-break.
	Ties    []string `json:"ties,omitempty"`
	Ranking []Ranked `json:"ranking"`
	// Why explains the choice in one or two sentences.
	Why string `json:"why"`
	// Notes report what a reader should know: terms left out for an empty
	// denominator, quarantined flaky cases, filtered generated tests.
	Notes []string `json:"notes,omitempty"`
}
