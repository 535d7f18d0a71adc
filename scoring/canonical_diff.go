package scoring

import (
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"regexp"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// diffCanonical diffs two sequences of canonical lines ("" entries are
// dropped lines) and returns the change blocks with positions in the
// original old numbering (offset is the 1-based line of oldLines[0]), and the
// scopes enclosing them. oldScopes[i] is the scope enclosing oldLines[i].
func diffCanonical(oldLines, newLines []string, offset int, oldScopes []string) ([]Block, []string) {
	oldKept, oldIdx := compact(oldLines)
	newKept, _ := compact(newLines)
	ops := diffLines(oldKept, newKept)

	var blocks []Block
	var scopes []string
	cur := Block{Pos: -1}
	oi, ni := 0, 0 // cursors into oldKept, newKept
	flush := func() {
		if len(cur.Deleted) == 0 && len(cur.Added) == 0 {
			return
		}
		// Scope and position of the block: the first deleted line, or for a
		// pure insertion the line after the preceding kept line (so that blank
		// lines and comments around the insertion point do not move it).
		var scopeAt int
		switch {
		case cur.Pos >= 0:
			scopeAt = cur.Pos
			cur.Pos = offset + oldIdx[cur.Pos]
		case oi > 0:
			scopeAt = oi - 1
			cur.Pos = offset + oldIdx[oi-1] + 1
		case oi < len(oldIdx):
			scopeAt = oi
			cur.Pos = offset + oldIdx[oi]
		default:
			scopeAt = -1
			cur.Pos = offset
		}
		if scopeAt >= 0 && oldIdx[scopeAt] < len(oldScopes) {
			scopes = append(scopes, oldScopes[oldIdx[scopeAt]])
		} else if len(oldScopes) > 0 {
			scopes = append(scopes, oldScopes[0])
		} else {
			scopes = append(scopes, "")
		}
		blocks = append(blocks, cur)
		cur = Block{Pos: -1}
	}
	for _, op := range ops {
		switch op.kind {
		case diffmatchpatch.DiffEqual:
			flush()
			oi += op.n
			ni += op.n
		case diffmatchpatch.DiffDelete:
			if cur.Pos < 0 && len(cur.Deleted) == 0 {
				cur.Pos = oi
			}
			cur.Deleted = append(cur.Deleted, oldKept[oi:oi+op.n]...)
			oi += op.n
		case diffmatchpatch.DiffInsert:
			cur.Added = append(cur.Added, newKept[ni:ni+op.n]...)
			ni += op.n
		}
	}
	flush()
	return blocks, scopes
}

// compact drops the "" entries and remembers where each kept line was.
func compact(lines []string) (kept []string, idx []int) {
	for i, l := range lines {
		if l != "" {
			kept = append(kept, l)
			idx = append(idx, i)
		}
	}
	return kept, idx
}

type lineOp struct {
	kind diffmatchpatch.Operation
	n    int // number of lines
}

// diffLines is a line diff (Myers, from go-diff) of two line sequences.
func diffLines(a, b []string) []lineOp {
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = 0 // no deadline: the same inputs must give the same diff
	ta, tb := joinLines(a), joinLines(b)
	ra, rb, _ := dmp.DiffLinesToRunes(ta, tb)
	diffs := dmp.DiffMainRunes(ra, rb, false)
	ops := make([]lineOp, 0, len(diffs))
	for _, d := range diffs {
		// Each rune of a line-mode diff stands for one line.
		ops = append(ops, lineOp{kind: d.Type, n: len([]rune(d.Text))})
	}
	return ops
}

func joinLines(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// wholeFileLines canonicalizes a whole file, with the scope of each line.
// Go source that parses is first printed as gofmt would print it, without
// comments, so that formatting and comment edits vanish.
func wholeFileLines(lang language, name, src string) (lines, scopes []string) {
	if lang == langGo {
		if formatted, ok := gofmtWithoutComments(name, src); ok {
			src = formatted
		}
	}
	raw := strings.Split(src, "\n")
	return canonicalLines(lang, raw), lineScopes(lang, raw, "")
}

// gofmtWithoutComments prints Go source in gofmt's layout with comments and
// import order normalized away. ok is false when the source does not parse.
func gofmtWithoutComments(name, src string) (string, bool) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	if err != nil {
		return "", false
	}
	ast.SortImports(fset, file)
	var b strings.Builder
	if err := format.Node(&b, fset, file); err != nil {
		return "", false
	}
	return b.String(), true
}

var (
	pythonScope = regexp.MustCompile(`^\s*(?:async\s+)?(def|class)\s+(\w+)`)
	goScope     = regexp.MustCompile(`^(func)\s+(?:\([^)]*\)\s*)?(\w+)|^(type)\s+(\w+)`)
	// gitScope is git's default hunk-header rule: a line that starts with a
	// letter, '_' or '$' opens a scope.
	gitScope = regexp.MustCompile(`^[A-Za-z_$][^(]*`)
)

// scopeName returns the scope a line opens ("def f", "func F", "class C"),
// or "" when it opens none.
func scopeName(lang language, line string) string {
	switch lang {
	case langPython:
		if m := pythonScope.FindStringSubmatch(line); m != nil {
			return m[1] + " " + m[2]
		}
	case langGo:
		if m := goScope.FindStringSubmatch(line); m != nil {
			if m[1] != "" {
				return "func " + m[2]
			}
			return "type " + m[4]
		}
	default:
		if m := gitScope.FindString(line); m != "" {
			return strings.TrimSpace(m)
		}
	}
	return ""
}

// lineScopes returns, for each line, the innermost scope opened at or before
// it (by the nearest preceding header: indentation is not tracked, which is
// right for the usual case of a change inside a function body). start is the
// scope in force before the first line (a hunk header's function context).
func lineScopes(lang language, lines []string, start string) []string {
	scopes := make([]string, len(lines))
	cur := start
	for i, l := range lines {
		if s := scopeName(lang, l); s != "" {
			cur = s
		}
		scopes[i] = cur
	}
	return scopes
}

// fragmentScopes is lineScopes for a hunk: the header's function context
// (git's own guess) is the scope in force before the first line.
func fragmentScopes(lang language, oldLines []string, comment string) []string {
	return lineScopes(lang, oldLines, scopeName(lang, comment))
}
