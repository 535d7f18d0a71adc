package wire

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/outcome"
	"github.com/bestpatch/bestpatch/generator"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

// Report is a finished job: the verdict and the evidence behind it.
type Report struct {
	// Job is the job's ID.
	Job string `json:"job"`
	// InstanceID is the task's instance_id.
	InstanceID string `json:"instance_id"`
	// Verdict is the choice and why.
	Verdict Verdict `json:"verdict"`
	// Matrix is the outcome of every test case in every run.
	Matrix Matrix `json:"matrix"`
	// DroppedTests are the generated tests left out, with the reason, by
	// test ID.
	DroppedTests map[string]string `json:"dropped_tests,omitempty"`
	// Runs are the runs the job used, executed or served from a cache.
	Runs []RunRecord `json:"runs"`
	// Distinct counts the distinct candidate patches once normalized:
	// candidates that make the same change share their runs.
	Distinct int `json:"distinct"`
	// DurationSeconds is the time from the job's start to its verdict, in
	// seconds (on the daemon: from submit to verdict).
	DurationSeconds float64 `json:"duration_seconds"`
	// Generation is what the model endpoint contributed, when the job
	// asked for it.
	Generation *Generation `json:"generation,omitempty"`
	// TestFiles are the test-file patterns the runs stripped from the
	// candidates and scoring flagged.
	TestFiles []string `json:"test_files,omitempty"`
}

// Verdict is the outcome of a selection.
type Verdict struct {
	// Policy is the policy that ranked the candidates.
	Policy string `json:"policy"`
	// Chosen is the chosen candidate's ID; absent when none was chosen.
	Chosen string `json:"chosen,omitempty"`
	// Ties are the candidates (the chosen one included) equal to the
	// chosen one on every key of the policy; the chosen one won the
	// deterministic tie-break.
	Ties []string `json:"ties,omitempty"`
	// Ranking is every candidate, best first.
	Ranking []Ranked `json:"ranking"`
	// Why explains the choice in a sentence or two.
	Why string `json:"why"`
	// Notes are what a reader should know: terms left out, flaky cases
	// quarantined, generated tests filtered.
	Notes []string `json:"notes,omitempty"`
	// Confidence is P(the chosen candidate is correct), in [0, 1], from a
	// confidence model fitted on labelled verdicts of the same kind;
	// absent when nothing was chosen or no model speaks for this kind of
	// verdict (a note says so).
	Confidence *float64 `json:"confidence,omitempty" jsonschema:"minimum=0,maximum=1"`
	// Features are what the confidence is computed from, by name, each in
	// its own unit: flags (0 or 1), ln of a count, log-odds, shares in [0,
	// 1], a key's difference ([SCORING.md](SCORING.md#confidence) lists
	// them).
	Features map[string]float64 `json:"features,omitempty"`
	// Abstained, when set, says why nothing was chosen although
	// candidates were in play: the runs gave no evidence to choose on (the
	// job failed), or the confidence was below the job's min_confidence
	// (sample_more; the job is done).
	Abstained string `json:"abstained,omitempty"`
	// SampleMore is true when the verdict chose nothing because its
	// confidence was below the job's min_confidence: the evidence did not
	// settle it; more candidates may.
	SampleMore bool `json:"sample_more,omitempty"`
	// Withheld is the candidate a sample_more verdict would have chosen.
	Withheld string `json:"withheld,omitempty"`
	// Basis says what the verdict rests on.
	Basis Basis `json:"basis"`
}

// Ranked is one candidate's place in a verdict, and its signals.
type Ranked struct {
	// ID is the candidate's ID.
	ID string `json:"id"`
	// Rank is 1 for the best; candidates filtered out rank after the
	// others; 0 when the verdict abstained.
	Rank int `json:"rank"`
	// Out says why the candidate was filtered out, if it was.
	Out string `json:"out,omitempty"`
	// Keys are the policy's key values for this candidate, in key order,
	// oriented so that higher is better (a lower-is-better signal
	// negated): a signal's key in the signal's unit, a weighted key the
	// weighted sum of utilities in [0, 1]; null where the candidate lacks
	// the signal.
	Keys []*float64 `json:"keys,omitempty"`
	// Status is the row status of the candidate's run; absent when the
	// job ran nothing; unknown, with the flag not_run, for a candidate
	// adaptive execution did not run because it cannot change the choice.
	Status RowStatus `json:"status,omitempty"`
	// Signals are the candidate's numeric signals that have a value, by
	// name, each in its unit: the Signals table below lists them. A signal
	// without a value is absent, never 0. New signals may appear: ignore
	// names you do not know.
	Signals map[string]float64 `json:"signals"`
	// Flags are the candidate's flags: empty, apply_failed, only_tests,
	// only_scratch, touches_tests, scratch_files, size_outlier, unknown,
	// unparsed.
	Flags []string `json:"flags,omitempty"`
	// Key is the normalized key of the candidate's effective patch:
	// candidates with equal keys make the same change.
	Key string `json:"key,omitempty"`
	// Cluster is the key of the candidate's meaning cluster: equal for
	// changes equal up to renaming the local names they introduce.
	Cluster string `json:"cluster,omitempty"`
}

// Basis is what a verdict rests on.
type Basis struct {
	// Execution is how much execution evidence the verdict had.
	Execution Evidence `json:"execution"`
	// BaseCases counts the base run's test cases that count (flaky ones
	// left out): what every candidate is compared against.
	BaseCases int `json:"base_cases"`
	// Executed are the candidates in play whose run completed.
	Executed []string `json:"executed,omitempty"`
	// Unknown are the candidates in play whose run timed out or failed
	// for infrastructure reasons: no evidence either way.
	Unknown []string `json:"unknown,omitempty"`
	// UnknownRuns counts the job's runs that timed out or failed for
	// infrastructure reasons.
	UnknownRuns int `json:"unknown_runs,omitempty"`
	// Tampering are the candidates that change test files: they rank below
	// every clean candidate.
	Tampering []string `json:"tampering,omitempty"`
	// Signals are the policy's filters and keys that had a value for some
	// candidate.
	Signals []string `json:"signals,omitempty"`
	// DecidedBy says what put the chosen candidate first.
	DecidedBy string `json:"decided_by,omitempty"`
}

// Matrix is the outcome of every test case in every run of a job: the
// base run's row and one row per candidate.
type Matrix struct {
	// Artifacts are the test artifacts: the task's own suite ("original")
	// and each generated test.
	Artifacts []Artifact `json:"artifacts"`
	// Base is the base run's row (no candidate applied).
	Base Row `json:"base"`
	// Flaky are the cases whose outcome differed between repeated base
	// runs, by artifact: left out of every score.
	Flaky map[string][]string `json:"flaky,omitempty"`
	// Candidates are the rows by candidate ID; candidates that make the
	// same change share a run, and so an identical row.
	Candidates map[string]Row `json:"candidates"`
}

// Artifact is one test artifact.
type Artifact struct {
	// ID is "original" for the task's own suite, else the generated
	// test's ID.
	ID string `json:"id"`
	// Generated is true for generated tests (they feed the FP/PP score),
	// false for the original suite (it feeds the regression count).
	Generated bool `json:"generated"`
}

// Row is one run's evidence.
type Row struct {
	// Status says whether the row holds evidence; unknown, with the reason
	// "not run: cannot change the choice", for a candidate adaptive
	// execution did not run.
	Status RowStatus `json:"status"`
	// Reason explains a status other than ok.
	Reason string `json:"reason,omitempty"`
	// Cases are the outcomes by artifact ID, then by test case ID.
	Cases map[string]map[string]TestOutcome `json:"cases,omitempty"`
	// Tree names the code the candidate left once applied (a hash of the
	// repository's tree, test files stripped): candidates with the same
	// tree behave the same. Absent for the base row and runs that did not
	// apply.
	Tree string `json:"tree,omitempty"`
}

// RunRecord is one run of a job.
type RunRecord struct {
	// ID names the run: base/1, cand/<key>/all, ...
	ID string `json:"id"`
	// Candidates are the candidates whose patch the run applied.
	Candidates []string `json:"candidates,omitempty"`
	// Status is how the run ended.
	Status RunStatus `json:"status"`
	// Applied names the method that applied the patch: "git apply", "git
	// apply --recount" or "patch --fuzz".
	Applied string `json:"applied,omitempty"`
	// Reason explains a status other than completed.
	Reason string `json:"reason,omitempty"`
	// Cached is true when the result came from a result cache.
	Cached bool `json:"cached,omitempty"`
	// DurationSeconds is the run's wall time, in seconds.
	DurationSeconds float64 `json:"duration_seconds"`
}

// Generation is what the model endpoint contributed to a job.
type Generation struct {
	// Kept are the generated tests added to the job.
	Kept []string `json:"kept,omitempty"`
	// Dropped are the generated tests left out, and why.
	Dropped []DroppedTest `json:"dropped,omitempty"`
	// Judged holds the judge's P(YES), in [0, 1], by candidate.
	Judged map[string]float64 `json:"judged,omitempty"`
	// Adversarial are the adversarial rounds played.
	Adversarial []AdversarialRound `json:"adversarial,omitempty"`
	// Spent is what the job used of the endpoint.
	Spent Spent `json:"spent"`
	// Problems are failures that did not stop the job (a malformed answer,
	// the budget running out).
	Problems []string `json:"problems,omitempty"`
}

// DroppedTest is a generated test that was not kept.
type DroppedTest struct {
	// ID is the test's ID.
	ID string `json:"id"`
	// Path is the test file it wrote, if any.
	Path string `json:"path,omitempty"`
	// Reason says why: malformed, request_failed, does_not_compile,
	// passes_on_base, skipped, did_not_run, did_not_apply, timed_out or
	// unit_broken_on_base.
	Reason string `json:"reason"`
	// Detail says more, for people.
	Detail string `json:"detail"`
}

// AdversarialRound is one test written to tell two tied candidates apart.
type AdversarialRound struct {
	// Round counts from 1.
	Round int `json:"round"`
	// Test is the generated test's ID.
	Test string `json:"test,omitempty"`
	// A is one of the two candidates.
	A string `json:"a"`
	// B is the other candidate.
	B string `json:"b"`
	// Winner is the candidate that passes the test; absent when the test
	// did not tell them apart.
	Winner string `json:"winner,omitempty"`
	// Note says what happened.
	Note string `json:"note"`
}

// Spent is what a job used of the model endpoint.
type Spent struct {
	// Requests counts the requests sent to the endpoint (cache misses).
	Requests int `json:"requests"`
	// Tokens counts the tokens the server counted (prompt and
	// completion), or the estimate when it reported none.
	Tokens int `json:"tokens"`
	// Cached counts the requests answered from the cache.
	Cached int `json:"cached"`
}

// FromReport is the wire form of a report.
func FromReport(r selector.Report) Report {
	out := Report{
		Job: r.Job, InstanceID: r.Task, Verdict: fromVerdict(r.Verdict), Matrix: fromMatrix(r.Matrix),
		DroppedTests: r.Dropped, Runs: make([]RunRecord, 0, len(r.Runs)), Distinct: r.Distinct,
		DurationSeconds: seconds(r.Duration), TestFiles: r.TestFiles,
	}
	for _, run := range r.Runs {
		out.Runs = append(out.Runs, RunRecord{ID: run.ID, Candidates: run.Candidates, Status: RunStatus(run.Status),
			Applied: run.Applied, Reason: run.Reason, Cached: run.Cached, DurationSeconds: seconds(run.Duration)})
	}
	if g := r.Generation; g != nil {
		gen := &Generation{Kept: g.Kept, Judged: g.Judged, Problems: g.Problems,
			Spent: Spent{Requests: g.Spent.Requests, Tokens: g.Spent.Tokens, Cached: g.Spent.Cached}}
		for _, d := range g.Dropped {
			gen.Dropped = append(gen.Dropped, DroppedTest{ID: d.ID, Path: d.Path, Reason: string(d.Reason), Detail: d.Detail})
		}
		for _, a := range g.Adversarial {
			gen.Adversarial = append(gen.Adversarial, AdversarialRound{Round: a.Round, Test: a.Test, A: a.A, B: a.B, Winner: a.Winner, Note: a.Note})
		}
		out.Generation = gen
	}
	return out
}

// ToSelector is the selector's form of the report. It fails only on a
// report that is not one the daemon sends (an unknown test outcome, a
// signal of the wrong shape).
func (r Report) ToSelector() (selector.Report, error) {
	v, err := r.Verdict.toScoring()
	if err != nil {
		return selector.Report{}, err
	}
	m, err := r.Matrix.toScoring()
	if err != nil {
		return selector.Report{}, err
	}
	out := selector.Report{
		Job: r.Job, Task: r.InstanceID, Verdict: v, Matrix: m, Dropped: r.DroppedTests,
		Runs: make([]selector.RunRecord, 0, len(r.Runs)), Distinct: r.Distinct,
		Duration: fromSeconds(r.DurationSeconds), TestFiles: r.TestFiles,
	}
	for _, run := range r.Runs {
		out.Runs = append(out.Runs, selector.RunRecord{ID: run.ID, Candidates: run.Candidates, Status: executor.Status(run.Status),
			Applied: run.Applied, Reason: run.Reason, Cached: run.Cached, Duration: fromSeconds(run.DurationSeconds)})
	}
	if g := r.Generation; g != nil {
		gen := &selector.Generation{Kept: g.Kept, Judged: g.Judged, Problems: g.Problems,
			Spent: generator.Spent{Requests: g.Spent.Requests, Tokens: g.Spent.Tokens, Cached: g.Spent.Cached}}
		for _, d := range g.Dropped {
			gen.Dropped = append(gen.Dropped, generator.Dropped{ID: d.ID, Path: d.Path, Reason: generator.DropReason(d.Reason), Detail: d.Detail})
		}
		for _, a := range g.Adversarial {
			gen.Adversarial = append(gen.Adversarial, selector.AdversarialRound{Round: a.Round, Test: a.Test, A: a.A, B: a.B, Winner: a.Winner, Note: a.Note})
		}
		out.Generation = gen
	}
	return out, nil
}

func fromVerdict(v scoring.Verdict) Verdict {
	out := Verdict{
		Policy: v.Policy, Chosen: v.Chosen, Ties: v.Ties, Ranking: make([]Ranked, 0, len(v.Ranking)), Why: v.Why,
		Notes: v.Notes, Confidence: v.Confidence, Features: v.Features, Abstained: v.Abstained,
		SampleMore: v.SampleMore, Withheld: v.Withheld,
		Basis: Basis{Execution: Evidence(v.Basis.Execution), BaseCases: v.Basis.BaseCases, Executed: v.Basis.Executed,
			Unknown: v.Basis.Unknown, UnknownRuns: v.Basis.UnknownRuns, Tampering: v.Basis.Tampering,
			Signals: v.Basis.Signals, DecidedBy: v.Basis.DecidedBy},
	}
	for _, r := range v.Ranking {
		out.Ranking = append(out.Ranking, Ranked{ID: r.ID, Rank: r.Rank, Out: r.Out, Keys: r.Keys,
			Status: rowStatus(r.Signals.Status), Signals: signalValues(r.Signals), Flags: r.Signals.Flags,
			Key: r.Signals.Key, Cluster: r.Signals.Cluster})
	}
	return out
}

// Candidates that adaptive execution did not run (scoring.RunNotRun) came
// after v1 was frozen. v1 sends them as what they are to a v1 client, rows
// without evidence: status unknown, the reason scoring.NotRunReason and the
// ranked candidate's flag not_run; Basis.NotRun is not sent, it is the
// ranked candidates with that flag. The trip back restores all three.

// rowStatus is the v1 status of a row or a ranked candidate.
func rowStatus(s scoring.RunStatus) RowStatus {
	if s == scoring.RunNotRun {
		return RowUnknown
	}
	return RowStatus(s)
}

// notRun says whether a v1 row or ranked candidate stands for one not run.
func notRun(status RowStatus, reason string, flags []string) bool {
	return status == RowUnknown && (reason == scoring.NotRunReason || slices.Contains(flags, scoring.FlagNotRun))
}

func (v Verdict) toScoring() (scoring.Verdict, error) {
	out := scoring.Verdict{
		Policy: v.Policy, Chosen: v.Chosen, Ties: v.Ties, Ranking: make([]scoring.Ranked, 0, len(v.Ranking)), Why: v.Why,
		Notes: v.Notes, Confidence: v.Confidence, Features: v.Features, Abstained: v.Abstained,
		SampleMore: v.SampleMore, Withheld: v.Withheld,
		Basis: scoring.Basis{Execution: string(v.Basis.Execution), BaseCases: v.Basis.BaseCases, Executed: v.Basis.Executed,
			Unknown: v.Basis.Unknown, UnknownRuns: v.Basis.UnknownRuns, Tampering: v.Basis.Tampering,
			Signals: v.Basis.Signals, DecidedBy: v.Basis.DecidedBy},
	}
	for _, r := range v.Ranking {
		s, err := r.signals()
		if err != nil {
			return out, fmt.Errorf("verdict: candidate %s: %w", r.ID, err)
		}
		if notRun(r.Status, "", r.Flags) {
			s.Status = scoring.RunNotRun
			out.Basis.NotRun = append(out.Basis.NotRun, r.ID)
		}
		out.Ranking = append(out.Ranking, scoring.Ranked{ID: r.ID, Rank: r.Rank, Out: r.Out, Keys: r.Keys, Signals: s})
	}
	return out, nil
}

// The fields of scoring.Signals that are not numbers: on the wire, they are
// fields of Ranked; every other field is a number, by its name, in
// Ranked.Signals, so that a new signal needs no change here.
const (
	signalStatus  = "status"
	signalFlags   = "flags"
	signalKey     = "key"
	signalCluster = "cluster"
)

// signalField is a numeric field of scoring.Signals: its JSON name, its
// index, and how JSON treats it (a pointer is absent when nil, an
// omitempty number when zero).
type signalField struct {
	name      string
	index     int
	ptr       bool
	omitEmpty bool
}

// signalFields are the numeric fields of scoring.Signals, read from its
// type once: converting a report's signals walks them instead of encoding
// and decoding each candidate's signals as JSON.
var signalFields = func() map[string]signalField {
	out := map[string]signalField{}
	t := reflect.TypeFor[scoring.Signals]()
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" || name == "" {
			continue
		}
		ft, ptr := f.Type, false
		if ft.Kind() == reflect.Pointer {
			ft, ptr = ft.Elem(), true
		}
		if !numericKind(ft.Kind()) {
			continue
		}
		out[name] = signalField{name: name, index: i, ptr: ptr, omitEmpty: slices.Contains(strings.Split(opts, ","), "omitempty")}
	}
	return out
}()

func numericKind(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// signalValues are the numeric signals of s that have a value, by their
// names in scoring.Signals' JSON; a value JSON cannot carry (NaN, ±Inf) is
// left out.
func signalValues(s scoring.Signals) map[string]float64 {
	out := make(map[string]float64, len(signalFields)+len(s.Extra))
	rv := reflect.ValueOf(s)
	for _, f := range signalFields {
		v := rv.Field(f.index)
		switch {
		case f.ptr && v.IsNil(), !f.ptr && f.omitEmpty && v.IsZero():
			continue // absent from the JSON
		case f.ptr:
			v = v.Elem()
		}
		var val float64
		if v.CanInt() {
			val = float64(v.Int())
		} else {
			val = v.Float()
		}
		if finite(val) {
			out[f.name] = val
		}
	}
	for name, v := range s.Extra {
		if finite(v) {
			out[string(name)] = v
		}
	}
	return out
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// signals is the scoring form of the candidate's signals: a name that is
// neither a numeric field of scoring.Signals nor a registered signal kept
// in Signals.Extra is ignored, as a JSON field of no use is.
func (r Ranked) signals() (scoring.Signals, error) {
	s := scoring.Signals{Status: scoring.RunStatus(r.Status), Flags: r.Flags, Key: r.Key, Cluster: r.Cluster}
	rv := reflect.ValueOf(&s).Elem()
	for name, v := range r.Signals {
		switch name {
		case signalStatus, signalFlags, signalKey, signalCluster:
			return scoring.Signals{}, fmt.Errorf("signal %q is not a number", name)
		}
		f, ok := signalFields[name]
		if !ok {
			if d, ok := scoring.LookupSignal(scoring.Signal(name)); ok && d.InExtra() {
				if s.Extra == nil {
					s.Extra = map[scoring.Signal]float64{}
				}
				s.Extra[d.Name] = v
			}
			continue
		}
		field := rv.Field(f.index)
		if f.ptr {
			field.Set(reflect.New(field.Type().Elem()))
			field = field.Elem()
		}
		if field.CanInt() {
			if v != math.Trunc(v) || field.OverflowInt(int64(v)) {
				return scoring.Signals{}, fmt.Errorf("signal %q: %v is not a whole number", name, v)
			}
			field.SetInt(int64(v))
			continue
		}
		field.SetFloat(v)
	}
	return s, nil
}

func fromMatrix(m scoring.Matrix) Matrix {
	out := Matrix{Base: fromRow(m.Base), Flaky: m.Flaky, Artifacts: make([]Artifact, 0, len(m.Artifacts)),
		Candidates: make(map[string]Row, len(m.Candidates))}
	for _, a := range m.Artifacts {
		out.Artifacts = append(out.Artifacts, Artifact{ID: a.ID, Generated: a.Generated})
	}
	for id, r := range m.Candidates {
		out.Candidates[id] = fromRow(r)
	}
	return out
}

func fromRow(r scoring.Row) Row {
	out := Row{Status: rowStatus(r.Status), Reason: r.Reason, Tree: r.Tree}
	if r.Cases != nil {
		out.Cases = make(map[string]map[string]TestOutcome, len(r.Cases))
		for art, cases := range r.Cases {
			m := make(map[string]TestOutcome, len(cases))
			for id, o := range cases {
				m[id] = TestOutcome(o.String())
			}
			out.Cases[art] = m
		}
	}
	return out
}

func (m Matrix) toScoring() (scoring.Matrix, error) {
	base, err := m.Base.toScoring()
	if err != nil {
		return scoring.Matrix{}, fmt.Errorf("matrix: base: %w", err)
	}
	out := scoring.Matrix{Base: base, Flaky: m.Flaky, Artifacts: make([]scoring.Artifact, 0, len(m.Artifacts)),
		Candidates: make(map[string]scoring.Row, len(m.Candidates))}
	for _, a := range m.Artifacts {
		out.Artifacts = append(out.Artifacts, scoring.Artifact{ID: a.ID, Generated: a.Generated})
	}
	for id, r := range m.Candidates {
		if out.Candidates[id], err = r.toScoring(); err != nil {
			return scoring.Matrix{}, fmt.Errorf("matrix: candidate %s: %w", id, err)
		}
	}
	return out, nil
}

func (r Row) toScoring() (scoring.Row, error) {
	out := scoring.Row{Status: scoring.RunStatus(r.Status), Reason: r.Reason, Tree: r.Tree}
	if notRun(r.Status, r.Reason, nil) {
		out.Status = scoring.RunNotRun
	}
	if r.Cases != nil {
		out.Cases = make(map[string]map[string]outcome.Outcome, len(r.Cases))
		for art, cases := range r.Cases {
			m := make(map[string]outcome.Outcome, len(cases))
			for id, o := range cases {
				v, err := outcome.Parse(string(o))
				if err != nil {
					return out, fmt.Errorf("case %s: %w", id, err)
				}
				m[id] = v
			}
			out.Cases[art] = m
		}
	}
	return out, nil
}
