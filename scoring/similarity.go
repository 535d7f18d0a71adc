package scoring

import (
	"runtime"
	"slices"
	"sort"

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

// similarityTexts are one job's texts, each prepared once for every pair.
type similarityTexts struct {
	texts []lcsText
	keys  []string  // equal keys: the same change, similarity 1
	hist  [][]int32 // per text, occurrences of each symbol
}

func prepareSimilarity(texts, keys []string) similarityTexts {
	syms := symbols{}
	encoded := make([][]int32, len(texts))
	for i, t := range texts {
		encoded[i] = syms.encode(t)
	}
	s := similarityTexts{texts: make([]lcsText, len(texts)), keys: keys, hist: make([][]int32, len(texts))}
	for i, e := range encoded {
		s.texts[i] = newLCSText(e, len(syms))
		s.hist[i] = make([]int32, len(syms))
		for _, c := range e {
			s.hist[i][c]++
		}
	}
	return s
}

// pair is the similarity of texts i and j.
func (s similarityTexts) pair(i, j int, sc *lcsScratch) float64 {
	if s.keys[i] == s.keys[j] {
		return 1
	}
	return similarity(s.texts[i], s.texts[j], sc)
}

// bound is an upper bound of pair(i, j) at the cost of one pass over the
// alphabet: a common subsequence uses each symbol at most as often as the
// text holding fewer of it.
func (s similarityTexts) bound(i, j int) float64 {
	if s.keys[i] == s.keys[j] {
		return 1
	}
	total := len(s.texts[i].syms) + len(s.texts[j].syms)
	if total == 0 {
		return 1
	}
	common := 0
	for c, n := range s.hist[i] {
		common += int(min(n, s.hist[j][c]))
	}
	return 2 * float64(common) / float64(total)
}

// topHalfSimilarity returns, for each text, meanOfTopHalf of its
// similarities to the others, computing only the pairs that can change it.
//
// A first round computes, for each text, the ceil((n−1)/2) pairs with the
// highest bounds; low[i] is then the smallest value in text i's top half so
// far, which can only rise. A pair whose bound is at most low[i] and at most
// low[j] can enter neither top half, except as a value equal to one already
// there, so it is skipped and stands as 0 (≤ low) in both rows: the top-half
// values, and so their sums, are exactly those of the full matrix. Both
// rounds spread their pairs over the cores; which pairs run depends only on
// the texts, never on scheduling.
func topHalfSimilarity(texts, keys []string) []float64 {
	n := len(texts)
	out := make([]float64, n)
	if n < 2 {
		return out
	}
	s := prepareSimilarity(texts, keys)
	bounds := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			b := s.bound(i, j)
			bounds[i*n+j], bounds[j*n+i] = b, b
		}
	}
	k := n / 2 // ceil((n-1)/2)
	done := make([]bool, n*n)
	var first [][2]int
	partners := make([]int, 0, n-1)
	for i := 0; i < n; i++ {
		partners = partners[:0]
		for j := 0; j < n; j++ {
			if j != i {
				partners = append(partners, j)
			}
		}
		sort.SliceStable(partners, func(a, b int) bool { return bounds[i*n+partners[a]] > bounds[i*n+partners[b]] })
		for _, j := range partners[:k] {
			if !done[i*n+j] {
				done[i*n+j], done[j*n+i] = true, true
				first = append(first, [2]int{min(i, j), max(i, j)})
			}
		}
	}
	sims := make([]float64, n*n)
	s.computePairs(first, sims, n)

	low := make([]float64, n)
	row := make([]float64, 0, n-1)
	for i := 0; i < n; i++ {
		row = row[:0]
		for j := 0; j < n; j++ {
			if j != i && done[i*n+j] {
				row = append(row, sims[i*n+j])
			}
		}
		slices.Sort(row)
		low[i] = row[len(row)-k] // the k-th largest
	}
	var second [][2]int
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if b := bounds[i*n+j]; !done[i*n+j] && (b > low[i] || b > low[j]) {
				second = append(second, [2]int{i, j})
			}
		}
	}
	s.computePairs(second, sims, n)

	for i := 0; i < n; i++ {
		row = row[:0]
		for j := 0; j < n; j++ {
			if j != i {
				row = append(row, sims[i*n+j])
			}
		}
		out[i] = meanOfTopHalf(row)
	}
	return out
}

// computePairs fills sims (n×n, row-major, both halves) for the pairs,
// spread over the cores in contiguous chunks; each value depends on its two
// texts only.
func (s similarityTexts) computePairs(pairs [][2]int, sims []float64, n int) {
	workers := runtime.GOMAXPROCS(0)
	chunk := (len(pairs) + 4*workers - 1) / (4 * workers)
	if chunk == 0 {
		return
	}
	p := pool.New().WithMaxGoroutines(workers)
	for start := 0; start < len(pairs); start += chunk {
		part := pairs[start:min(start+chunk, len(pairs))]
		p.Go(func() {
			var sc lcsScratch
			for _, ij := range part {
				i, j := ij[0], ij[1]
				v := s.pair(i, j, &sc)
				sims[i*n+j], sims[j*n+i] = v, v
			}
		})
	}
	p.Wait()
}
