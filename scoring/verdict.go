package scoring

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

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

	// Votes is the number of candidates in play (itself included) in this
	// one's meaning cluster: their effective changes (test files and
	// root-level scratch scripts left out) are equal up to a consistent
	// renaming of the local names the change introduces (see Cluster).
	Votes int `json:"votes"`
	// Similarity is the mean similarity to the most similar half of the
	// others (see docs/SCORING.md for the ratio).
	Similarity float64 `json:"similarity"`
	// Localization is the mean Jaccard overlap of the non-test files this
	// candidate changes with those each other candidate changes.
	Localization float64 `json:"localization"`
	// FunctionLocalization is the same overlap over the functions (scopes)
	// enclosing the changes, read from the code and the hunk headers.
	FunctionLocalization float64 `json:"function_localization"`
	// LineLocalization is the mean of the top half (as for Similarity) of
	// the Jaccard overlaps of the base-file lines this candidate edits with
	// those each other candidate edits: do they change the same lines.
	LineLocalization float64 `json:"line_localization"`
	// EditConsensus is the sum over this candidate's edits (change blocks)
	// of the share of the other candidates in play that make the same edit;
	// a candidate with more regressions than the fewest lends no support.
	EditConsensus float64 `json:"edit_consensus"`
	// Verifier is the judge's P(YES), when the candidate carries one.
	Verifier *float64 `json:"verifier,omitempty"`
	// Prior is the candidate's reliability prior, when it carries one.
	Prior *float64 `json:"prior,omitempty"`

	// ChangedLines counts the canonical lines the effective patch (without
	// test files and scratch scripts) deletes and adds.
	ChangedLines int `json:"changed_lines"`
	// Key is the normalized key of the effective patch: candidates with equal
	// keys make the same change, letter for letter once canonical.
	Key string `json:"key,omitempty"`
	// Cluster is the key of the candidate's meaning cluster: equal for
	// changes equal up to renaming the local names they introduce, and
	// wherever they land. Candidates of one cluster share a vote.
	Cluster string `json:"cluster,omitempty"`

	// Flags: see the Flag constants.
	Flags []string `json:"flags,omitempty"`

	// Extra holds the values of the signals without a field of their own
	// (a SignalDef with a compute: behaviour, and any signal added since),
	// by name. In JSON they are fields like the others, by their names:
	// absent when the candidate lacks the signal.
	Extra map[Signal]float64 `json:"-"`
}

// signalFields is Signals without its JSON methods: the fields' own
// encoding.
type signalFields Signals

// MarshalJSON writes the fields, then each Extra value as a field of its
// own, by name, in name order.
func (s Signals) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(signalFields(s))
	if err != nil || len(s.Extra) == 0 {
		return b, err
	}
	out := bytes.NewBuffer(bytes.TrimSuffix(b, []byte("}")))
	for i, name := range slices.Sorted(maps.Keys(s.Extra)) {
		if i > 0 || len(b) > 2 {
			out.WriteByte(',')
		}
		v, err := json.Marshal(s.Extra[name])
		if err != nil {
			return nil, fmt.Errorf("signal %s: %w", name, err)
		}
		k, _ := json.Marshal(string(name))
		out.Write(k)
		out.WriteByte(':')
		out.Write(v)
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}

// UnmarshalJSON reads the fields, and the values of the registered signals
// without a field of their own into Extra.
func (s *Signals) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, (*signalFields)(s)); err != nil {
		return err
	}
	s.Extra = nil
	var fields map[string]json.RawMessage
	for _, d := range registry {
		if d.value != nil {
			continue
		}
		if fields == nil {
			if err := json.Unmarshal(b, &fields); err != nil {
				return err
			}
		}
		raw, ok := fields[string(d.Name)]
		if !ok || string(raw) == "null" {
			continue
		}
		var v float64
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("signal %s: %w", d.Name, err)
		}
		if s.Extra == nil {
			s.Extra = map[Signal]float64{}
		}
		s.Extra[d.Name] = v
	}
	return nil
}

// Flags a candidate can carry.
const (
	FlagEmpty        = "empty"         // changes nothing once normalized, or its run found an empty diff
	FlagApplyFailed  = "apply_failed"  // no apply method could apply it
	FlagOnlyTests    = "only_tests"    // changes only test files, which are left out of every run
	FlagOnlyScratch  = "only_scratch"  // adds only scripts at the repository root (and maybe tests)
	FlagTouchesTests = "touches_tests" // changes test files as well (test tampering)
	FlagScratchFiles = "scratch_files" // adds scripts at the repository root (reproduction scripts)
	FlagSizeOutlier  = "size_outlier"  // far larger than the other candidates
	FlagUnknown      = "unknown"       // its run timed out or failed for infrastructure reasons
	FlagNotRun       = "not_run"       // not run: its run could not change the choice (adaptive execution)
	FlagUnparsed     = "unparsed"      // not a diff the parser reads; compared as plain text
)

// Ranked is one candidate's place in a verdict.
type Ranked struct {
	ID      string  `json:"id"`
	Rank    int     `json:"rank"`
	Signals Signals `json:"signals"`
	// Out says why the candidate was filtered out, if it was.
	Out string `json:"out,omitempty"`
	// Keys are the policy's key values for this candidate, in key order
	// (oriented so that higher is better; nil when the candidate lacks the
	// signal), when it reached the ordering.
	Keys []*float64 `json:"keys,omitempty"`
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
	// Confidence is P(the chosen candidate is correct), from a confidence
	// model fitted on labelled verdicts of the same scope (see
	// ConfidenceModels.Calibrate); nil when nothing was chosen or no model
	// speaks for this kind of verdict (a note says so).
	Confidence *float64 `json:"confidence,omitempty"`
	// Features are what the confidence is computed from (VerdictFeatures).
	Features map[string]float64 `json:"features,omitempty"`
	// Abstained, when set, says why nothing was chosen although candidates
	// were in play: the job ran its tests, but the evidence a choice must
	// rest on is missing (the base run produced no test case, or no
	// candidate's run completed). No evidence, no confident answer: the
	// ranking keeps every signal but ranks no one (Rank 0). It is also set,
	// with SampleMore, when the confidence is below the job's minimum.
	Abstained string `json:"abstained,omitempty"`
	// SampleMore is true when the verdict abstained because its confidence
	// was below the job's minimum (RequireConfidence): the evidence was
	// there but did not settle it; more candidates may. Withheld is the
	// candidate it would have chosen; the ranking is kept as it was.
	SampleMore bool   `json:"sample_more,omitempty"`
	Withheld   string `json:"withheld,omitempty"`
	// Basis says what the verdict rests on.
	Basis Basis `json:"basis"`
}

// Execution evidence levels (Basis.Execution).
const (
	// EvidenceFull: every candidate in play has a completed run, except
	// those not run because they cannot change the choice (Basis.NotRun).
	EvidenceFull = "full"
	// EvidencePartial: some candidates in play have a completed run; the
	// others (Basis.Unknown) timed out or failed for infrastructure reasons
	// and rank below every candidate with evidence.
	EvidencePartial = "partial"
	// EvidenceNone: the job ran, but no execution evidence came of it; the
	// verdict abstains.
	EvidenceNone = "none"
	// EvidenceExecutionFree: nothing was run because the job asked for an
	// execution-free choice; the verdict rests on the patches alone.
	EvidenceExecutionFree = "execution_free"
)

// Basis is what a verdict rests on: how much execution evidence it had,
// from which candidates, and which signals ordered them.
type Basis struct {
	// Execution is one of the Evidence constants.
	Execution string `json:"execution"`
	// BaseCases counts the test cases of the base run that count (flaky
	// ones excluded): what every candidate is compared against.
	BaseCases int `json:"base_cases"`
	// Executed lists the candidates in play whose run completed.
	Executed []string `json:"executed,omitempty"`
	// Unknown lists the candidates in play whose run timed out or failed
	// for infrastructure reasons: no evidence either way.
	Unknown []string `json:"unknown,omitempty"`
	// NotRun lists the candidates in play that were not run because
	// nothing their runs could show would change the choice or the ties
	// (adaptive execution, docs/SCORING.md): they take no part in the
	// ranking. Execution says full or partial of the candidates that ran.
	NotRun []string `json:"not_run,omitempty"`
	// UnknownRuns counts the job's runs that timed out or failed for
	// infrastructure reasons (set by the selector, which sees the runs).
	UnknownRuns int `json:"unknown_runs,omitempty"`
	// Tampering lists the candidates that change test files: they rank
	// below every clean candidate, whatever the policy.
	Tampering []string `json:"tampering,omitempty"`
	// Signals are the policy's filters and keys that had a value for some
	// candidate: what the ranking was computed from.
	Signals []string `json:"signals,omitempty"`
	// DecidedBy says what put the chosen candidate first: the first key on
	// which it beat the runner-up, the filters that left it alone, the
	// tie-break, or that it was the only candidate in play.
	DecidedBy string `json:"decided_by,omitempty"`
}

// String says in one line what a verdict rests on.
func (b Basis) String() string {
	var s string
	switch b.Execution {
	case EvidenceExecutionFree:
		s = "no execution (execution-free, as asked): the patches alone"
	case EvidenceNone:
		s = "no execution evidence"
	case EvidenceFull:
		s = fmt.Sprintf("full execution evidence: every candidate in play (%d) ran, against %d base case(s)", len(b.Executed), b.BaseCases)
		if len(b.NotRun) > 0 {
			s = fmt.Sprintf("full execution evidence: every candidate in play that could change the choice (%d) ran, against %d base case(s)", len(b.Executed), b.BaseCases)
		}
	case EvidencePartial:
		s = fmt.Sprintf("partial execution evidence: %d of %d candidate(s) in play ran, against %d base case(s); no evidence for %s",
			len(b.Executed), len(b.Executed)+len(b.Unknown), b.BaseCases, strings.Join(b.Unknown, ", "))
	}
	if len(b.NotRun) > 0 {
		s += fmt.Sprintf("; %d candidate(s) not run: they cannot change the choice (%s)", len(b.NotRun), strings.Join(b.NotRun, ", "))
	}
	if b.UnknownRuns > 0 {
		s += fmt.Sprintf("; %d run(s) timed out or failed for infrastructure reasons", b.UnknownRuns)
	}
	if len(b.Tampering) > 0 {
		s += fmt.Sprintf("; %d candidate(s) change test files, ranked last", len(b.Tampering))
	}
	if b.DecidedBy != "" {
		s += "; decided by " + b.DecidedBy
	}
	return s
}
