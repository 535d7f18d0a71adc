package accuracy

import (
	"math"
	"testing"

	"github.com/bestpatch/bestpatch/scoring"
)

func TestVerdictOutcome(t *testing.T) {
	correct := map[string]bool{"a": true, "c": true}
	tests := []struct {
		name  string
		v     scoring.Verdict
		want  float64
		mixed bool
	}{
		{"chosen right, no tie", scoring.Verdict{Chosen: "a"}, 1, false},
		{"chosen wrong, no tie", scoring.Verdict{Chosen: "b"}, 0, false},
		{"tie of one right and one wrong", scoring.Verdict{Chosen: "a", Ties: []string{"a", "b"}}, 0.5, true},
		{"tie of two right, one wrong", scoring.Verdict{Chosen: "b", Ties: []string{"b", "a", "c"}}, 2.0 / 3, true},
		{"tie of two right", scoring.Verdict{Chosen: "a", Ties: []string{"a", "c"}}, 1, false},
		{"nothing chosen", scoring.Verdict{}, 0, false},
	}
	for _, tt := range tests {
		if got := VerdictOutcome(tt.v, correct); math.Abs(got.Accuracy-tt.want) > 1e-12 || got.Mixed != tt.mixed {
			t.Errorf("%s: %+v, want %v (mixed %v)", tt.name, got, tt.want, tt.mixed)
		}
	}
}

func TestAUC(t *testing.T) {
	tests := []struct {
		name   string
		scores []float64
		labels []bool
		want   float64
		ok     bool
	}{
		{"perfect", []float64{0.1, 0.2, 0.8, 0.9}, []bool{false, false, true, true}, 1, true},
		{"inverted", []float64{0.9, 0.8, 0.2}, []bool{false, false, true}, 0, true},
		{"all tied", []float64{1, 1, 1, 1}, []bool{true, false, true, false}, 0.5, true},
		// Positives 0.5 and 0.9; negatives 0.5 and 0.1: pairs (0.5,0.5) = 1/2,
		// (0.5,0.1) = 1, (0.9,0.5) = 1, (0.9,0.1) = 1 -> 3.5 / 4.
		{"partial tie", []float64{0.5, 0.9, 0.5, 0.1}, []bool{true, true, false, false}, 0.875, true},
		{"no positives", []float64{1, 2}, []bool{false, false}, 0, false},
		{"no negatives", []float64{1}, []bool{true}, 0, false},
		{"empty", nil, nil, 0, false},
	}
	for _, tt := range tests {
		got, ok := AUC(tt.scores, tt.labels)
		if ok != tt.ok || math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%s: %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}
