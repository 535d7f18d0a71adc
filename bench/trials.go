package bench

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
)

// maxRowCopies bounds the one-row copies made of each table-driven hidden
// test.
const maxRowCopies = 4

// rowCopies returns sources of name's file in which name's first test
// table (a slice, array or map literal of at least two rows assigned at the
// top of the function) keeps one row, one source per row (up to max): a
// copy of the test that checks one case of what it checked, as a generated
// test that reproduces part of a bug would. A table whose other rows use a
// local of the function is passed over (leaving them out could leave the
// local unused, which does not compile).
func rowCopies(src []byte, name string, max int) ([][]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	var fn *ast.FuncDecl
	for _, d := range f.Decls {
		if d, ok := d.(*ast.FuncDecl); ok && d.Recv == nil && d.Name.Name == name && d.Body != nil {
			fn = d
		}
	}
	if fn == nil {
		return nil, fmt.Errorf("function %s not found", name)
	}
	var table *ast.CompositeLit
	for _, st := range fn.Body.List {
		var vals []ast.Expr
		switch st := st.(type) {
		case *ast.AssignStmt:
			vals = st.Rhs
		case *ast.DeclStmt:
			if g, ok := st.Decl.(*ast.GenDecl); ok {
				for _, sp := range g.Specs {
					if vs, ok := sp.(*ast.ValueSpec); ok {
						vals = append(vals, vs.Values...)
					}
				}
			}
		}
		for _, v := range vals {
			if cl, ok := v.(*ast.CompositeLit); ok && table == nil && len(cl.Elts) >= 2 {
				switch cl.Type.(type) {
				case *ast.ArrayType, *ast.MapType:
					table = cl
				}
			}
		}
		if table != nil {
			break
		}
	}
	if table == nil {
		return nil, nil
	}
	// Rows that name a local of the function cannot be left out safely.
	local := func(id *ast.Ident) bool {
		return id.Obj != nil && id.Obj.Kind == ast.Var && id.Obj.Pos() >= fn.Pos() && id.Obj.Pos() < fn.End()
	}
	for _, e := range table.Elts {
		usesLocal := false
		ast.Inspect(e, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && local(id) {
				usesLocal = true
			}
			return !usesLocal
		})
		if usesLocal {
			return nil, nil
		}
	}
	var out [][]byte
	for i, e := range table.Elts {
		if i == max {
			break
		}
		row := src[off(e.Pos()):off(e.End())]
		b := slices.Concat(src[:off(table.Lbrace)+1], []byte("\n"), row, []byte(",\n"), src[off(table.Rbrace):])
		if _, err := parser.ParseFile(token.NewFileSet(), "", b, parser.SkipObjectResolution); err != nil {
			return nil, fmt.Errorf("a one-row copy of %s does not parse: %w", name, err)
		}
		out = append(out, b)
	}
	return out, nil
}
