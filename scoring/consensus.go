package scoring

import (
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/bestpatch/bestpatch/executor/testfile"
)

// view is one candidate as the execution-free signals see it.
type view struct {
	id        string
	norm      NormalizedPatch // the whole patch
	effective NormalizedPatch // without test files and scratch scripts
	unparsed  bool
	// testFiles counts the changed files that are test files (path or old
	// path), which the executor strips before the tests run.
	testFiles int
	body      string          // text compared by similarity
	cluster   string          // the meaning cluster: equal up to renaming the change's local names
	edits     []string        // one key per change block (editKeys)
	files     map[string]bool // non-test files changed
	scopes    map[string]bool // "path\x00scope" of each change
	lines     map[editedLine]bool
}

// editedLine is a base-file line a change deletes, or the line an insertion
// goes before. Candidates for one task share the base, so equal lines are
// the same place in the code.
type editedLine struct {
	path string
	line int
}

// isScratchFile reports a new script at the repository root: agents leave
// reproduction scripts there (reproduce.py, test_bug.sh); a fix rarely
// needs one, and the tests never import it.
func isScratchFile(f FileChange) bool {
	if !f.IsNew || strings.Contains(f.Path, "/") {
		return false
	}
	switch path.Ext(f.Path) {
	case ".py", ".sh":
		return true
	}
	return false
}

// isTestChange reports whether a file change touches a test file: its path
// or, for a rename or copy, the path it came from.
func isTestChange(f FileChange, tests testfile.Matcher) bool {
	return tests.Match(f.Path) || (f.OldPath != "" && tests.Match(f.OldPath))
}

// viewsOf returns each candidate's view, in input order, normalizing each
// distinct patch text once: the samples of one model often repeat a patch
// letter for letter, and normalizing is most of the execution-free work.
// Candidates with the same text share their view's maps and slices, which
// nothing changes once the view is made.
func viewsOf(cands []Candidate, sources map[string]string, tests testfile.Matcher) []view {
	out := make([]view, len(cands))
	first := make(map[string]int, len(cands)) // patch text: the first candidate with it
	for i, c := range cands {
		if j, ok := first[c.Patch]; ok {
			out[i] = out[j]
			out[i].id = c.ID
			continue
		}
		first[c.Patch] = i
		out[i] = newView(c, sources, tests)
	}
	return out
}

func newView(c Candidate, sources map[string]string, tests testfile.Matcher) view {
	v := view{id: c.ID}
	norm, err := Normalize(c.Patch, sources)
	if err != nil {
		norm = NormalizeFallback(c.Patch)
		v.unparsed = true
	}
	v.norm = norm
	var files []FileChange
	for _, f := range norm.Files {
		switch {
		case isTestChange(f, tests):
			v.testFiles++
		case !isScratchFile(f):
			files = append(files, f)
		}
	}
	v.effective = NormalizedPatch{Files: files, Formatted: norm.Formatted}
	v.effective.Text = canonicalText(files)
	if v.unparsed {
		v.effective.Text = norm.Text
	}
	v.effective.Key = keyOf(v.effective.Text)
	v.cluster, v.body = v.effective.Key, similarityBody(v.effective)
	if !v.unparsed && len(files) > 0 {
		v.cluster = clusterKey(files)
		v.edits = editKeys(files)
	}
	v.files = map[string]bool{}
	v.scopes = map[string]bool{}
	v.lines = map[editedLine]bool{}
	for _, f := range files {
		v.files[f.Path] = true
		for _, s := range f.Scopes {
			v.scopes[f.Path+"\x00"+s] = true
		}
		if len(f.Blocks) == 0 {
			v.lines[editedLine{f.Path, 0}] = true // deleted or renamed whole
		}
		for _, b := range f.Blocks {
			// Canonical deleted lines run from the block's position; blank
			// and comment lines between them are not counted.
			for k := range max(1, len(b.Deleted)) {
				v.lines[editedLine{f.Path, b.Pos + k}] = true
			}
		}
	}
	return v
}

// similarityBody is the change without positions: per file, its path and
// the canonical lines deleted and added. Positions are left out because two
// candidates making the same edit a few lines apart agree on the fix.
func similarityBody(n NormalizedPatch) string {
	if len(n.Files) == 0 {
		return n.Text
	}
	var b strings.Builder
	b.Grow(len(n.Text))
	for _, f := range n.Files {
		b.WriteString(f.Path)
		b.WriteByte('\n')
		for _, bl := range f.Blocks {
			writeLines(&b, '-', bl.Deleted)
			writeLines(&b, '+', bl.Added)
		}
	}
	return b.String()
}

// flagsOf returns the flags that follow from the patch alone.
func flagsOf(v view) []string {
	var flags []string
	if v.unparsed {
		flags = append(flags, FlagUnparsed)
	}
	switch {
	case !v.unparsed && v.norm.Empty():
		flags = append(flags, FlagEmpty)
	case v.testFiles > 0 && v.testFiles == len(v.norm.Files):
		flags = append(flags, FlagOnlyTests)
	case !v.unparsed && v.effective.Empty():
		flags = append(flags, FlagOnlyScratch)
	case v.testFiles > 0:
		flags = append(flags, FlagTouchesTests)
	}
	for _, f := range v.norm.Files {
		if isScratchFile(f) {
			flags = append(flags, FlagScratchFiles)
			break
		}
	}
	return flags
}

// consensus fills the consensus signals of the live candidates: votes (the
// size of the candidate's cluster: by meaning, merged by effect when trees
// are known), similarity, localization (file, function, line), size and the
// size-outlier flag. trees holds, by candidate ID, the tree its run left
// (Row.Tree), or nil when nothing ran.
func consensus(views []view, sig map[string]*Signals, trees map[string]string) {
	n := len(views)
	bodies, keys := make([]string, n), effectClusters(views, trees)
	for i := range views {
		views[i].cluster = keys[i]
		bodies[i] = views[i].body
	}
	similarities := topHalfSimilarity(bodies, keys)
	votes := map[string]int{}
	for _, v := range views {
		votes[v.cluster]++
	}
	sizes := make([]int, n)
	for i, v := range views {
		sizes[i] = v.effective.ChangedLines()
		if v.unparsed {
			sizes[i] = strings.Count(v.effective.Text, "\n") + 1
		}
	}
	lineOverlaps := make([]float64, 0, n)
	for i, v := range views {
		s := sig[v.id]
		s.Votes = votes[v.cluster]
		s.Key = v.effective.Key
		s.Cluster = v.cluster
		s.ChangedLines = sizes[i]
		if n < 2 {
			continue
		}
		fileOverlap, scopeOverlap := 0.0, 0.0
		lineOverlaps = lineOverlaps[:0]
		for j, w := range views {
			if j == i {
				continue
			}
			fileOverlap += jaccard(v.files, w.files)
			scopeOverlap += jaccard(v.scopes, w.scopes)
			lineOverlaps = append(lineOverlaps, jaccard(v.lines, w.lines))
		}
		s.Similarity = similarities[i]
		s.Localization = fileOverlap / float64(n-1)
		s.FunctionLocalization = scopeOverlap / float64(n-1)
		s.LineLocalization = meanOfTopHalf(lineOverlaps)
	}
	markSizeOutliers(views, sizes, sig)
}

// meanOfTopHalf is the mean of the largest ceil(len/2) values: similarity
// to the most similar half of the others (SWE-RL, SWE-Swiss), so that a
// candidate in a tight cluster is not diluted by unrelated ones.
func meanOfTopHalf(vals []float64) float64 {
	if len(vals) == 0 {
		return 0
	}
	sorted := append([]float64(nil), vals...)
	slices.Sort(sorted)
	k := (len(sorted) + 1) / 2
	sum := 0.0
	for i := len(sorted) - 1; i >= len(sorted)-k; i-- { // largest first
		sum += sorted[i]
	}
	return sum / float64(k)
}

// jaccard is |a∩b| / |a∪b|; two empty sets agree (1).
func jaccard[K comparable](a, b map[K]bool) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	inter := 0
	for k := range a {
		if b[k] {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// Size outliers: a candidate whose change is larger than outlierFactor times
// the median and at least outlierMargin lines above it. Oversized patches
// are the ones that rewrite unrelated code; tiny ones are not flagged because
// many right fixes are one line.
const (
	outlierFactor = 3.0
	outlierMargin = 20
)

func markSizeOutliers(views []view, sizes []int, sig map[string]*Signals) {
	if len(sizes) < 3 {
		return // a median of two says nothing
	}
	sorted := append([]int(nil), sizes...)
	sort.Ints(sorted)
	median := float64(sorted[len(sorted)/2])
	if len(sorted)%2 == 0 {
		median = float64(sorted[len(sorted)/2-1]+sorted[len(sorted)/2]) / 2
	}
	for i, v := range views {
		sz := float64(sizes[i])
		if sz > outlierFactor*median && sz >= median+outlierMargin {
			sig[v.id].Flags = append(sig[v.id].Flags, FlagSizeOutlier)
		}
	}
}

// hasFlag reports whether flags holds f.
func hasFlag(flags []string, f string) bool {
	for _, g := range flags {
		if g == f {
			return true
		}
	}
	return false
}

// The consensus signals (execution-free), the size, and the flag signals.
const (
	SignalVotes                Signal = "votes"                 // identical normalized patches, itself included
	SignalSimilarity           Signal = "similarity"            // mean similarity to the most similar half of the others
	SignalLocalization         Signal = "localization"          // file overlap with the others
	SignalFunctionLocalization Signal = "function_localization" // function overlap with the others
	SignalLineLocalization     Signal = "line_localization"     // edited-line overlap, top half of the others
	SignalSize                 Signal = "size"                  // changed canonical lines, lower is better
	SignalTouchesTests         Signal = "touches_tests"         // 1 when flagged, lower is better
	SignalScratchFiles         Signal = "scratch_files"         // 1 when flagged, lower is better
	SignalSizeOutlier          Signal = "size_outlier"          // 1 when flagged, lower is better
)

var (
	votesSignal = SignalDef{Name: SignalVotes, Unit: "candidates", Column: "votes", Format: "%.0f", counted: true,
		Tune:  []float64{0, 0.25, 0.5, 1},
		Doc:   "the candidates in play in the candidate's meaning cluster, itself included (majority vote)",
		value: func(s *Signals) (float64, bool) { return float64(s.Votes), true }}
	similaritySignal = SignalDef{Name: SignalSimilarity, Unit: "[0, 1]", Column: "similarity", Format: "%.2f", unitScale: true,
		Tune:  []float64{1},
		Doc:   "the mean similarity of the normalized patch to the most similar half of the others",
		value: func(s *Signals) (float64, bool) { return s.Similarity, true }}
	localizationSignal = SignalDef{Name: SignalLocalization, Unit: "[0, 1]", unitScale: true,
		Tune:  []float64{0, 0.25, 0.5},
		Doc:   "the mean overlap (Jaccard) of the non-test files it changes with those each other candidate changes",
		value: func(s *Signals) (float64, bool) { return s.Localization, true }}
	functionLocalizationSignal = SignalDef{Name: SignalFunctionLocalization, Unit: "[0, 1]", unitScale: true,
		Tune:  []float64{0, 0.25, 0.5},
		Doc:   "the same overlap over the functions (scopes) enclosing the changes",
		value: func(s *Signals) (float64, bool) { return s.FunctionLocalization, true }}
	lineLocalizationSignal = SignalDef{Name: SignalLineLocalization, Unit: "[0, 1]", unitScale: true,
		Tune:  []float64{0, 0.05, 0.1, 0.25},
		Doc:   "the mean overlap of the base-file lines it edits with those the most similar half of the others edit",
		value: func(s *Signals) (float64, bool) { return s.LineLocalization, true }}
	sizeSignal = SignalDef{Name: SignalSize, Field: "changed_lines", Unit: "lines", lowerIsBetter: true,
		Doc:   "the canonical lines the effective patch (test files and scratch scripts left out) deletes and adds",
		value: func(s *Signals) (float64, bool) { return float64(s.ChangedLines), true }}
	touchesTestsSignal = flagSignal(SignalTouchesTests, FlagTouchesTests, "the patch changes test files as well (test tampering)", 0, 0.1)
	scratchFilesSignal = flagSignal(SignalScratchFiles, FlagScratchFiles, "the patch adds scripts at the repository root (reproduction scripts)", 0, 0.1)
	sizeOutlierSignal  = flagSignal(SignalSizeOutlier, FlagSizeOutlier, "the change is far larger than the other candidates'", 0, 0.1, 0.25)
)
