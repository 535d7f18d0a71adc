package accuracy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/bestpatch/bestpatch/scoring"
)

// dataDir holds the labelled SWE-bench candidate sets; BESTPATCH_DATA
// overrides it.
func dataDir() string {
	if d := os.Getenv("BESTPATCH_DATA"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "data")
}

// pinnedSet is what policy auto and the similarity signal gave on one data
// set when they were last changed on purpose (docs/SCORING.md): any
// optimization that moves a number here changed results.
type pinnedSet struct {
	file string
	// auto is the tie-aware accuracy of policy auto (with priors fitted on
	// dev, out of fold for dev) on dev and test, and mixed the instances it
	// ended in a tie of mixed labels; consensus and consensusMixed the same
	// for policy consensus (auto without priors).
	auto           map[string]float64
	mixed          map[string]int
	consensus      map[string]float64
	consensusMixed map[string]int
	// digest is the SHA-256 of every candidate's similarity and line
	// localization (to 12 decimals), votes and changed lines, instance by
	// instance.
	digest string
}

var pinnedSets = []pinnedSet{
	{
		file:           "swebench-lite-candidates.jsonl.gz",
		auto:           map[string]float64{SplitDev: 0.3037974684, SplitTest: 0.3309859155},
		mixed:          map[string]int{SplitDev: 0, SplitTest: 0},
		consensus:      map[string]float64{SplitDev: 0.2943037975, SplitTest: 0.2474178404},
		consensusMixed: map[string]int{SplitDev: 3, SplitTest: 4},
		digest:         "c9a1944f2904c63834519b789f87372570affcc0347bd94a0ca8e77a2d5b9ee9",
	},
	{
		file:           "swebench-verified-candidates.jsonl.gz",
		auto:           map[string]float64{SplitDev: 0.7420634921, SplitTest: 0.7500000000},
		mixed:          map[string]int{SplitDev: 0, SplitTest: 0},
		consensus:      map[string]float64{SplitDev: 0.6984126984, SplitTest: 0.7305107527},
		consensusMixed: map[string]int{SplitDev: 6, SplitTest: 6},
		digest:         "3b0cd74015e4c5e91c519d6ab0583bd2784f6cec2f3b1c7357790f663a81481e",
	},
}

// TestPinnedEvaluation replays policy auto on both real data sets and
// compares accuracy, mixed ties and every candidate's similarity with the
// pinned values. It needs the data sets (skipped without them) and takes a
// few seconds, so -short skips it.
func TestPinnedEvaluation(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the pinned evaluation replays both data sets")
	}
	auto, err := scoring.ParsePolicy(scoring.PolicyAuto)
	if err != nil {
		t.Fatal(err)
	}
	consensus, err := scoring.ParsePolicy(scoring.PolicyConsensus)
	if err != nil {
		t.Fatal(err)
	}
	for _, ps := range pinnedSets {
		t.Run(ps.file, func(t *testing.T) {
			path := filepath.Join(dataDir(), ps.file)
			if _, err := os.Stat(path); err != nil {
				t.Skipf("data set not available (%v): set BESTPATCH_DATA to the directory holding %s", err, ps.file)
			}
			insts, err := LoadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			bySplit, err := poolsBySplit(context.Background(), insts)
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			for _, split := range []string{SplitDev, SplitTest} {
				pools := bySplit[split]
				acc, mixed, err := policyAccuracy(pools, auto)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(acc-ps.auto[split]) > 1e-9 || mixed != ps.mixed[split] {
					t.Errorf("%s: auto %.10f with %d mixed ties, pinned %.10f with %d", split, acc, mixed, ps.auto[split], ps.mixed[split])
				}
				acc, mixed, err = policyAccuracy(pools, consensus)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(acc-ps.consensus[split]) > 1e-9 || mixed != ps.consensusMixed[split] {
					t.Errorf("%s: consensus %.10f with %d mixed ties, pinned %.10f with %d", split, acc, mixed, ps.consensus[split], ps.consensusMixed[split])
				}
				for _, p := range pools {
					for _, c := range p.Candidates {
						s, _ := p.Assessment.Signals(c.ID)
						fmt.Fprintf(h, "%s %s %.12f %.12f %d %d\n", p.ID, c.ID, s.Similarity, s.LineLocalization, s.Votes, s.ChangedLines)
					}
				}
			}
			if got := hex.EncodeToString(h.Sum(nil)); got != ps.digest {
				t.Errorf("signal digest %s, pinned %s: similarity, line localization, votes or sizes changed", got, ps.digest)
			}
		})
	}
}
