package bench

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// A top-level test function is what `go test` runs by name: TestX, ExampleX
// and FuzzX. Hidden tests are removed, and reproducing tests copied, at this
// granularity.
func isTestFunc(fn *ast.FuncDecl) bool {
	if fn.Recv != nil {
		return false
	}
	for _, p := range []string{"Test", "Example", "Fuzz"} {
		if strings.HasPrefix(fn.Name.Name, p) && fn.Name.Name != "TestMain" {
			return true
		}
	}
	return false
}

// testFuncNames lists the top-level test functions declared in a test file.
func testFuncNames(src []byte) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && isTestFunc(fn) {
			names = append(names, fn.Name.Name)
		}
	}
	return names, nil
}

// removeFuncs deletes the named top-level functions (with their doc
// comments) from a Go file and the imports only they used, and formats it.
func removeFuncs(src []byte, names []string) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	var edits []edit
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv != nil || !slices.Contains(names, fn.Name.Name) {
			continue
		}
		start := fn.Pos()
		if fn.Doc != nil {
			start = fn.Doc.Pos()
		}
		s, e := wholeLines(src, off(start), off(fn.End()))
		edits = append(edits, edit{s, e, ""})
	}
	if len(edits) != len(names) {
		return nil, fmt.Errorf("found %d of the functions %v", len(edits), names)
	}
	out, err := Apply(src, Mutation{edits: edits})
	if err != nil {
		return nil, err
	}
	return pruneImports(out, usedQualifiers(f.Decls))
}

// pruneImports removes the imports that were used before (usedBefore holds
// the qualifiers then) and are no longer. A package's name is guessed from
// its path (see importName): a wrong guess keeps an import, never drops a
// used one; an import kept unused fails the task's compile check, and the
// bug site is then passed over.
func pruneImports(src []byte, usedBefore map[string]bool) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	used := usedQualifiers(f.Decls)
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	var edits []edit
	for _, imp := range f.Imports {
		name := importName(imp)
		if name == "_" || name == "." || used[name] || !usedBefore[name] {
			continue
		}
		s, e := wholeLines(src, off(imp.Pos()), off(imp.End()))
		edits = append(edits, edit{s, e, ""})
	}
	if len(edits) == 0 {
		return src, nil
	}
	return Apply(src, Mutation{edits: edits})
}

// usedQualifiers collects the identifiers used as package qualifiers (the X
// of X.Sel) in declarations other than imports.
func usedQualifiers(decls []ast.Decl) map[string]bool {
	used := map[string]bool{}
	for _, d := range decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
			continue
		}
		ast.Inspect(d, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok {
					used[id.Name] = true
				}
			}
			return true
		})
	}
	return used
}

var majorVersion = regexp.MustCompile(`^v[0-9]+$`)
var dotVersion = regexp.MustCompile(`\.v[0-9]+$`)

// importName is the name an import is used by: its explicit name, or the
// package name guessed from the path as goimports guesses it.
func importName(imp *ast.ImportSpec) string {
	if imp.Name != nil {
		return imp.Name.Name
	}
	p, _ := strconv.Unquote(imp.Path.Value)
	base := path.Base(p)
	if majorVersion.MatchString(base) && path.Dir(p) != "." {
		base = path.Base(path.Dir(p))
	}
	base = dotVersion.ReplaceAllString(base, "")
	base = strings.TrimPrefix(base, "go-")
	base = strings.TrimSuffix(base, "-go")
	return strings.ReplaceAll(base, "-", "_")
}

// copyFuncs builds a new test file in src's package holding copies of the
// named top-level functions under new names (renames: old -> new), with the
// imports they use.
func copyFuncs(src []byte, renames [][2]string) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	var body bytes.Buffer
	var decls []ast.Decl
	for _, rn := range renames {
		i := slices.IndexFunc(f.Decls, func(d ast.Decl) bool {
			fn, ok := d.(*ast.FuncDecl)
			return ok && fn.Recv == nil && fn.Name.Name == rn[0]
		})
		if i < 0 {
			return nil, fmt.Errorf("function %s not found", rn[0])
		}
		fn := f.Decls[i].(*ast.FuncDecl)
		decls = append(decls, fn)
		start, name := off(fn.Pos()), off(fn.Name.Pos())
		fmt.Fprintf(&body, "\n%s%s%s\n", src[start:name], rn[1], src[name+len(rn[0]):off(fn.End())])
	}
	used := usedQualifiers(decls)
	var out bytes.Buffer
	fmt.Fprintf(&out, "package %s\n\n", f.Name.Name)
	var imports []string
	for _, imp := range f.Imports {
		if n := importName(imp); n != "_" && n != "." && used[n] {
			spec := imp.Path.Value
			if imp.Name != nil {
				spec = imp.Name.Name + " " + spec
			}
			imports = append(imports, spec)
		}
	}
	if len(imports) > 0 {
		fmt.Fprintf(&out, "import (\n\t%s\n)\n", strings.Join(imports, "\n\t"))
	}
	out.Write(body.Bytes())
	return format.Source(out.Bytes())
}

// packageName is the package clause of a Go file.
func packageName(src []byte) (string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.PackageClauseOnly)
	if err != nil {
		return "", err
	}
	return f.Name.Name, nil
}

// testParam is the name of a test function's *testing.T parameter, or ""
// when it has none usable.
func testParam(src []byte, name string) (string, int, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.SkipObjectResolution)
	if err != nil {
		return "", 0, err
	}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv != nil || fn.Name.Name != name || fn.Body == nil {
			continue
		}
		ps := fn.Type.Params.List
		if len(ps) != 1 || len(ps[0].Names) != 1 || ps[0].Names[0].Name == "_" {
			return "", 0, nil
		}
		return ps[0].Names[0].Name, fset.Position(fn.Body.Lbrace).Offset + 1, nil
	}
	return "", 0, fmt.Errorf("function %s not found", name)
}
