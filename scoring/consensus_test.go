package scoring

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"
)

// similarityOf compares two texts the way consensus does.
func similarityOf(a, b string) float64 {
	var sc lcsScratch
	return prepareSimilarity([]string{a, b}, []string{"a", "b"}).pair(0, 1, &sc)
}

func TestSimilarity(t *testing.T) {
	tests := []struct {
		a, b string
		want float64
	}{
		{"", "", 1},
		{"abc", "abc", 1},
		{"abc", "xyz", 0},
		{"abcd", "", 0},
		// Shared "ab": 2·2 / (4+2).
		{"abcd", "ab", 4.0 / 6},
		// Shared "a" and "c": 2·2 / (3+3); a substitution costs once.
		{"abc", "axc", 4.0 / 6},
		// Runes, not bytes: shared "é": 2·1 / (2+2).
		{"éa", "éb", 2.0 / 4},
	}
	for _, tt := range tests {
		got := similarityOf(tt.a, tt.b)
		if math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("similarity(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if back := similarityOf(tt.b, tt.a); math.Abs(back-got) > 1e-12 {
			t.Errorf("similarity not symmetric on %q, %q: %v vs %v", tt.a, tt.b, got, back)
		}
	}
}

func TestMeanOfTopHalf(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{0.4}, 0.4},
		{[]float64{0.2, 0.8}, 0.8},         // top 1 of 2
		{[]float64{0.1, 0.9, 0.5}, 0.7},    // top 2 of 3
		{[]float64{0, 1, 0.5, 0.25}, 0.75}, // top 2 of 4
	}
	for _, tt := range tests {
		if got := meanOfTopHalf(tt.in); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("meanOfTopHalf(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestConsensusSignals: three candidates make the same fix (two of them
// cosmetic twins), one rewrites another function with a large change.
func TestConsensusSignals(t *testing.T) {
	other := "--- a/geo/shapes.py\n+++ b/geo/shapes.py\n@@ -4,2 +4,30 @@\n def area(w, h):\n-    return w * h\n"
	for i := 0; i < 28; i++ {
		other += "+    step" + string(rune('a'+i%26)) + " = w * h + " + string(rune('0'+i%10)) + "\n"
	}
	other += "+    return stepa\n"
	cands := []Candidate{
		{ID: "fix", Patch: fixPerimeter},
		{ID: "twin", Patch: fixPerimeterTwin},
		{ID: "close", Patch: fixPerimeterOther},
		{ID: "other", Patch: other},
		{ID: "tamper", Patch: fixPerimeter + "--- a/tests/test_shapes.py\n+++ b/tests/test_shapes.py\n@@ -1 +1 @@\n-assert perimeter(1, 1) == 4\n+assert True\n"},
	}
	a, err := Assess(Input{Candidates: cands, TestFiles: pythonTests})
	if err != nil {
		t.Fatal(err)
	}
	sig := map[string]Signals{}
	for _, c := range cands {
		sig[c.ID], _ = a.Signals(c.ID)
	}
	// Test files do not take part in the effective change: tamper votes with fix.
	if sig["fix"].Votes != 3 || sig["twin"].Votes != 3 || sig["tamper"].Votes != 3 || sig["close"].Votes != 1 {
		t.Errorf("votes fix %d twin %d tamper %d close %d, want 3 3 3 1", sig["fix"].Votes, sig["twin"].Votes, sig["tamper"].Votes, sig["close"].Votes)
	}
	if !hasFlag(sig["tamper"].Flags, FlagTouchesTests) {
		t.Errorf("tamper flags %v", sig["tamper"].Flags)
	}
	if !hasFlag(sig["other"].Flags, FlagSizeOutlier) || hasFlag(sig["fix"].Flags, FlagSizeOutlier) {
		t.Errorf("size outlier flags: other %v fix %v", sig["other"].Flags, sig["fix"].Flags)
	}
	if !(sig["fix"].Similarity > sig["close"].Similarity && sig["close"].Similarity > sig["other"].Similarity) {
		t.Errorf("similarity fix %.3f close %.3f other %.3f: want decreasing", sig["fix"].Similarity, sig["close"].Similarity, sig["other"].Similarity)
	}
	if sig["fix"].FunctionLocalization <= sig["other"].FunctionLocalization {
		t.Errorf("function localization fix %.3f other %.3f", sig["fix"].FunctionLocalization, sig["other"].FunctionLocalization)
	}
	if sig["other"].Localization != 1 {
		t.Errorf("every candidate touches geo/shapes.py: localization %v, want 1", sig["other"].Localization)
	}
	v, err := a.Select(mustPolicy(t, PolicyConsensus))
	if err != nil {
		t.Fatal(err)
	}
	// tamper makes the same change as fix and twin but also edits a test:
	// it ranks below every clean candidate, so it is not in the tie.
	if v.Chosen != "fix" || !slices.Equal(v.Ties, []string{"fix", "twin"}) {
		t.Errorf("chosen %q ties %q: want fix, tied with its twin", v.Chosen, v.Ties)
	}
	for _, r := range v.Ranking {
		if r.ID == "tamper" && r.Rank != 5 {
			t.Errorf("tamper ranks %d, want 5 (below the four clean candidates)", r.Rank)
		}
	}
}

// TestLineLocalization: candidates that edit the same base lines agree,
// whatever they write there; an edit elsewhere in the same file does not.
func TestLineLocalization(t *testing.T) {
	edit := func(line int, with string) string {
		return fmt.Sprintf("--- a/pkg/mod.py\n+++ b/pkg/mod.py\n@@ -%d,3 +%d,3 @@ def f(x):\n     a = 1\n-    return x\n+    return %s\n     b = 2\n", line, line, with)
	}
	cands := []Candidate{
		{ID: "here1", Patch: edit(10, "x + 1")},
		{ID: "here2", Patch: edit(10, "abs(x)")},
		{ID: "here3", Patch: edit(10, "x or 0")},
		{ID: "there", Patch: edit(50, "x + 1")},
		{ID: "gone", Patch: "diff --git a/pkg/old.py b/pkg/old.py\ndeleted file mode 100644\n--- a/pkg/old.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x = 1\n"},
	}
	a, err := Assess(Input{Candidates: cands})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, c := range cands {
		s, _ := a.Signals(c.ID)
		got[c.ID] = s.LineLocalization
	}
	// here1 edits line 11; its top half (2 of 4 others) is here2 and here3.
	want := map[string]float64{"here1": 1, "here2": 1, "here3": 1, "there": 0, "gone": 0}
	for id, w := range want {
		if math.Abs(got[id]-w) > 1e-12 {
			t.Errorf("%s line localization %v, want %v (all %v)", id, got[id], w, got)
		}
	}
	if v, err := a.Select(mustPolicy(t, PolicyConsensus)); err != nil || v.Chosen == "there" || v.Chosen == "gone" {
		t.Errorf("consensus chose %q (%v): want one of the candidates editing the shared line", v.Chosen, err)
	}
}

// TestViewsOfRepeatedPatches: candidates repeating a patch text get the
// view their own normalization would give, under their own ID; a text that
// differs only in whitespace is normalized on its own.
func TestViewsOfRepeatedPatches(t *testing.T) {
	spaced := "--- a/pkg/f.py\n+++ b/pkg/f.py\n@@ -1,1 +1,1 @@\n-x = 0\n+x =  1\n"
	cands := []Candidate{
		{ID: "a", Patch: onePatch(0)}, {ID: "b", Patch: onePatch(1)}, {ID: "c", Patch: onePatch(0)},
		{ID: "d", Patch: spaced}, {ID: "e", Patch: "not a patch"}, {ID: "f", Patch: onePatch(1)}, {ID: "g", Patch: "not a patch"},
	}
	tests := pythonTests
	got := viewsOf(cands, nil, tests)
	if len(got) != len(cands) {
		t.Fatalf("%d views for %d candidates", len(got), len(cands))
	}
	for i, c := range cands {
		if want := newView(c, nil, tests); !reflect.DeepEqual(got[i], want) {
			t.Errorf("candidate %s: view\n%+v\nwant\n%+v", c.ID, got[i], want)
		}
	}
}
