package scoring

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// pinsFrom regenerates the pinned similarities from the SWE-bench candidate
// sets (docs/SCORING.md). Do it only when the ratio is changed on purpose.
var pinsFrom = flag.String("pins.from", "", "rewrite "+pinsFile+" from the *-candidates.jsonl.gz sets in this directory")

const pinsFile = "testdata/similarity_pins.json.gz"

// pinnedInstance is one real SWE-bench instance with what scoring made of it.
type pinnedInstance struct {
	ID      string   `json:"instance_id"`
	Patches []string `json:"patches"` // candidate i has ID pinID(i)
	// Pairs are the similarities of every pair of candidates in play.
	Pairs []pinnedPair `json:"pairs"`
	// Similarity and LineLocalization are each candidate's signals, by ID.
	Similarity       map[string]float64 `json:"similarity"`
	LineLocalization map[string]float64 `json:"line_localization"`
	Chosen           string             `json:"chosen"`
	Ties             []string           `json:"ties,omitempty"`
}

type pinnedPair struct {
	A, B       string
	Similarity float64
}

func pinID(i int) string { return "c" + string(rune('a'+i/26)) + string(rune('a'+i%26)) }

// pinnedSignals computes what the pins hold for one instance.
func pinnedSignals(t testing.TB, id string, patches []string) pinnedInstance {
	t.Helper()
	pi := pinnedInstance{ID: id, Patches: patches, Similarity: map[string]float64{}, LineLocalization: map[string]float64{}}
	var cands []Candidate
	for i, p := range patches {
		cands = append(cands, Candidate{ID: pinID(i), Patch: p})
	}
	a, err := Assess(Input{Candidates: cands, TestFiles: pythonTests})
	if err != nil {
		t.Fatal(err)
	}
	var views []view
	for _, c := range cands {
		if slices.Contains(a.live, c.ID) {
			views = append(views, newView(c, nil, pythonTests))
		}
		s, _ := a.Signals(c.ID)
		pi.Similarity[c.ID] = s.Similarity
		pi.LineLocalization[c.ID] = s.LineLocalization
	}
	bodies, keys := make([]string, len(views)), make([]string, len(views))
	for i, v := range views {
		bodies[i], keys[i] = v.body, v.cluster
	}
	texts := prepareSimilarity(bodies, keys)
	var sc lcsScratch
	for i := range views {
		for j := i + 1; j < len(views); j++ {
			pi.Pairs = append(pi.Pairs, pinnedPair{A: views[i].id, B: views[j].id, Similarity: texts.pair(i, j, &sc)})
		}
	}
	v, err := a.Select(mustPolicy(t, PolicyAuto))
	if err != nil {
		t.Fatal(err)
	}
	pi.Chosen, pi.Ties = v.Chosen, v.Ties
	return pi
}

// TestPinnedSimilarity checks the similarity of real patch pairs, each
// candidate's similarity and line localization, and the auto verdict against the values
// pinned in testdata, so that a faster computation cannot change results
// unnoticed.
func TestPinnedSimilarity(t *testing.T) {
	if *pinsFrom != "" {
		writePins(t, *pinsFrom)
	}
	f, err := os.Open(pinsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var pins []pinnedInstance
	if err := json.NewDecoder(gz).Decode(&pins); err != nil {
		t.Fatal(err)
	}
	if len(pins) < 20 {
		t.Fatalf("%d pinned instances, want at least 20", len(pins))
	}
	pairs := 0
	for _, want := range pins {
		got := pinnedSignals(t, want.ID, want.Patches)
		if len(got.Pairs) != len(want.Pairs) {
			t.Fatalf("%s: %d pairs in play, pinned %d", want.ID, len(got.Pairs), len(want.Pairs))
		}
		for k, p := range want.Pairs {
			pairs++
			if g := got.Pairs[k]; g.A != p.A || g.B != p.B || math.Abs(g.Similarity-p.Similarity) > 1e-12 {
				t.Errorf("%s: similarity(%s, %s) = %.15f, pinned %.15f", want.ID, g.A, g.B, g.Similarity, p.Similarity)
			}
		}
		for id, s := range want.Similarity {
			if math.Abs(got.Similarity[id]-s) > 1e-12 {
				t.Errorf("%s: %s similarity signal %.15f, pinned %.15f", want.ID, id, got.Similarity[id], s)
			}
		}
		for id, l := range want.LineLocalization {
			if math.Abs(got.LineLocalization[id]-l) > 1e-12 {
				t.Errorf("%s: %s line localization %.15f, pinned %.15f", want.ID, id, got.LineLocalization[id], l)
			}
		}
		if got.Chosen != want.Chosen || !slices.Equal(got.Ties, want.Ties) {
			t.Errorf("%s: auto chose %s (ties %v), pinned %s (ties %v)", want.ID, got.Chosen, got.Ties, want.Chosen, want.Ties)
		}
	}
	t.Logf("%d instances, %d pairs", len(pins), pairs)
}

// writePins picks instances of both data sets spread over the patch sizes
// (so that short texts, go-diff's line mode and long bodies all appear),
// and pins what the current code computes for them.
func writePins(t *testing.T, dir string) {
	type inst struct {
		ID         string `json:"instance_id"`
		Candidates []struct {
			Patch string `json:"patch"`
		} `json:"candidates"`
	}
	var pool []inst
	for _, name := range []string{"swebench-lite-candidates.jsonl.gz", "swebench-verified-candidates.jsonl.gz"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(gz)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			var in inst
			if err := json.Unmarshal(sc.Bytes(), &in); err != nil {
				t.Fatal(err)
			}
			size := 0
			for _, c := range in.Candidates {
				size += len(c.Patch)
			}
			// At least three candidates, and small enough to keep in git.
			if len(in.Candidates) >= 3 && size <= 40000 {
				pool = append(pool, in)
			}
		}
		f.Close()
	}
	size := func(in inst) int {
		n := 0
		for _, c := range in.Candidates {
			n += len(c.Patch)
		}
		return n
	}
	sort.SliceStable(pool, func(i, j int) bool { return size(pool[i]) < size(pool[j]) })
	const want = 32
	var pins []pinnedInstance
	for k := 0; k < want; k++ {
		in := pool[k*(len(pool)-1)/(want-1)]
		var patches []string
		for _, c := range in.Candidates {
			patches = append(patches, c.Patch)
		}
		pins = append(pins, pinnedSignals(t, in.ID, patches))
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetIndent("", " ")
	if err := enc.Encode(pins); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(pinsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	zw := gzip.NewWriter(out)
	if _, err := zw.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}
