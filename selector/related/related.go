// Package related finds the existing tests of the modules a patch changes,
// by the layout conventions of a repository: sympy/core/basic.py is tested
// by sympy/core/tests/test_basic.py, django/utils/text.py by Django's
// tests/utils_tests/test_text.py. It is pure: a repository's test files and
// the changed files in, related test files out (the task's format names
// them to its runner). SWE-bench tasks use it to
// choose regression tests without the hidden test patch.
package related

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Convention is one way a repository lays out its tests.
type Convention struct {
	// Name selects the convention in a task (test_args.related).
	Name string
	// Doc says what the convention maps, for documentation.
	Doc string
	// find returns the test files related to one changed source file.
	find func(ix *index, file string) []string
}

// conventions holds every convention, one line each.
var conventions = []*Convention{&pythonConvention, &sphinxConvention, &djangoConvention}

// Lookup finds a convention by name, or says which exist.
func Lookup(name string) (*Convention, error) {
	for _, c := range conventions {
		if c.Name == name {
			return c, nil
		}
	}
	return nil, fmt.Errorf("related-test convention %q is not known: use one of %s", name, strings.Join(Names(), ", "))
}

// Names lists the conventions.
func Names() []string {
	out := make([]string, len(conventions))
	for i, c := range conventions {
		out[i] = c.Name
	}
	return out
}

// Selection is what Find chose.
type Selection struct {
	// Files are the related test files, repository paths, sorted and
	// unique; the task's format names each to its runner
	// (executor.FormatSpec.Directive).
	Files []string `json:"files,omitempty"`
	// Matched maps each changed source file that has related tests to its
	// test files.
	Matched map[string][]string `json:"matched,omitempty"`
	// Unmatched are the changed source files with no related test.
	Unmatched []string `json:"unmatched,omitempty"`
}

// sourceExts are the files whose tests are looked for; other changed files
// (documentation, data) have none to find and are not reported.
var sourceExts = []string{".py", ".pyx", ".pxd", ".pyi", ".c", ".h", ".cpp"}

// Find returns the tests related to the changed source files. tests are
// the repository's test files (repository paths, as git ls-files prints
// them); the caller leaves the changed test files out of changed (a
// candidate's changes to tests are undone before its tests run).
func (c *Convention) Find(tests, changed []string) Selection {
	ix := newIndex(tests)
	sel := Selection{Matched: map[string][]string{}}
	seen := map[string]bool{}
	for _, f := range changed {
		if ix.has[f] || !slices.Contains(sourceExts, path.Ext(f)) {
			continue
		}
		files := c.find(ix, f)
		if len(files) == 0 {
			sel.Unmatched = append(sel.Unmatched, f)
			continue
		}
		slices.Sort(files)
		files = slices.Compact(files)
		sel.Matched[f] = files
		for _, t := range files {
			if !seen[t] {
				seen[t] = true
				sel.Files = append(sel.Files, t)
			}
		}
	}
	slices.Sort(sel.Files)
	slices.Sort(sel.Unmatched)
	sel.Unmatched = slices.Compact(sel.Unmatched)
	return sel
}

// index is a repository's test files, by base name.
type index struct {
	has    map[string]bool
	byBase map[string][]string
	dirs   map[string]bool
}

func newIndex(files []string) *index {
	ix := &index{has: map[string]bool{}, byBase: map[string][]string{}, dirs: map[string]bool{}}
	for _, f := range files {
		f = strings.TrimPrefix(strings.TrimSpace(f), "./")
		if f == "" || ix.has[f] {
			continue
		}
		ix.has[f] = true
		ix.byBase[path.Base(f)] = append(ix.byBase[path.Base(f)], f)
		for d := path.Dir(f); d != "." && d != "/" && !ix.dirs[d]; d = path.Dir(d) {
			ix.dirs[d] = true
		}
	}
	return ix
}

// moduleName is the name a file's tests are named after: the base name
// without extension and leading underscores (_axes.py -> axes); for a
// package's __init__.py, the package's name.
func moduleName(file string) string {
	base := strings.TrimSuffix(path.Base(file), path.Ext(file))
	if base == "__init__" || base == "__main__" {
		base = path.Base(path.Dir(file))
		if base == "." || base == "/" {
			return ""
		}
	}
	return strings.TrimLeft(base, "_")
}
