package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/bestpatch/bestpatch/bench/accuracy"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector/batch"
)

// registerConfidenceModel adds --confidence-model and --min-confidence to
// select and batch.
func registerConfidenceModel(f *pflag.FlagSet, path *string, min *float64) {
	f.StringVar(path, "confidence-model", "", "confidence models (JSON, from bestpatch batch or eval --fit-confidence) that replace the built-in ones of their scopes")
	f.Float64Var(min, "min-confidence", 0, "abstain (\"sample more\") when the verdict's confidence, P(the chosen candidate is correct), is below this, or when no calibrated model gives one")
}

// loadConfidenceModels reads a models file (--confidence-model); none when
// path is empty.
func loadConfidenceModels(path string) (scoring.ConfidenceModels, error) {
	if path == "" {
		return nil, nil
	}
	ms, err := readConfidenceModels(path)
	if err != nil {
		return nil, fmt.Errorf("--confidence-model: %w", err)
	}
	return ms, nil
}

// readConfidenceModels reads a models file: a JSON list of models, or one
// model.
func readConfidenceModels(path string) (scoring.ConfidenceModels, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ms scoring.ConfidenceModels
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		var m scoring.ConfidenceModel
		err = json.Unmarshal(t, &m)
		ms = scoring.ConfidenceModels{m}
	} else {
		err = json.Unmarshal(b, &ms)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: not a confidence model (bestpatch batch --fit-confidence writes one): %w", path, err)
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("%s: no model in the file", path)
	}
	if err := ms.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ms, nil
}

// writeConfidenceModels writes fitted models to path, keeping the models of
// other scopes that a file already there holds: one file collects the
// model of each scope, each fitted by its own command (eval fits the
// execution-free one, bench accuracy the tests one, and both refit
// scoring/confidence_default.json so). It returns the scopes kept.
func writeConfidenceModels(path string, fitted scoring.ConfidenceModels) (kept []string, err error) {
	var old scoring.ConfidenceModels
	switch _, statErr := os.Stat(path); {
	case statErr == nil:
		if old, err = readConfidenceModels(path); err != nil {
			return nil, fmt.Errorf("%w: a fitted model joins the models already in the file; remove it or write elsewhere", err)
		}
	case !errors.Is(statErr, fs.ErrNotExist):
		return nil, statErr
	}
	all := old.With(fitted)
	slices.SortFunc(all, func(a, b scoring.ConfidenceModel) int { return strings.Compare(a.Scope, b.Scope) })
	for _, m := range old {
		if !slices.ContainsFunc(fitted, func(f scoring.ConfidenceModel) bool { return f.Scope == m.Scope }) {
			kept = append(kept, m.Scope)
		}
	}
	return kept, writeJSONFile(path, all)
}

// reportConfidenceWritten says which models went to path and which were
// kept there.
func reportConfidenceWritten(w io.Writer, path string, fitted scoring.ConfidenceModels, kept []string) {
	var scopes []string
	for _, m := range fitted {
		scopes = append(scopes, m.Scope)
	}
	fmt.Fprintf(w, "confidence model (%s) -> %s", strings.Join(scopes, ", "), path)
	if len(kept) > 0 {
		fmt.Fprintf(w, " (kept the model of %s already there)", strings.Join(kept, ", "))
	}
	fmt.Fprintln(w)
}

// writeFittedConfidence fits confidence models on a labelled batch's
// verdicts and writes them.
func writeFittedConfidence(w io.Writer, path string, sum *batch.Summary, source string) error {
	ms, skipped, err := accuracy.FitConfidenceModels(sum.Samples, source)
	if err != nil {
		return fmt.Errorf("--fit-confidence: %w", err)
	}
	for _, s := range skipped {
		fmt.Fprintf(w, "confidence: no model for %s\n", s)
	}
	if len(ms) == 0 {
		return fmt.Errorf("--fit-confidence: no scope has %d labelled verdicts to fit on (%d verdicts in all)", accuracy.MinFitSamples, len(sum.Samples))
	}
	kept, err := writeConfidenceModels(path, ms)
	if err != nil {
		return fmt.Errorf("--fit-confidence: %w", err)
	}
	for _, m := range ms {
		r := accuracy.MeasureSamples(m, sum.Samples)
		fmt.Fprintf(w, "confidence model (%s) fitted on %d labelled verdicts (in-sample Brier %.4f, ECE %.4f)\n", m.Scope, r.Verdicts, r.Brier, r.ECE)
	}
	reportConfidenceWritten(w, path, ms, kept)
	return nil
}
