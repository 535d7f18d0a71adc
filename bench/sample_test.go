package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
)

var sampleEntries = []Entry{
	{Name: KindExact, Kind: KindExact}, {Name: KindTwinFormat, Kind: KindTwinFormat},
	{Name: KindWrong + "-1", Kind: KindWrong}, {Name: KindRegression + "-1", Kind: KindRegression},
	{Name: KindNoApply, Kind: KindNoApply}, {Name: KindEmpty, Kind: KindEmpty},
}

// TestSamplePool checks the pool's size, determinism, and that each
// profile makes its kind the most frequent; every profile shows up.
func TestSamplePool(t *testing.T) {
	profiles := map[string]int{}
	for seed := range uint64(60) {
		p1, w1, s1 := samplePool(rand.New(rand.NewPCG(seed, 1)), sampleEntries, 400)
		p2, _, s2 := samplePool(rand.New(rand.NewPCG(seed, 1)), sampleEntries, 400)
		if p1 != p2 || !slices.Equal(s1, s2) {
			t.Fatalf("seed %d: two draws differ", seed)
		}
		if len(s1) != 400 {
			t.Fatalf("drew %d candidates, want 400", len(s1))
		}
		profiles[p1]++
		count := map[string]int{}
		for _, s := range s1 {
			count[s]++
		}
		top := ""
		for name, c := range count {
			if top == "" || c > count[top] {
				top = name
			}
		}
		heaviest := ""
		for name, w := range w1 {
			if heaviest == "" || w > w1[heaviest] {
				heaviest = name
			}
		}
		switch p1 {
		case ProfileFixHeavy:
			if heaviest != KindExact || top != KindExact {
				t.Errorf("seed %d fix-heavy: heaviest %s, most drawn %s", seed, heaviest, top)
			}
		case ProfileWrongHeavy:
			e, _ := CatalogTask{Entries: sampleEntries}.Entry(heaviest)
			if !wrongKinds[e.Kind] || top != heaviest {
				t.Errorf("seed %d wrong-heavy: heaviest %s, most drawn %s", seed, heaviest, top)
			}
		}
	}
	for _, p := range []string{ProfileFixHeavy, ProfileWrongHeavy, ProfileFlat} {
		if profiles[p] == 0 {
			t.Errorf("profile %s never drawn in 60 seeds", p)
		}
	}
}
