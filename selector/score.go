package selector

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/bestpatch/bestpatch/scoring"
)

// scoreMatrix ranks a job's candidates on its matrix. The matrix already
// holds only the original cases that count (Task.OriginalTests).
func scoreMatrix(job Job, m *scoring.Matrix) (scoring.Verdict, error) {
	pol, err := scoring.ParsePolicy(job.Options.policy())
	if err != nil {
		return scoring.Verdict{}, err
	}
	return scoring.Score(scoring.Input{Candidates: job.Candidates, Matrix: m}, pol)
}

func jsonMarshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return buf.Bytes(), err
}

// dedupeKey is the key by which candidates share a run: their normalized
// patch (whitespace, comments, index lines and context do not matter). A
// patch that does not parse is compared by its text; it still runs, so that
// the executor's apply step is what rejects it.
func dedupeKey(patch string) (key string, empty bool) {
	n, err := scoring.Normalize(patch, nil)
	if err != nil {
		if strings.TrimSpace(patch) == "" {
			return "", true
		}
		n = scoring.NormalizeFallback(patch)
		return n.Key, false
	}
	return n.Key, n.Empty()
}
