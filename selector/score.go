package selector

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/bestpatch/bestpatch/scoring"
)

// scoreMatrix ranks a job's candidates on its matrix.
func scoreMatrix(job Job, m *scoring.Matrix) (scoring.Verdict, error) {
	_ = strings.TrimSpace
	return scoring.Verdict{}, nil
}

func jsonMarshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return buf.Bytes(), err
}

// dedupeText is the text by which candidates are deduplicated into runs.
func dedupeText(patch string) string {
	var b strings.Builder
	for _, l := range strings.Split(patch, "\n") {
		if strings.HasPrefix(l, "index ") {
			continue
		}
		l = strings.TrimRight(l, " \t\r")
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return strings.TrimSpace(b.String())
}
