package bench

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
)

// Mutation operators, in the spirit of self-play bug injection: each removes
// or alters logic the way a real slip would.
const (
	OpNegateCondition = "negate-condition" // if c  ->  if !(c)
	OpComparison      = "comparison"       // <  ->  <=, == -> !=, ...
	OpLogical         = "logical"          // && <-> ||
	OpOffByOne        = "off-by-one"       // an integer literal one off
	OpFlipBool        = "flip-bool"        // true <-> false
	OpDeleteStatement = "delete-statement" // a call, assignment, ++/--, break or continue removed
	OpDeleteBlock     = "delete-block"     // an if without else removed whole
	OpSwapBranches    = "swap-branches"    // the then and else blocks exchanged
)

// bugOps are the operators a bug is drawn from, in a fixed order (the draw
// shuffles them with the task's seed).
var bugOps = []string{OpNegateCondition, OpComparison, OpLogical, OpOffByOne, OpFlipBool, OpDeleteStatement, OpDeleteBlock, OpSwapBranches}

// edit replaces src[Start:End] with New.
type edit struct {
	Start, End int
	New        string
}

// Mutation is one change to one Go source file, found on its syntax tree.
type Mutation struct {
	// File is the slash-separated path relative to the module root.
	File string
	// Func is the enclosing function ("Recv.Name" for methods).
	Func string
	Op   string
	// Start and End delimit, in the unmutated source, the node the mutation
	// changes (the whole comparison, the deleted statement, ...).
	Start, End int
	// Line is the 1-based line of Start.
	Line  int
	Desc  string
	edits []edit
}

// ID names the mutation uniquely within its file's source.
func (m Mutation) ID() string {
	return fmt.Sprintf("%s:%d-%d:%s:%v", m.File, m.Start, m.End, m.Op, m.edits)
}

// overlaps reports whether two mutations change overlapping ranges.
func (m Mutation) overlaps(o Mutation) bool {
	return m.File == o.File && m.Start < o.End && o.Start < m.End
}

// within reports whether m's edits all lie inside [start, end).
func (m Mutation) within(start, end int) bool {
	for _, e := range m.edits {
		if e.Start < start || e.End > end {
			return false
		}
	}
	return true
}

// comparisonFlip is the bug a comparison gets: the boundary moved, or the
// equality inverted.
var comparisonFlip = map[token.Token]token.Token{
	token.LSS: token.LEQ, token.LEQ: token.LSS,
	token.GTR: token.GEQ, token.GEQ: token.GTR,
	token.EQL: token.NEQ, token.NEQ: token.EQL,
}

var comparisons = []token.Token{token.LSS, token.LEQ, token.GTR, token.GEQ, token.EQL, token.NEQ}

// Mutations lists the mutations of one file's functions. With every set,
// each site yields every alternative (all other comparison operators,
// both off-by-one directions): that is how plausible wrong fixes are found.
// Without it, each site yields the one bug its operator makes.
func Mutations(file string, src []byte, every bool) ([]Mutation, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", file, err)
	}
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	var out []Mutation
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		name := funcName(fn)
		add := func(op string, node ast.Node, desc string, edits ...edit) {
			out = append(out, Mutation{
				File: file, Func: name, Op: op, Start: off(node.Pos()), End: off(node.End()),
				Line: fset.Position(node.Pos()).Line, Desc: desc, edits: edits,
			})
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BinaryExpr:
				mutateBinary(n, off, src, every, add)
			case *ast.IfStmt:
				cond := string(src[off(n.Cond.Pos()):off(n.Cond.End())])
				negated := "!(" + cond + ")"
				if u, ok := n.Cond.(*ast.UnaryExpr); ok && u.Op == token.NOT {
					negated = string(src[off(u.X.Pos()):off(u.X.End())])
				}
				add(OpNegateCondition, n.Cond, fmt.Sprintf("condition %s negated", short(cond)),
					edit{off(n.Cond.Pos()), off(n.Cond.End()), negated})
				if els, ok := n.Else.(*ast.BlockStmt); ok {
					body := string(src[off(n.Body.Pos()):off(n.Body.End())])
					other := string(src[off(els.Pos()):off(els.End())])
					add(OpSwapBranches, n, fmt.Sprintf("branches of `if %s` swapped", short(cond)),
						edit{off(n.Body.Pos()), off(els.End()), other + " else " + body})
				}
			case *ast.Ident:
				if n.Name == "true" || n.Name == "false" {
					flipped := map[string]string{"true": "false", "false": "true"}[n.Name]
					add(OpFlipBool, n, fmt.Sprintf("`%s` became `%s`", n.Name, flipped),
						edit{off(n.Pos()), off(n.End()), flipped})
				}
			case *ast.IndexExpr:
				if lit, ok := n.Index.(*ast.BasicLit); ok {
					mutateInt(lit, off, every, add)
				}
			case *ast.BlockStmt:
				mutateBlock(n.List, off, src, add)
			case *ast.CaseClause:
				mutateBlock(n.Body, off, src, add)
			case *ast.CommClause:
				mutateBlock(n.Body, off, src, add)
			}
			return true
		})
	}
	return out, nil
}

type addFunc func(op string, node ast.Node, desc string, edits ...edit)

func mutateBinary(n *ast.BinaryExpr, off func(token.Pos) int, src []byte, every bool, add addFunc) {
	opEdit := func(t token.Token) edit {
		return edit{off(n.OpPos), off(n.OpPos) + len(n.Op.String()), t.String()}
	}
	switch {
	case slices.Contains(comparisons, n.Op):
		alts := []token.Token{comparisonFlip[n.Op]}
		if every {
			alts = slices.DeleteFunc(slices.Clone(comparisons), func(t token.Token) bool { return t == n.Op })
		}
		for _, t := range alts {
			add(OpComparison, n, fmt.Sprintf("`%s` became `%s` in %s", n.Op, t, short(string(src[off(n.Pos()):off(n.End())]))), opEdit(t))
		}
	case n.Op == token.LAND || n.Op == token.LOR:
		t := map[token.Token]token.Token{token.LAND: token.LOR, token.LOR: token.LAND}[n.Op]
		add(OpLogical, n, fmt.Sprintf("`%s` became `%s` in %s", n.Op, t, short(string(src[off(n.Pos()):off(n.End())]))), opEdit(t))
	}
	switch n.Op {
	case token.ADD, token.SUB, token.LSS, token.LEQ, token.GTR, token.GEQ, token.EQL, token.NEQ, token.MUL, token.SHL, token.SHR, token.REM, token.QUO:
		for _, side := range []ast.Expr{n.X, n.Y} {
			if lit, ok := side.(*ast.BasicLit); ok {
				mutateInt(lit, off, every, add)
			}
		}
	}
}

// mutateInt moves an integer literal by one: down, or up from zero; with
// every, both ways.
func mutateInt(lit *ast.BasicLit, off func(token.Pos) int, every bool, add addFunc) {
	if lit.Kind != token.INT {
		return
	}
	v, err := strconv.ParseInt(lit.Value, 0, 64)
	if err != nil {
		return
	}
	alts := []int64{v - 1}
	if v == 0 {
		alts = []int64{1}
	}
	if every {
		alts = []int64{v + 1}
		if v > 0 {
			alts = append(alts, v-1)
		}
	}
	for _, a := range alts {
		add(OpOffByOne, lit, fmt.Sprintf("`%s` became `%d`", lit.Value, a),
			edit{off(lit.Pos()), off(lit.End()), strconv.FormatInt(a, 10)})
	}
}

// mutateBlock deletes statements of a block: calls, assignments (not
// declarations: those would not compile), ++/--, break/continue, and ifs
// without else.
func mutateBlock(list []ast.Stmt, off func(token.Pos) int, src []byte, add addFunc) {
	for _, s := range list {
		op := ""
		switch s := s.(type) {
		case *ast.ExprStmt:
			if _, ok := s.X.(*ast.CallExpr); ok {
				op = OpDeleteStatement
			}
		case *ast.AssignStmt:
			if s.Tok != token.DEFINE {
				op = OpDeleteStatement
			}
		case *ast.IncDecStmt:
			op = OpDeleteStatement
		case *ast.BranchStmt:
			if s.Tok == token.BREAK || s.Tok == token.CONTINUE {
				op = OpDeleteStatement
			}
		case *ast.IfStmt:
			if s.Else == nil {
				op = OpDeleteBlock
			}
		}
		if op == "" {
			continue
		}
		start, end := wholeLines(src, off(s.Pos()), off(s.End()))
		text := string(src[off(s.Pos()):off(s.End())])
		add(op, s, fmt.Sprintf("statement %s deleted", short(text)), edit{start, end, ""})
	}
}

// wholeLines widens [start, end) to whole lines when nothing but blanks
// shares them, so that a deletion leaves no empty line behind.
func wholeLines(src []byte, start, end int) (int, int) {
	ls := bytes.LastIndexByte(src[:start], '\n') + 1
	if len(bytes.TrimSpace(src[ls:start])) != 0 {
		return start, end
	}
	le := bytes.IndexByte(src[end:], '\n')
	if le < 0 {
		return start, end
	}
	if len(bytes.TrimSpace(src[end:end+le])) != 0 {
		return start, end
	}
	return ls, end + le + 1
}

func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	t := fn.Recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
			continue
		case *ast.IndexExpr:
			t = x.X
			continue
		case *ast.IndexListExpr:
			t = x.X
			continue
		case *ast.Ident:
			return x.Name + "." + fn.Name.Name
		}
		return fn.Name.Name
	}
}

// short quotes a code fragment for a description, cut to one line.
func short(code string) string {
	if i := bytes.IndexByte([]byte(code), '\n'); i >= 0 {
		code = code[:i] + " ..."
	}
	if len(code) > 60 {
		code = code[:57] + "..."
	}
	return "`" + code + "`"
}

// Apply applies mutations of one file to its source. The result is formatted
// as gofmt would when the source was (so the diff shows only the change);
// either way it must parse.
func Apply(src []byte, ms ...Mutation) ([]byte, error) {
	var edits []edit
	for _, m := range ms {
		edits = append(edits, m.edits...)
	}
	slices.SortFunc(edits, func(a, b edit) int { return b.Start - a.Start })
	out := slices.Clone(src)
	for i, e := range edits {
		if i > 0 && e.End > edits[i-1].Start {
			return nil, fmt.Errorf("mutations overlap at byte %d", e.Start)
		}
		out = slices.Concat(out[:e.Start], []byte(e.New), out[e.End:])
	}
	return reformat(src, out)
}

// reformat gofmts out when orig was gofmt-clean, and checks that it parses.
func reformat(orig, out []byte) ([]byte, error) {
	if clean, err := format.Source(orig); err == nil && bytes.Equal(clean, orig) {
		return format.Source(out)
	}
	if _, err := parser.ParseFile(token.NewFileSet(), "", out, parser.ParseComments); err != nil {
		return nil, err
	}
	return out, nil
}
