package scoring

import (
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// similarity is the ratio 2·M / (|a| + |b|), where M counts the characters
// the two texts share in a minimal character diff (go-diff's Myers diff, with
// its line-level speed-up for long texts). It is the ratio Python's
// difflib.SequenceMatcher reports, which SWE-RL uses, computed on an optimal
// alignment instead of difflib's greedy one. It lies in [0, 1]: 1 for equal
// texts, 0 for texts sharing no character. Two empty texts are equal (1).
//
// Why this ratio and not a Levenshtein ratio (SWE-Swiss): on patches, most of
// the text is shared identifiers and the question is "how much of the change
// do the two agree on"; the matched-characters ratio answers exactly that and
// does not charge a substitution twice as the insert+delete view would.
func similarity(dmp *diffmatchpatch.DiffMatchPatch, a, b string) float64 {
	if a == b {
		return 1
	}
	total := utf8.RuneCountInString(a) + utf8.RuneCountInString(b)
	if total == 0 {
		return 1
	}
	matched := 0
	for _, d := range dmp.DiffMain(a, b, true) {
		if d.Type == diffmatchpatch.DiffEqual {
			matched += utf8.RuneCountInString(d.Text)
		}
	}
	return 2 * float64(matched) / float64(total)
}

// newDiffer returns a go-diff engine without a deadline: with a deadline the
// diff, and so the verdict, could depend on the machine's speed.
func newDiffer() *diffmatchpatch.DiffMatchPatch {
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = 0
	return dmp
}
