package scoring

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"sort"
	"strings"
)

// Clusters by meaning. Two candidates are one cluster when their effective
// changes are equal up to comments, formatting (both already gone from the
// canonical lines) and a consistent renaming of the local names the change
// introduces: a fix that calls its new loop variable `i` and one that calls
// it `idx` make the same change. Votes count a candidate's cluster,
// similarity takes two candidates of one cluster for identical (1), and the
// tie rules prefer the larger cluster.
//
// Only names the change itself declares are renamed, and only where they
// are local: Go names declared inside a function body (found with go/ast,
// or go/scanner when the hunk does not parse), Python names bound inside a
// def (assignment and for targets, `as` names, walrus, comprehension and
// lambda variables; found with a tokenizer, because hunks are fragments: a
// hunk may start inside a block or cut a statement, and the candidate sets
// carry no source files to parse whole). A name that also appears on the
// deleted side existed before the change, so renaming it would be a
// different change: it is kept. Function parameters, attributes, keyword
// arguments and module-level names are API and are kept too. Positions
// are left out of the cluster key: the same edit landing a few lines apart
// (drifted context that patch --fuzz tolerates) is the same change.

// clusterKey is the key of a change's meaning cluster: the SHA-256 of its
// files, each with its blocks in order, without positions, with the local
// names the change introduces renamed; "" for no change.
func clusterKey(files []FileChange) string {
	var key strings.Builder
	for _, f := range files {
		fmt.Fprintf(&key, "file %q deleted=%v new=%v from=%q\n", f.Path, f.IsDelete, f.IsNew, f.OldPath)
		for _, b := range renameLocals(languageOf(f.Path), f.Blocks) {
			key.WriteString("@\n")
			writeLines(&key, '-', b.Deleted)
			writeLines(&key, '+', b.Added)
		}
	}
	return keyOf(key.String())
}

// renameLocals returns the blocks with every local name the change
// introduces replaced by a placeholder (v1, v2, ... in order of first
// binding), consistently across the file's blocks.
func renameLocals(lang language, blocks []Block) []Block {
	var bind func([]string) []string
	switch lang {
	case langGo:
		bind = goBindings
	case langPython:
		bind = pythonBindings
	default:
		return blocks
	}
	deleted := map[string]bool{}
	for _, b := range blocks {
		for _, l := range b.Deleted {
			for _, t := range identifiers(l) {
				deleted[t] = true
			}
		}
	}
	names := map[string]string{}
	for _, b := range blocks {
		for _, n := range bind(b.Added) {
			if deleted[n] || names[n] != "" {
				continue
			}
			names[n] = fmt.Sprintf("\x01v%d", len(names)+1)
		}
	}
	if len(names) == 0 {
		return blocks
	}
	out := make([]Block, len(blocks))
	for i, b := range blocks {
		out[i] = Block{Pos: b.Pos, Deleted: b.Deleted, Added: make([]string, len(b.Added))}
		for j, l := range b.Added {
			out[i].Added[j] = renameInLine(lang, l, names)
		}
	}
	return out
}

// identifiers lists the identifier-like words of a line.
func identifiers(line string) []string {
	var out []string
	start := -1
	for i := 0; i <= len(line); i++ {
		if i < len(line) && isWordByte(line[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			if w := line[start:i]; !(w[0] >= '0' && w[0] <= '9') {
				out = append(out, w)
			}
			start = -1
		}
	}
	return out
}

// renameInLine replaces the renamed names in one canonical line: whole
// identifiers only, outside string literals, not after a "." (an
// attribute or selector) and, in Python, not as a keyword argument name
// (`f(name=...)`).
func renameInLine(lang language, line string, names map[string]string) string {
	var b strings.Builder
	depth := 0
	var quote byte
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case quote != 0:
			b.WriteByte(c)
			if c == '\\' && i+1 < len(line) {
				b.WriteByte(line[i+1])
				i += 2
				continue
			}
			if c == quote {
				quote = 0
			}
			i++
		case c == '"' || c == '\'' || c == '`':
			quote = c
			b.WriteByte(c)
			i++
		case isWordByte(c):
			j := i
			for j < len(line) && isWordByte(line[j]) {
				j++
			}
			w := line[i:j]
			prev := prevNonSpace(line, i)
			next := nextNonSpace(line, j)
			kwarg := lang == langPython && depth > 0 && next == '=' && !(j+1 < len(line) && line[j+1] == '=')
			if r, ok := names[w]; ok && prev != '.' && !kwarg && !(c >= '0' && c <= '9') {
				b.WriteString(r)
			} else {
				b.WriteString(w)
			}
			i = j
		default:
			switch c {
			case '(', '[', '{':
				depth++
			case ')', ']', '}':
				depth = max(0, depth-1)
			}
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func prevNonSpace(s string, i int) byte {
	for i--; i >= 0; i-- {
		if s[i] != ' ' && s[i] != '\t' {
			return s[i]
		}
	}
	return 0
}

func nextNonSpace(s string, i int) byte {
	for ; i < len(s); i++ {
		if s[i] != ' ' && s[i] != '\t' {
			return s[i]
		}
	}
	return 0
}

// goBindings lists the names declared inside function bodies by Go lines.
// The lines are read as a file when they parse as one (then only names
// inside function bodies and literals count: top-level names are API), else
// as the statements of a function body; when neither parses, go/scanner
// finds the names before ":=" and after "var".
func goBindings(lines []string) []string {
	src := strings.Join(lines, "\n")
	fset := token.NewFileSet()
	if f, err := parser.ParseFile(fset, "", "package p\n"+src, 0); err == nil {
		var out []string
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				out = append(out, declaredIn(fd.Body)...)
			}
		}
		return out
	}
	if f, err := parser.ParseFile(fset, "", "package p\nfunc _() {\n"+src+"\n}", 0); err == nil {
		return declaredIn(f.Decls[0].(*ast.FuncDecl).Body)
	}
	return goScannedBindings(src)
}

// declaredIn lists, in source order, the names a function body declares:
// short variable declarations, var declarations, range variables, type
// switch guards and function literal parameters.
func declaredIn(body ast.Node) []string {
	type named struct {
		pos  token.Pos
		name string
	}
	var found []named
	add := func(ids ...*ast.Ident) {
		for _, id := range ids {
			if id != nil && id.Name != "_" {
				found = append(found, named{id.Pos(), id.Name})
			}
		}
	}
	addExprs := func(es ...ast.Expr) {
		for _, e := range es {
			if id, ok := e.(*ast.Ident); ok {
				add(id)
			}
		}
	}
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				addExprs(n.Lhs...)
			}
		case *ast.RangeStmt:
			if n.Tok == token.DEFINE {
				addExprs(n.Key, n.Value)
			}
		case *ast.ValueSpec:
			add(n.Names...)
		case *ast.FuncLit:
			for _, fl := range n.Type.Params.List {
				add(fl.Names...)
			}
		}
		return true
	})
	sort.SliceStable(found, func(i, j int) bool { return found[i].pos < found[j].pos })
	out := make([]string, len(found))
	for i, f := range found {
		out[i] = f.name
	}
	return out
}

// goScannedBindings finds "a, b :=" and "var a" in Go text that does not
// parse.
func goScannedBindings(src string) []string {
	var s scanner.Scanner
	fset := token.NewFileSet()
	file := fset.AddFile("", fset.Base(), len(src))
	s.Init(file, []byte(src), nil, 0)
	type tok struct {
		t   token.Token
		lit string
	}
	var toks []tok
	for {
		_, t, lit := s.Scan()
		if t == token.EOF {
			break
		}
		toks = append(toks, tok{t, lit})
	}
	var out []string
	for i, t := range toks {
		switch t.t {
		case token.DEFINE:
			// Walk back over "ident (, ident)*".
			var names []string
			for j := i - 1; j >= 0; j -= 2 {
				if toks[j].t != token.IDENT {
					break
				}
				names = append([]string{toks[j].lit}, names...)
				if j == 0 || toks[j-1].t != token.COMMA {
					break
				}
			}
			out = append(out, names...)
		case token.VAR:
			if i+1 < len(toks) && toks[i+1].t == token.IDENT {
				out = append(out, toks[i+1].lit)
			}
		}
	}
	return out
}

// pythonBindings lists the local names Python lines bind: at an indented
// position (inside a def or a block; module-level names are API), the
// targets of "=" assignments, "for ... in" targets (statements and
// comprehensions), names after "as", walrus targets and lambda parameters.
// Names after global or nonlocal are not local and are left out.
func pythonBindings(lines []string) []string {
	var out []string
	nonLocal := map[string]bool{}
	for _, line := range lines {
		indented := strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")
		toks := pythonTokens(strings.TrimSpace(line))
		if len(toks) > 0 && (toks[0] == "global" || toks[0] == "nonlocal") {
			for _, t := range toks[1:] {
				nonLocal[t] = true
			}
			continue
		}
		if !indented {
			continue
		}
		depth := 0
		for i, t := range toks {
			switch t {
			case "(", "[", "{":
				depth++
			case ")", "]", "}":
				depth = max(0, depth-1)
			case "=":
				if depth == 0 {
					// Statement targets: every name at depth 0 before the first "=".
					for k := 0; k < i; k++ {
						if isPyName(toks[k]) && (k == 0 || toks[k-1] == ",") && (k+1 == i || toks[k+1] == "," || toks[k+1] == "=") {
							out = append(out, toks[k])
						}
					}
				}
			case ":=":
				if i > 0 && isPyName(toks[i-1]) {
					out = append(out, toks[i-1])
				}
			case "as":
				if i+1 < len(toks) && isPyName(toks[i+1]) {
					out = append(out, toks[i+1])
				}
			case "for":
				for k := i + 1; k < len(toks) && toks[k] != "in"; k++ {
					if isPyName(toks[k]) {
						out = append(out, toks[k])
					}
				}
			case "lambda":
				for k := i + 1; k < len(toks) && toks[k] != ":"; k++ {
					if isPyName(toks[k]) {
						out = append(out, toks[k])
					}
				}
			}
		}
	}
	kept := out[:0]
	for _, n := range out {
		if !nonLocal[n] {
			kept = append(kept, n)
		}
	}
	return kept
}

// pythonKeywords are never names.
var pythonKeywords = map[string]bool{
	"False": true, "None": true, "True": true, "and": true, "as": true, "assert": true, "async": true, "await": true,
	"break": true, "class": true, "continue": true, "def": true, "del": true, "elif": true, "else": true, "except": true,
	"finally": true, "for": true, "from": true, "global": true, "if": true, "import": true, "in": true, "is": true,
	"lambda": true, "nonlocal": true, "not": true, "or": true, "pass": true, "raise": true, "return": true, "try": true,
	"while": true, "with": true, "yield": true, "self": true, "cls": true,
}

func isPyName(t string) bool {
	if t == "" || pythonKeywords[t] || !isWordByte(t[0]) || (t[0] >= '0' && t[0] <= '9') {
		return false
	}
	for i := 0; i < len(t); i++ {
		if !isWordByte(t[i]) {
			return false
		}
	}
	return true
}

// pythonTokens splits a canonical Python line into names, numbers, string
// literals (one token each), and operators ("==", ":=", "+=" and the like
// as one token; every other symbol alone). An attribute ("a.b") yields
// "a", ".", "b", so that b is seen after a ".".
func pythonTokens(line string) []string {
	var out []string
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(line) && line[j] != c {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(line))
			out = append(out, line[i:j])
			i = j
		case isWordByte(c):
			j := i
			for j < len(line) && isWordByte(line[j]) {
				j++
			}
			// A string prefix (r"", b'', f"") belongs to the string.
			if j < len(line) && (line[j] == '"' || line[j] == '\'') && j-i <= 2 {
				i = j
				continue
			}
			out = append(out, line[i:j])
			i = j
		case i+1 < len(line) && line[i+1] == '=' && strings.IndexByte("=!<>:+-*/%&|^@", c) >= 0:
			out = append(out, line[i:i+2])
			i += 2
		default:
			out = append(out, line[i:i+1])
			i++
		}
	}
	return out
}
