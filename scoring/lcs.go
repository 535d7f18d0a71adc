package scoring

import "math/bits"

// symbols maps the runes of one job's texts to dense symbol numbers, so
// that each text's match table is indexed by a small integer.
type symbols map[rune]int32

// encode returns text as symbols, adding runes not seen yet.
func (s symbols) encode(text string) []int32 {
	out := make([]int32, 0, len(text))
	for _, r := range text {
		n, ok := s[r]
		if !ok {
			n = int32(len(s))
			s[r] = n
		}
		out = append(out, n)
	}
	return out
}

// lcsText is one text prepared for bit-parallel LCS against any other text
// of the same job: its symbols, and for each symbol it holds, a bit vector
// of the positions where it occurs (the "match" vectors of Allison-Dix and
// Hyyrö's algorithm).
type lcsText struct {
	syms  []int32
	words int      // 64-bit words per bit vector: ceil(len(syms)/64)
	row   []int32  // by symbol: index of its vector in match, or -1 (absent)
	match []uint64 // vectors of words words each
}

// newLCSText builds the match vectors of syms. alphabet is the number of
// symbols of the job, so far (every symbol in syms is below it).
func newLCSText(syms []int32, alphabet int) lcsText {
	t := lcsText{syms: syms, words: (len(syms) + 63) / 64, row: make([]int32, alphabet)}
	for i := range t.row {
		t.row[i] = -1
	}
	distinct := int32(0)
	for _, c := range syms {
		if t.row[c] < 0 {
			t.row[c] = distinct
			distinct++
		}
	}
	t.match = make([]uint64, int(distinct)*t.words)
	for i, c := range syms {
		t.match[int(t.row[c])*t.words+i/64] |= 1 << (i % 64)
	}
	return t
}

// lcsScratch is the working memory of lcsLength, reused across pairs by one
// goroutine.
type lcsScratch struct {
	v []uint64
}

// lcsLength is the length of a longest common subsequence of a and b: the
// number of characters on the equal segments of a minimal diff. It strips
// the common prefix and suffix, then runs the bit-parallel algorithm of
// Hyyrö ("Bit-parallel LCS-length computation revisited", 2004) over the
// rest, with the cheaper of the two texts as the bit-vector side, in
// O(ceil(m/64)·n) word operations. It is exact.
func lcsLength(a, b lcsText, sc *lcsScratch) int {
	x, y := a.syms, b.syms
	prefix := 0
	for prefix < len(x) && prefix < len(y) && x[prefix] == y[prefix] {
		prefix++
	}
	suffix := 0
	for suffix < len(x)-prefix && suffix < len(y)-prefix && x[len(x)-1-suffix] == y[len(y)-1-suffix] {
		suffix++
	}
	mx, my := len(x)-prefix-suffix, len(y)-prefix-suffix
	if mx == 0 || my == 0 {
		return prefix + suffix
	}
	// The vector side costs a word per 64 of its characters for each
	// character of the other side.
	if (mx+63)/64*my > (my+63)/64*mx {
		a, b = b, a
		mx, my = my, mx
	}
	return prefix + suffix + middleLCS(a, b.syms[prefix:prefix+my], prefix, prefix+mx, sc)
}

// advance runs the recurrence V' = (V + U) | (V &^ U), U = V & match(c), for
// each symbol c of other, over the words of v (a's words from w0 on). It is
// kept apart from middleLCS so that the compiler keeps the inner loop's
// values in registers.
func advance(v []uint64, a lcsText, other []int32, w0 int) {
	for _, c := range other {
		if int(c) >= len(a.row) || a.row[c] < 0 {
			continue // no match in a: U = 0 leaves V as it is
		}
		start := int(a.row[c])*a.words + w0
		m := a.match[start : start+len(v)]
		var carry uint64
		for k, mk := range m {
			x := v[k]
			u := x & mk
			var sum uint64
			sum, carry = bits.Add64(x, u, carry)
			v[k] = sum | (x &^ u)
		}
	}
}

// middleLCS is the LCS of a.syms[lo:hi] and other, computed on a's match
// vectors over the words holding the bits [lo, hi).
//
// The bits outside the range cannot reach the ones inside: a carry only
// moves up, the bits below lo start at V = 0 (so U = 0 there, and they stay
// 0 and never carry), and whatever the bits above hi become, they only carry
// further up, out of the last word. Only the zeros inside the range count.
func middleLCS(a lcsText, other []int32, lo, hi int, sc *lcsScratch) int {
	w0, w1 := lo/64, (hi-1)/64
	n := w1 - w0 + 1
	if cap(sc.v) < n {
		sc.v = make([]uint64, n)
	}
	v := sc.v[:n]
	for k := range v {
		v[k] = ^uint64(0)
	}
	v[0] &^= 1<<(lo%64) - 1
	advance(v, a, other, w0)
	zeros := 0
	for k, x := range v {
		mask := ^uint64(0)
		if k == 0 {
			mask &^= 1<<(lo%64) - 1
		}
		if k == n-1 && hi%64 != 0 {
			mask &= 1<<(hi%64) - 1
		}
		zeros += bits.OnesCount64(^x & mask)
	}
	return zeros
}
