package scoring

import (
	"math"
	"testing"
)

func TestExpectedAccuracy(t *testing.T) {
	right := map[string]bool{"a": true, "c": true}
	correct := func(id string) bool { return right[id] }
	tests := []struct {
		name string
		v    Verdict
		want float64
	}{
		{"chosen right, no tie", Verdict{Chosen: "a"}, 1},
		{"chosen wrong, no tie", Verdict{Chosen: "b"}, 0},
		{"tie of one right and one wrong", Verdict{Chosen: "a", Ties: []string{"a", "b"}}, 0.5},
		{"tie of two right, one wrong", Verdict{Chosen: "b", Ties: []string{"b", "a", "c"}}, 2.0 / 3},
		{"nothing chosen", Verdict{}, 0},
	}
	for _, tt := range tests {
		if got := ExpectedAccuracy(tt.v, correct); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
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
