package scoring

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/bluekeyes/go-gitdiff/gitdiff"
)

// NormalizedPatch is a patch reduced to what it changes, so that cosmetic
// twins (other whitespace, comments, context sizes, index lines, hunk
// order) compare equal.
type NormalizedPatch struct {
	// Key identifies the normalized patch: equal keys mean the same change.
	// It is the hex SHA-256 of Text. The empty patch has the key of "".
	Key string `json:"key"`
	// Text is the canonical change: per file (sorted by path), the changed
	// blocks with their old-side position and canonical lines.
	Text string `json:"text"`
	// Files are the changed files, sorted by path.
	Files []FileChange `json:"files"`
	// Formatted is true when at least one file was rebuilt from the base
	// sources and formatted whole (gofmt for Go) before diffing.
	Formatted bool `json:"formatted,omitempty"`
}

// FileChange is what a patch changes in one file.
type FileChange struct {
	Path string `json:"path"`
	// OldPath is set for renames and copies.
	OldPath  string `json:"old_path,omitempty"`
	IsNew    bool   `json:"is_new,omitempty"`
	IsDelete bool   `json:"is_delete,omitempty"`
	IsBinary bool   `json:"is_binary,omitempty"`
	// Scopes are the functions or classes ("def f", "class C", "func F")
	// enclosing each change, deduplicated; "" stands for module level.
	Scopes []string `json:"scopes,omitempty"`
	// Blocks are the changes, in old-file order.
	Blocks []Block `json:"blocks,omitempty"`
}

// Block is one contiguous change: lines deleted at an old-file position and
// lines added there, all in canonical form.
type Block struct {
	// Pos is the 1-based old-file line of the first deleted line, or for a
	// pure insertion the old line the new lines go before.
	Pos     int      `json:"pos"`
	Deleted []string `json:"deleted,omitempty"`
	Added   []string `json:"added,omitempty"`
}

// Empty reports whether the patch changes nothing once normalized.
func (n NormalizedPatch) Empty() bool { return len(n.Files) == 0 }

// ChangedLines counts canonical lines deleted and added.
func (n NormalizedPatch) ChangedLines() int {
	total := 0
	for _, f := range n.Files {
		for _, b := range f.Blocks {
			total += len(b.Deleted) + len(b.Added)
		}
	}
	return total
}

// Normalize parses a unified diff (git or traditional) and reduces it to its
// canonical change. Index lines, context lines, whitespace outside string
// literals (indentation is kept for Python), blank lines and comment-only
// changes are dropped.
//
// sources, when not nil, holds base file contents by path. A file found there
// is rebuilt with the patch applied and both versions are canonicalized whole
// (Go files are formatted as gofmt does, with comments dropped) before being
// diffed again, as Agentless does: this also collapses changes that differ
// only in formatting across lines. A file missing from sources, or one the
// patch does not apply to exactly, falls back to the hunks alone.
//
// Normalize is a pure function: it reads nothing but its arguments.
func Normalize(patch string, sources map[string]string) (NormalizedPatch, error) {
	files, _, err := gitdiff.Parse(strings.NewReader(patch))
	if err != nil {
		return NormalizedPatch{}, fmt.Errorf("parse patch: %w", err)
	}
	var n NormalizedPatch
	for _, f := range files {
		if !isGitDiff(patch) {
			// go-gitdiff strips the a/ b/ prefixes of git headers only; git
			// apply reads traditional diffs with -p1, and so does scoring.
			f.OldName, f.NewName = stripFirstComponent(f.OldName), stripFirstComponent(f.NewName)
		}
		fc, formatted := normalizeFile(f, sources)
		n.Formatted = n.Formatted || formatted
		if len(fc.Blocks) == 0 && !fc.IsBinary && !fc.IsDelete && !fc.IsNew && fc.OldPath == "" {
			continue // nothing left once canonical: whitespace, comments, mode only
		}
		n.Files = append(n.Files, fc)
	}
	n.Files = mergeFiles(n.Files)
	n.Text = canonicalText(n.Files)
	n.Key = keyOf(n.Text)
	return n, nil
}

func isGitDiff(patch string) bool {
	return strings.HasPrefix(patch, "diff --git ") || strings.Contains(patch, "\ndiff --git ")
}

func stripFirstComponent(name string) string {
	if _, rest, ok := strings.Cut(name, "/"); ok && name != "/dev/null" {
		return rest
	}
	return name
}

// NormalizeFallback is what scoring uses for a patch that does not parse:
// its lines, whitespace-squeezed, with diff headers and index lines dropped.
// It keeps such a patch comparable by exact match and similarity without
// pretending to know which files it changes.
func NormalizeFallback(patch string) NormalizedPatch {
	var kept []string
	for _, l := range strings.Split(patch, "\n") {
		if strings.HasPrefix(l, "index ") || strings.HasPrefix(l, "diff --git") {
			continue
		}
		if c := strings.Join(strings.Fields(l), " "); c != "" {
			kept = append(kept, c)
		}
	}
	text := strings.Join(kept, "\n")
	return NormalizedPatch{Text: text, Key: keyOf(text)}
}

func keyOf(text string) string {
	if text == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// normalizeFile canonicalizes one file's change; formatted reports whether
// the whole-file path (sources at hand, exact apply) was taken.
func normalizeFile(f *gitdiff.File, sources map[string]string) (FileChange, bool) {
	fc := FileChange{Path: f.NewName, IsNew: f.IsNew, IsDelete: f.IsDelete, IsBinary: f.IsBinary}
	if f.IsDelete || fc.Path == "" {
		fc.Path = f.OldName
	}
	if (f.IsRename || f.IsCopy) && f.OldName != f.NewName {
		fc.OldPath = f.OldName
	}
	lang := languageOf(fc.Path)
	switch {
	case f.IsBinary:
		// Binary contents cannot be canonicalized; the new object ID stands
		// for the content.
		fc.Blocks = []Block{{Added: []string{"binary " + f.NewOIDPrefix}}}
		return fc, false
	case f.IsDelete:
		return fc, false // a deletion is the same change whatever the hunks say
	}
	if src, ok := sources[f.OldName]; ok && !f.IsNew {
		var out bytes.Buffer
		if err := gitdiff.Apply(&out, strings.NewReader(src), f); err == nil {
			oldLines, oldScopes := wholeFileLines(lang, fc.Path, src)
			newLines, _ := wholeFileLines(lang, fc.Path, out.String())
			fc.Blocks, fc.Scopes = diffCanonical(oldLines, newLines, 1, oldScopes)
			return fc, true
		}
	}
	var scopes []string
	for _, frag := range f.TextFragments {
		oldRaw, newRaw := fragmentSides(frag)
		oldCanon := canonicalLines(lang, oldRaw)
		newCanon := canonicalLines(lang, newRaw)
		fragScopes := fragmentScopes(lang, oldRaw, frag.Comment)
		blocks, sc := diffCanonical(oldCanon, newCanon, int(frag.OldPosition), fragScopes)
		fc.Blocks = append(fc.Blocks, blocks...)
		scopes = append(scopes, sc...)
	}
	sort.SliceStable(fc.Blocks, func(i, j int) bool { return fc.Blocks[i].Pos < fc.Blocks[j].Pos })
	fc.Scopes = dedupeSorted(scopes)
	return fc, false
}

// fragmentSides splits a hunk into its old-side and new-side lines.
func fragmentSides(frag *gitdiff.TextFragment) (oldSide, newSide []string) {
	for _, l := range frag.Lines {
		if l.Old() {
			oldSide = append(oldSide, l.Line)
		}
		if l.New() {
			newSide = append(newSide, l.Line)
		}
	}
	return oldSide, newSide
}

// mergeFiles joins entries for the same path (a patch may hold a file twice).
func mergeFiles(files []FileChange) []FileChange {
	sort.SliceStable(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	var out []FileChange
	for _, f := range files {
		if k := len(out) - 1; k >= 0 && out[k].Path == f.Path {
			out[k].Blocks = append(out[k].Blocks, f.Blocks...)
			out[k].Scopes = dedupeSorted(append(out[k].Scopes, f.Scopes...))
			out[k].IsNew = out[k].IsNew || f.IsNew
			out[k].IsDelete = f.IsDelete
			continue
		}
		out = append(out, f)
	}
	return out
}

// canonicalText renders files as the text the key is computed from.
func canonicalText(files []FileChange) string {
	var b strings.Builder
	for _, f := range files {
		b.WriteString("file ")
		b.WriteString(strconv.Quote(f.Path))
		switch {
		case f.IsDelete:
			b.WriteString(" deleted")
		case f.IsNew:
			b.WriteString(" new")
		}
		if f.OldPath != "" {
			b.WriteString(" from ")
			b.WriteString(strconv.Quote(f.OldPath))
		}
		b.WriteByte('\n')
		for _, bl := range f.Blocks {
			b.WriteByte('@')
			b.WriteString(strconv.Itoa(bl.Pos))
			b.WriteByte('\n')
			writeLines(&b, '-', bl.Deleted)
			writeLines(&b, '+', bl.Added)
		}
	}
	return b.String()
}

// writeLines writes each line after its mark, one per line.
func writeLines(b *strings.Builder, mark byte, lines []string) {
	for _, l := range lines {
		b.WriteByte(mark)
		b.WriteString(l)
		b.WriteByte('\n')
	}
}

func dedupeSorted(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	s = append([]string(nil), s...)
	sort.Strings(s)
	out := s[:1]
	for _, v := range s[1:] {
		if v != out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}
