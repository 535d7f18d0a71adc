package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Pool profiles: how a pool's kind frequencies are drawn.
const (
	ProfileFixHeavy     = "fix-heavy"     // the exact fix is the most frequent kind
	ProfileWrongHeavy   = "wrong-heavy"   // one wrong kind is the most frequent
	ProfilePartialHeavy = "partial-heavy" // the partial fixes of a two-site bug are the most frequent
	ProfileFlat         = "flat"          // random frequencies
	ProfileNoCorrect    = "no-correct"    // no resolved candidate: any answer is wrong
)

// PoolsPerTask is the number of pools drawn from each task's candidates.
const PoolsPerTask = 3

// noCorrectShare is the chance that a task's third pool holds no resolved
// candidate.
const noCorrectShare = 0.4

// wrongKinds are the kinds a wrong-heavy pool may be dominated by.
var wrongKinds = map[string]bool{
	KindWrong: true, KindRegression: true, KindPartial: true, KindTampering: true, KindNoApply: true, KindNoop: true,
}

// drawPools draws a task's pools: the first fix-heavy or flat, the second
// dominated by the partial fixes of a two-site bug (by a wrong kind
// otherwise), the third without any resolved candidate (noCorrectShare of
// the tasks) or wrong-heavy or flat. Pool k of task id is instance
// "id.pk".
func drawPools(rng *rand.Rand, id string, entries []Entry, n int) []PoolDraw {
	twoSite := false
	for _, e := range entries {
		twoSite = twoSite || e.Kind == KindPartial
	}
	profiles := []string{[]string{ProfileFixHeavy, ProfileFlat}[rng.IntN(2)], ProfileWrongHeavy}
	if twoSite {
		profiles[1] = ProfilePartialHeavy
	}
	if rng.Float64() < noCorrectShare {
		profiles = append(profiles, ProfileNoCorrect)
	} else {
		profiles = append(profiles, []string{ProfileWrongHeavy, ProfileFlat}[rng.IntN(2)])
	}
	var pools []PoolDraw
	for k, profile := range profiles {
		p := samplePool(rng, profile, entries, n)
		p.InstanceID = fmt.Sprintf("%s.p%d", id, k+1)
		pools = append(pools, p)
	}
	return pools
}

// samplePool draws n candidates, with repeats, from the entries: each entry
// gets a random weight (exponential, plus a floor), then the profile makes
// the exact fix, one wrong kind or the partial fixes three times as likely
// as any other, or leaves every resolved entry out.
func samplePool(rng *rand.Rand, profile string, entries []Entry, n int) PoolDraw {
	weights := map[string]float64{}
	top := 0.0
	var wrong, partial []string
	for _, e := range entries {
		w := rng.ExpFloat64() + 0.2
		weights[e.Name] = w
		top = max(top, w)
		if wrongKinds[e.Kind] {
			wrong = append(wrong, e.Name)
		}
		if e.Kind == KindPartial {
			partial = append(partial, e.Name)
		}
	}
	switch {
	case profile == ProfileFixHeavy:
		weights[KindExact] = 3 * top
	case profile == ProfilePartialHeavy && len(partial) > 0:
		for _, name := range partial {
			weights[name] = 3 * top
		}
	case (profile == ProfileWrongHeavy || profile == ProfilePartialHeavy) && len(wrong) > 0:
		profile = ProfileWrongHeavy
		weights[wrong[rng.IntN(len(wrong))]] = 3 * top
	case profile == ProfileNoCorrect:
		for _, e := range entries {
			if e.Resolved {
				weights[e.Name] = 0
			}
		}
	default:
		profile = ProfileFlat
	}
	total := 0.0
	var last string
	for _, e := range entries {
		weights[e.Name] = math.Round(weights[e.Name]*1000) / 1000
		total += weights[e.Name]
		if weights[e.Name] > 0 {
			last = e.Name
		}
	}
	p := PoolDraw{Profile: profile, Weights: weights}
	for range n {
		x := rng.Float64() * total
		pick := last
		for _, e := range entries {
			if w := weights[e.Name]; w > 0 && x < w {
				pick = e.Name
				break
			}
			x -= weights[e.Name]
		}
		p.Samples = append(p.Samples, pick)
	}
	return p
}
