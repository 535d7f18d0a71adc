package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
)

var sampleEntries = []Entry{
	{Name: KindExact, Kind: KindExact, Resolved: true}, {Name: KindTwinFormat, Kind: KindTwinFormat, Resolved: true},
	{Name: KindWrong + "-1", Kind: KindWrong}, {Name: KindRegression + "-1", Kind: KindRegression},
	{Name: KindPartial + "-1", Kind: KindPartial}, {Name: KindPartial + "-2", Kind: KindPartial},
	{Name: KindNoApply, Kind: KindNoApply}, {Name: KindEmpty, Kind: KindEmpty},
}

// TestSamplePool checks the pool's size, determinism, and that each
// profile makes its kind the most frequent (no resolved candidate at all in
// a no-correct pool).
func TestSamplePool(t *testing.T) {
	for _, profile := range []string{ProfileFixHeavy, ProfileWrongHeavy, ProfilePartialHeavy, ProfileFlat, ProfileNoCorrect} {
		for seed := range uint64(20) {
			p1 := samplePool(rand.New(rand.NewPCG(seed, 1)), profile, sampleEntries, 400)
			p2 := samplePool(rand.New(rand.NewPCG(seed, 1)), profile, sampleEntries, 400)
			if p1.Profile != profile || !slices.Equal(p1.Samples, p2.Samples) {
				t.Fatalf("%s seed %d: profile %s, or two draws differ", profile, seed, p1.Profile)
			}
			if len(p1.Samples) != 400 {
				t.Fatalf("drew %d candidates, want 400", len(p1.Samples))
			}
			count := map[string]int{}
			for _, s := range p1.Samples {
				count[s]++
			}
			top := ""
			for name, c := range count {
				if top == "" || c > count[top] {
					top = name
				}
			}
			e, _ := CatalogTask{Entries: sampleEntries}.Entry(top)
			switch profile {
			case ProfileFixHeavy:
				if top != KindExact {
					t.Errorf("seed %d fix-heavy: most drawn %s", seed, top)
				}
			case ProfileWrongHeavy:
				if !wrongKinds[e.Kind] {
					t.Errorf("seed %d wrong-heavy: most drawn %s", seed, top)
				}
			case ProfilePartialHeavy:
				if e.Kind != KindPartial {
					t.Errorf("seed %d partial-heavy: most drawn %s", seed, top)
				}
			case ProfileNoCorrect:
				if count[KindExact]+count[KindTwinFormat] > 0 {
					t.Errorf("seed %d no-correct: drew resolved candidates %v", seed, count)
				}
			}
		}
	}
}

// TestDrawPools: three pools per task, named after it; a two-site task's
// second pool is partial-heavy; some tasks have a pool with no resolved
// candidate.
func TestDrawPools(t *testing.T) {
	noCorrect := 0
	for seed := range uint64(30) {
		pools := drawPools(rand.New(rand.NewPCG(seed, 2)), "mod-1", sampleEntries, 16)
		if len(pools) != PoolsPerTask || pools[0].InstanceID != "mod-1.p1" || pools[2].InstanceID != "mod-1.p3" {
			t.Fatalf("pools %+v", pools)
		}
		if pools[1].Profile != ProfilePartialHeavy {
			t.Errorf("seed %d: second pool %s, want partial-heavy (the task has partial fixes)", seed, pools[1].Profile)
		}
		if pools[2].Profile == ProfileNoCorrect {
			noCorrect++
		}
	}
	if noCorrect == 0 || noCorrect == 30 {
		t.Errorf("%d of 30 tasks have a no-correct pool", noCorrect)
	}
}
