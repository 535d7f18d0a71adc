package scoring

import (
	"runtime"

	"github.com/sourcegraph/conc/pool"
)

// similarity is the ratio 2·M / (|a| + |b|), where M is the length of a
// longest common subsequence of the two texts: the characters on the equal
// segments of a minimal character diff. It is the ratio Python's
// difflib.SequenceMatcher reports, which SWE-RL uses, computed on an optimal
// alignment instead of difflib's greedy one, so it is symmetric. It lies in
// [0, 1]: 1 for equal texts, 0 for texts sharing no character. Two empty
// texts are equal (1). Lengths count runes.
//
// Why this ratio and not a Levenshtein ratio (SWE-Swiss): on patches, most of
// the text is shared identifiers and the question is "how much of the change
// do the two agree on"; the matched-characters ratio answers exactly that and
// does not charge a substitution twice as the insert+delete view would.
func similarity(a, b lcsText, sc *lcsScratch) float64 {
	total := len(a.syms) + len(b.syms)
	if total == 0 {
		return 1
	}
	return 2 * float64(lcsLength(a, b, sc)) / float64(total)
}

// pairSimilarities returns the similarity of every pair of texts as an n×n
// matrix (row-major). Texts with equal keys make the same change and get 1
// without comparing. Rows are spread over the cores; each pair's value
// depends on its two texts only, so the result does not depend on
// scheduling.
func pairSimilarities(texts []string, keys []string) []float64 {
	n := len(texts)
	syms := symbols{}
	encoded := make([][]int32, n)
	for i, t := range texts {
		encoded[i] = syms.encode(t)
	}
	prepared := make([]lcsText, n)
	for i, e := range encoded {
		prepared[i] = newLCSText(e, len(syms))
	}
	sims := make([]float64, n*n)
	workers := pool.New().WithMaxGoroutines(runtime.GOMAXPROCS(0))
	for i := 0; i < n; i++ {
		sims[i*n+i] = 1
		workers.Go(func() {
			var sc lcsScratch
			for j := i + 1; j < n; j++ {
				s := 1.0
				if keys[i] != keys[j] {
					s = similarity(prepared[i], prepared[j], &sc)
				}
				sims[i*n+j], sims[j*n+i] = s, s
			}
		})
	}
	workers.Wait()
	return sims
}
