package selector

import (
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/scoring"
)

// TestWriteTextConfidence: the text report says the verdict's confidence
// when it has one, and nothing about it otherwise.
func TestWriteTextConfidence(t *testing.T) {
	p := 0.625
	for _, tc := range []struct {
		conf *float64
		want bool
	}{{&p, true}, {nil, false}} {
		var b strings.Builder
		r := Report{Verdict: scoring.Verdict{Policy: "auto", Chosen: "a", Confidence: tc.conf}}
		if err := r.WriteText(&b, nil); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(b.String(), "Confidence: 62.5% that the chosen candidate is correct"); got != tc.want {
			t.Errorf("confidence %v: line present %v, want %v:\n%s", tc.conf, got, tc.want, b.String())
		}
	}
}
