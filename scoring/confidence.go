package scoring

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// Scopes of a verdict, for confidence: what kind of evidence it rests on.
// A confidence model is fitted on verdicts of one scope and only speaks
// for verdicts of that scope.
const (
	// ScopeExecutionFree: no test evidence ordered the candidates (no
	// FP/PP, no regressions): the patches, priors and verifier alone.
	ScopeExecutionFree = "execution_free"
	// ScopeTests: test evidence (FP/PP or regressions) was present.
	ScopeTests = "tests"
)

// Names of the confidence features (VerdictFeatures).
const (
	FeatureSingle         = "single"          // 1 when one candidate was in play
	FeatureLogCandidates  = "log_candidates"  // ln of the candidates in play
	FeatureTied           = "tied"            // 1 when the chosen one is tied with others on every key
	FeaturePrior          = "prior"           // log-odds of the chosen candidate's prior (0 without)
	FeatureHasPrior       = "has_prior"       // 1 when the chosen candidate carries a prior
	FeatureSimilarity     = "similarity"      // the chosen candidate's similarity signal
	FeatureVoteShare      = "vote_share"      // (votes-1)/(n-1) of the chosen candidate
	FeatureMargin         = "margin"          // last key: chosen minus the best candidate not tied with it
	FeatureVerifier       = "verifier"        // the chosen candidate's verifier P(YES) (0 without)
	FeatureFPPP           = "fppp"            // the chosen candidate's FP/PP (tests scope)
	FeatureNoRegressions  = "no_regressions"  // 1 when the chosen candidate breaks no counted case (tests scope)
	FeatureGeneratedShare = "generated_share" // share of the candidates' best generated-tests count the chosen one reaches (tests scope)
)

// VerdictFeatures describes a verdict for the confidence model: how many
// candidates were in play, how much the chosen one is backed (its prior,
// similarity, votes) and how far ahead of the rest it is, and, when tests
// ran, its test evidence. It reads the verdict alone, so features can be
// computed from any verdict, stored or fresh. A verdict that chose nothing
// has no features (nil), and its scope is "".
func VerdictFeatures(v Verdict) (map[string]float64, string) {
	if v.Chosen == "" {
		return nil, ""
	}
	var ranked []Ranked
	var chosen Ranked
	for _, r := range v.Ranking {
		if r.Rank > 0 && r.Out == "" {
			ranked = append(ranked, r)
			if r.ID == v.Chosen {
				chosen = r
			}
		}
	}
	if chosen.ID == "" {
		return nil, ""
	}
	n := len(ranked)
	f := map[string]float64{FeatureLogCandidates: math.Log(float64(n))}
	if n == 1 {
		f[FeatureSingle] = 1
	}
	if len(v.Ties) > 1 {
		f[FeatureTied] = 1
	}
	s := chosen.Signals
	if s.Prior != nil {
		f[FeaturePrior] = logOdds(*s.Prior)
		f[FeatureHasPrior] = 1
	}
	if s.Verifier != nil {
		f[FeatureVerifier] = *s.Verifier
	}
	if n > 1 {
		f[FeatureSimilarity] = s.Similarity
		f[FeatureVoteShare] = float64(s.Votes-1) / float64(n-1)
		f[FeatureMargin] = lastKeyMargin(chosen, ranked, v.Ties)
	}
	scope := ScopeExecutionFree
	if s.FPPP != nil || s.Regressions != nil {
		scope = ScopeTests
		if s.FPPP != nil {
			f[FeatureFPPP] = *s.FPPP
		}
		if s.Regressions != nil && *s.Regressions == 0 {
			f[FeatureNoRegressions] = 1
		}
		best := 0
		for _, r := range ranked {
			if g := r.Signals.GeneratedPassed; g != nil {
				best = max(best, *g)
			}
		}
		if g := s.GeneratedPassed; g != nil && best > 0 {
			f[FeatureGeneratedShare] = float64(*g) / float64(best)
		}
	}
	return f, scope
}

// lastKeyMargin is how far the chosen candidate is ahead on the policy's
// last key (auto's consensus key) of the best candidate not tied with it;
// 0 when every candidate is tied or the key is absent.
func lastKeyMargin(chosen Ranked, ranked []Ranked, ties []string) float64 {
	last := func(r Ranked) (float64, bool) {
		if len(r.Keys) == 0 || r.Keys[len(r.Keys)-1] == nil {
			return 0, false
		}
		return *r.Keys[len(r.Keys)-1], true
	}
	c, ok := last(chosen)
	if !ok {
		return 0
	}
	tied := map[string]bool{chosen.ID: true}
	for _, id := range ties {
		tied[id] = true
	}
	best, found := math.Inf(-1), false
	for _, r := range ranked {
		if tied[r.ID] {
			continue
		}
		if v, ok := last(r); ok && v > best {
			best, found = v, true
		}
	}
	if !found {
		return 0
	}
	return c - best
}

// ConfidenceModel turns a verdict's features into P(the chosen candidate
// is correct): a logistic regression, fitted on labelled verdicts of one
// scope (accuracy.FitConfidence).
type ConfidenceModel struct {
	// Scope is the kind of verdict the model speaks for (Scope*).
	Scope     string             `json:"scope"`
	Intercept float64            `json:"intercept"`
	Weights   map[string]float64 `json:"weights"`
	// Source says what the model was fitted on.
	Source string `json:"source,omitempty"`
}

// Predict is σ(intercept + Σ weight·feature); a feature without a weight
// counts 0.
func (m ConfidenceModel) Predict(features map[string]float64) float64 {
	z := m.Intercept
	names := make([]string, 0, len(features))
	for name := range features {
		names = append(names, name)
	}
	sort.Strings(names) // a fixed summation order: the same inputs, the same result
	for _, name := range names {
		z += m.Weights[name] * features[name]
	}
	return 1 / (1 + math.Exp(-z))
}

// Validate checks the model's scope and that every number is finite.
func (m ConfidenceModel) Validate() error {
	if m.Scope != ScopeExecutionFree && m.Scope != ScopeTests {
		return fmt.Errorf("confidence model: scope %q: want %q or %q", m.Scope, ScopeExecutionFree, ScopeTests)
	}
	if math.IsNaN(m.Intercept) || math.IsInf(m.Intercept, 0) {
		return fmt.Errorf("confidence model: intercept %g", m.Intercept)
	}
	for name, w := range m.Weights {
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return fmt.Errorf("confidence model: weight of %s is %g", name, w)
		}
	}
	return nil
}

// ConfidenceModels are the models of several scopes, at most one each.
type ConfidenceModels []ConfidenceModel

// Validate checks every model and that no scope has two.
func (ms ConfidenceModels) Validate() error {
	seen := map[string]bool{}
	for _, m := range ms {
		if err := m.Validate(); err != nil {
			return err
		}
		if seen[m.Scope] {
			return fmt.Errorf("two confidence models of scope %s: give one per scope", m.Scope)
		}
		seen[m.Scope] = true
	}
	return nil
}

// With returns the models with each of custom replacing the model of its
// scope (or joining them, for a scope they lack).
func (ms ConfidenceModels) With(custom ConfidenceModels) ConfidenceModels {
	out := append(ConfidenceModels(nil), custom...)
	for _, m := range ms {
		replaced := false
		for _, c := range custom {
			replaced = replaced || c.Scope == m.Scope
		}
		if !replaced {
			out = append(out, m)
		}
	}
	return out
}

// Speaks reports whether one of the models is of the scope.
func (ms ConfidenceModels) Speaks(scope string) bool {
	return slices.ContainsFunc(ms, func(m ConfidenceModel) bool { return m.Scope == scope })
}

// Calibrate sets the verdict's features and, when one of the models speaks
// for its scope, its confidence; otherwise a note says why there is none.
func (ms ConfidenceModels) Calibrate(v *Verdict) {
	f, scope := VerdictFeatures(*v)
	v.Features, v.Confidence = f, nil
	if f == nil {
		return
	}
	for _, m := range ms {
		if m.Scope == scope {
			p := m.Predict(f)
			v.Confidence = &p
			return
		}
	}
	var have []string
	for _, m := range ms {
		have = append(have, m.Scope)
	}
	note := fmt.Sprintf("no confidence: no calibrated model for %s verdicts (models: %s); fit one on labelled runs (bestpatch eval --fit-confidence)",
		strings.ReplaceAll(scope, "_", "-"), orNone(have))
	if !slices.Contains(v.Notes, note) {
		v.Notes = append(v.Notes, note)
	}
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

//go:embed confidence_default.json
var defaultConfidenceJSON []byte

// DefaultConfidence returns the built-in confidence models, one per scope:
// execution_free, fitted on the dev splits of the SWE-bench Lite and
// Verified candidate sets (policy auto, with and without priors; bestpatch
// eval --fit-confidence), and tests, fitted on the dev pools of the bench
// set make bench generates (bestpatch bench accuracy --fit-confidence);
// docs/SCORING.md.
func DefaultConfidence() ConfidenceModels {
	var ms ConfidenceModels
	if err := json.Unmarshal(defaultConfidenceJSON, &ms); err != nil {
		panic(fmt.Sprintf("built-in confidence models: %v", err)) // embedded at build time
	}
	return ms
}

// RequireConfidence turns a verdict whose confidence is below min, or that
// has no calibrated confidence at all, into an abstention that asks for
// more samples: nothing is chosen, Withheld names the candidate that would
// have been, and Why says so. A verdict that chose nothing is left as it
// is; min 0 asks nothing.
func (v *Verdict) RequireConfidence(min float64) {
	if min <= 0 || v.Chosen == "" {
		return
	}
	switch {
	case v.Confidence == nil:
		v.Abstained = fmt.Sprintf("sample more: no calibrated confidence for this verdict, and a confidence of at least %.1f%% was asked", 100*min)
	case *v.Confidence < min:
		v.Abstained = fmt.Sprintf("sample more: confidence %.1f%% is below the minimum of %.1f%%; the candidates do not settle it", 100**v.Confidence, 100*min)
	default:
		return
	}
	v.SampleMore, v.Withheld, v.Chosen = true, v.Chosen, ""
	v.Why = "abstained: " + v.Abstained + sampleMoreWas + v.Why
}

// sampleMoreWas joins a sample-more abstention to the verdict it withheld.
const sampleMoreWas = "; withheld: "

// Reopen undoes RequireConfidence, so that the verdict can change (an
// adversarial round breaks its tie) and be settled again.
func (v *Verdict) Reopen() {
	if !v.SampleMore {
		return
	}
	if _, was, ok := strings.Cut(v.Why, sampleMoreWas); ok {
		v.Why = was
	}
	v.Chosen, v.Withheld, v.SampleMore, v.Abstained = v.Withheld, "", false, ""
}
