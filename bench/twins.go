package bench

import (
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"regexp"
	"strconv"
	"strings"
)

// twinNames are the locals a renamed twin may introduce, in order of
// preference; a name the file already uses anywhere is passed over.
var twinNames = []string{"ok", "cond", "hit", "valid", "match", "want", "good", "take"}

// hoistedTwins returns the fixed source with the condition of the if
// statement around the bug's site hoisted into a new local in the if's
// init (`if NAME := COND; NAME {`), once per name: equivalent fixes that
// differ only by the name of a local they introduce. None when the site is
// not in an if condition, or the if already has an init.
func hoistedTwins(fixed []byte, m Mutation, names int) ([][]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, m.File, fixed, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	var cond ast.Expr
	ast.Inspect(f, func(n ast.Node) bool {
		if s, ok := n.(*ast.IfStmt); ok && off(s.Cond.Pos()) <= m.Start && m.End <= off(s.Cond.End()) {
			if s.Init == nil {
				cond = s.Cond
			} else {
				cond = nil
			}
		}
		return true
	})
	if cond == nil {
		return nil, nil
	}
	used := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			used[id.Name] = true
		}
		return true
	})
	start, end := off(cond.Pos()), off(cond.End())
	var out [][]byte
	for _, name := range twinNames {
		if len(out) == names {
			break
		}
		if used[name] {
			continue
		}
		src := fmt.Sprintf("%s%s := %s; %s%s", fixed[:start], name, fixed[start:end], name, fixed[end:])
		b, err := format.Source([]byte(src))
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

var hunkHeader = regexp.MustCompile(`^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@(.*)$`)

// driftedContext turns a patch into one made against drifted context, as a
// model that misremembers the file writes it: every hunk's line numbers are
// off by shift, and the first hunk's outermost leading context line differs
// from the file. git apply refuses it; patch --fuzz places it, leaving the
// same tree as the patch itself. ok is false when the first hunk has fewer
// than two leading context lines (fuzz could not ignore the changed one).
func driftedContext(patch string, shift int) (string, bool) {
	lines := strings.SplitAfter(patch, "\n")
	var out []string
	first, ok := true, false
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		mm := hunkHeader.FindStringSubmatch(strings.TrimRight(l, "\n"))
		if mm == nil {
			out = append(out, l)
			continue
		}
		a, _ := strconv.Atoi(mm[1])
		b, _ := strconv.Atoi(mm[3])
		out = append(out, fmt.Sprintf("@@ -%d%s +%d%s @@%s\n", a+shift, mm[2], b+shift, mm[4], mm[5]))
		if !first {
			continue
		}
		first = false
		lead := 0
		for j := i + 1; j < len(lines) && strings.HasPrefix(lines[j], " "); j++ {
			lead++
		}
		if lead < 2 || strings.TrimSpace(lines[i+1]) == "" {
			return "", false
		}
		body := strings.TrimSuffix(lines[i+1][1:], "\n")
		out = append(out, " "+body+" // drifted\n")
		i++
		ok = true
	}
	return strings.Join(out, ""), ok
}
