package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/bestpatch/bestpatch/accuracy"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector/batch"
)

// registerConfidenceModel adds --confidence-model and --min-confidence to
// select and batch.
func registerConfidenceModel(f *pflag.FlagSet, path *string, min *float64) {
	f.StringVar(path, "confidence-model", "", "confidence models (JSON, from bestpatch batch or eval --fit-confidence) that replace the built-in ones of their scopes")
	f.Float64Var(min, "min-confidence", 0, "abstain (\"sample more\") when the verdict's confidence, P(the chosen candidate is correct), is below this, or when no calibrated model gives one")
}

// loadConfidenceModels reads a models file: a JSON list of models, or one
// model; none when path is empty.
func loadConfidenceModels(path string) (scoring.ConfidenceModels, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--confidence-model: %w", err)
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
		return nil, fmt.Errorf("--confidence-model %s: not a confidence model (bestpatch batch --fit-confidence writes one): %w", path, err)
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("--confidence-model %s: no model in the file", path)
	}
	if err := ms.Validate(); err != nil {
		return nil, fmt.Errorf("--confidence-model %s: %w", path, err)
	}
	return ms, nil
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
	if err := writeJSONFile(path, ms); err != nil {
		return fmt.Errorf("--fit-confidence: %w", err)
	}
	for _, m := range ms {
		r := accuracy.MeasureSamples(m, sum.Samples)
		fmt.Fprintf(w, "confidence model (%s) fitted on %d labelled verdicts (in-sample Brier %.4f, ECE %.4f) -> %s\n", m.Scope, r.Verdicts, r.Brier, r.ECE, path)
	}
	return nil
}
