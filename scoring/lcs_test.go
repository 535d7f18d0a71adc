package scoring

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// lcsTable is the textbook dynamic program, the reference for lcsLength.
func lcsTable(a, b []rune) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			switch {
			case a[i-1] == b[j-1]:
				cur[j] = prev[j-1] + 1
			case prev[j] >= cur[j-1]:
				cur[j] = prev[j]
			default:
				cur[j] = cur[j-1]
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func lcsOf(a, b string) int {
	syms := symbols{}
	x, y := syms.encode(a), syms.encode(b)
	var sc lcsScratch
	return lcsLength(newLCSText(x, len(syms)), newLCSText(y, len(syms)), &sc)
}

func TestLCSLength(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 0},
		{"abc", "abc", 3},
		{"abc", "xyz", 0},
		{"abcbdab", "bdcaba", 4},
		{"éa", "éb", 1},
		// Common prefix and suffix around a middle that spans words.
		{"head" + strings.Repeat("xy", 70) + "tail", "head" + strings.Repeat("yx", 65) + "tail", 8 + 130},
	}
	for _, tt := range tests {
		if got := lcsOf(tt.a, tt.b); got != tt.want {
			t.Errorf("lcs(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := lcsOf(tt.b, tt.a); got != tt.want {
			t.Errorf("lcs(%q, %q) = %d, want %d", tt.b, tt.a, got, tt.want)
		}
	}
}

// TestLCSLengthMatchesTable compares with the dynamic program on random
// texts of a small alphabet (many matches), lengths around the 64-bit word
// boundaries, and shared prefixes and suffixes that move the middle's bit
// range to arbitrary offsets.
func TestLCSLengthMatchesTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	text := func(n int, alphabet string) string {
		r := []rune(alphabet)
		var b strings.Builder
		for range n {
			b.WriteRune(r[rng.IntN(len(r))])
		}
		return b.String()
	}
	for k := range 3000 {
		alphabet := []string{"ab", "abcd", "abcdefghij=+-() \n", "aé€😀"}[k%4]
		prefix := text(rng.IntN(140), alphabet)
		suffix := text(rng.IntN(140), alphabet)
		a := prefix + text(rng.IntN(300), alphabet) + suffix
		b := prefix + text(rng.IntN(300), alphabet) + suffix
		if k%7 == 0 {
			b = a[:len(a)/2] // one inside the other
		}
		want := lcsTable([]rune(a), []rune(b))
		if got := lcsOf(a, b); got != want {
			t.Fatalf("case %d: lcs(%q, %q) = %d, want %d", k, a, b, got, want)
		}
	}
}

// TestTopHalfSimilarityMatchesFullMatrix: skipping the pairs whose bound
// cannot reach a top half must give exactly the means of the full matrix,
// on jobs with clusters, duplicates (equal keys), lengths far apart and
// empty texts.
func TestTopHalfSimilarityMatchesFullMatrix(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for job := range 300 {
		n := 1 + rng.IntN(14)
		var texts, keys []string
		for i := range n {
			var text string
			switch {
			case i > 0 && rng.IntN(4) == 0: // a duplicate of an earlier text
				k := rng.IntN(i)
				text = texts[k]
			case rng.IntN(10) == 0:
				text = ""
			default:
				base := []string{"def f(x):\n+    return x + 1\n", "class C:\n-    pass\n+    y = 2\n"}[rng.IntN(2)]
				text = strings.Repeat(base, 1+rng.IntN(6))
				if rng.IntN(2) == 0 {
					r := []rune(text)
					r[rng.IntN(len(r))] = 'Z'
					text = string(r)
				}
			}
			texts = append(texts, text)
			keys = append(keys, text)
		}
		got := topHalfSimilarity(texts, keys)
		s := prepareSimilarity(texts, keys)
		var sc lcsScratch
		for i := range n {
			var row []float64
			for j := range n {
				if j != i {
					exact := s.pair(i, j, &sc)
					if b := s.bound(i, j); b < exact {
						t.Fatalf("job %d: bound(%d, %d) = %v below the similarity %v", job, i, j, b, exact)
					}
					row = append(row, exact)
				}
			}
			if want := meanOfTopHalf(row); got[i] != want {
				t.Fatalf("job %d (n=%d): text %d top-half similarity %v, full matrix gives %v", job, n, i, got[i], want)
			}
		}
	}
}

// BenchmarkLCSLength is one pair of BenchmarkScore-sized texts (about 1,500
// characters each, sharing most lines).
func BenchmarkLCSLength(b *testing.B) {
	var x, y strings.Builder
	for l := range 48 {
		fmt.Fprintf(&x, "+    value_%d=transform(value,%d)\n", l, l%5)
		fmt.Fprintf(&y, "+    value_%d=transform(value,%d)\n", l, (l*3)%5)
	}
	syms := symbols{}
	ex, ey := syms.encode(x.String()), syms.encode(y.String())
	a, c := newLCSText(ex, len(syms)), newLCSText(ey, len(syms))
	var sc lcsScratch
	b.ReportAllocs()
	for b.Loop() {
		lcsLength(a, c, &sc)
	}
}
