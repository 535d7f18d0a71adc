package bench

import (
	"math"
	"math/rand/v2"
)

// Pool profiles: how a task's kind frequencies are drawn.
const (
	ProfileFixHeavy   = "fix-heavy"   // the exact fix is the most frequent kind
	ProfileWrongHeavy = "wrong-heavy" // one wrong kind is the most frequent
	ProfileFlat       = "flat"        // random frequencies
)

// wrongKinds are the kinds a wrong-heavy pool may be dominated by.
var wrongKinds = map[string]bool{
	KindWrong: true, KindRegression: true, KindPartial: true, KindTampering: true, KindNoApply: true, KindNoop: true,
}

// samplePool draws n candidates, with repeats, from the entries: each entry
// gets a random weight (exponential, plus a floor), then the profile makes
// the exact fix, or one wrong kind, three times as likely as any other.
func samplePool(rng *rand.Rand, entries []Entry, n int) (profile string, weights map[string]float64, samples []string) {
	profile = []string{ProfileFixHeavy, ProfileWrongHeavy, ProfileFlat}[rng.IntN(3)]
	weights = map[string]float64{}
	top := 0.0
	var wrong []string
	for _, e := range entries {
		w := rng.ExpFloat64() + 0.2
		weights[e.Name] = w
		top = max(top, w)
		if wrongKinds[e.Kind] {
			wrong = append(wrong, e.Name)
		}
	}
	switch {
	case profile == ProfileFixHeavy:
		weights[KindExact] = 3 * top
	case profile == ProfileWrongHeavy && len(wrong) > 0:
		weights[wrong[rng.IntN(len(wrong))]] = 3 * top
	default:
		profile = ProfileFlat
	}
	total := 0.0
	for _, e := range entries {
		weights[e.Name] = math.Round(weights[e.Name]*1000) / 1000
		total += weights[e.Name]
	}
	for range n {
		x := rng.Float64() * total
		pick := entries[len(entries)-1].Name
		for _, e := range entries {
			if x < weights[e.Name] {
				pick = e.Name
				break
			}
			x -= weights[e.Name]
		}
		samples = append(samples, pick)
	}
	return profile, weights, samples
}
