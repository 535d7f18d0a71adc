package bench

import (
	"context"
	"fmt"
	"io"

	"github.com/bestpatch/bestpatch/bench/accuracy"
	"github.com/bestpatch/bestpatch/scoring"
)

// StreamResult is the stop rule of streaming jobs replayed on the set's
// pools in sample order (sample-00, sample-01, ...: each pool's candidates
// were drawn one by one from its kinds, so the file order is a sampling
// order): after each candidate, the verdict on the candidates so far (the
// same runs: a prefix's matrix is the pool's rows of those candidates),
// its confidence, and the rule's recommendation.
type StreamResult struct {
	// Models are the confidence models the verdicts were calibrated with:
	// the built-in ones, with the tests-scope model fitted on dev.
	Models scoring.ConfidenceModels `json:"models"`
	Dev    accuracy.StreamCurve     `json:"dev"`
	Test   accuracy.StreamCurve     `json:"test"`
}

// streamCurves replays policy auto's streaming verdicts on both splits.
func streamCurves(ctx context.Context, dev, test []accuracy.Pool, models scoring.ConfidenceModels) (*StreamResult, error) {
	auto, err := scoring.ParsePolicy(scoring.PolicyAuto)
	if err != nil {
		return nil, err
	}
	r := &StreamResult{Models: models}
	for _, s := range []struct {
		pools []accuracy.Pool
		into  *accuracy.StreamCurve
	}{{dev, &r.Dev}, {test, &r.Test}} {
		trajs, err := accuracy.ReplayAll(ctx, s.pools, auto, models)
		if err != nil {
			return nil, fmt.Errorf("stream replay: %w", err)
		}
		*s.into = accuracy.Curve(trajs, 1, accuracy.StreamTargets)
	}
	return r, nil
}

// writeStream prints the stop rule's curve on test, then on dev.
func writeStream(w io.Writer, r *StreamResult) error {
	fmt.Fprintf(w, "Streaming: the stop rule (docs/SCORING.md, \"When to stop sampling\") replayed in sample order; default target %.0f%%\n", 100*scoring.DefaultTargetConfidence)
	if err := accuracy.WriteCurve(w, "test split", r.Test); err != nil {
		return err
	}
	return accuracy.WriteCurve(w, "dev split (the default target was chosen here)", r.Dev)
}
