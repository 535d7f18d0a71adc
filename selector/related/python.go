package related

import (
	"path"
	"slices"
	"strings"
)

// pythonConvention: a module's tests are test_<module>.py (or
// unittest_<module>.py, pylint's name) in the nearest tests directory that
// covers it: beside it (sympy/core/tests/ for sympy/core/basic.py), in an
// ancestor package (xarray/tests/ for xarray/core/dataset.py), or in a
// top-level tests/ that mirrors the package (seaborn's tests/_core/ for
// seaborn/_core/plot.py, pytest's testing/). Leading underscores are
// dropped (_axes.py -> test_axes.py); a package's __init__.py is its
// package's module. Failing that, test_<package>.py of the nearest package
// that has one (requests' test_requests.py, pytest's testing/test_mark.py
// for src/_pytest/mark/structures.py). A few known exceptions are listed in
// pythonAliases.
var pythonConvention = Convention{
	Name: "python",
	Doc:  "test_<module>.py in the nearest tests directory that covers the module (beside it, in an ancestor package, or in a top-level tests/ or testing/ mirroring it), else test_<package>.py",
	find: findPython,
}

// pythonAliases are test files named after no module they test, by source
// path (a path ending in "/" covers a directory). Only those the repository
// holds are used.
var pythonAliases = map[string][]string{
	"src/_pytest/python_api.py":             {"testing/python/approx.py", "testing/python/raises.py"},
	"src/_pytest/python.py":                 {"testing/python/collect.py", "testing/python/metafunc.py", "testing/python/integration.py"},
	"src/_pytest/fixtures.py":               {"testing/python/fixtures.py"},
	"src/_pytest/assertion/rewrite.py":      {"testing/test_assertrewrite.py"},
	"src/_pytest/assertion/util.py":         {"testing/test_assertion.py"},
	"src/_pytest/_code/":                    {"testing/code/test_code.py", "testing/code/test_excinfo.py", "testing/code/test_source.py"},
	"src/flask/app.py":                      {"tests/test_basic.py"},
	"src/flask/ctx.py":                      {"tests/test_reqctx.py", "tests/test_appctx.py"},
	"flask/app.py":                          {"tests/test_basic.py"},
	"astropy/coordinates/sky_coordinate.py": {"astropy/coordinates/tests/test_sky_coord.py"},
}

func findPython(ix *index, file string) []string {
	if hits := aliases(ix, pythonAliases, file); len(hits) > 0 {
		return hits
	}
	m := moduleName(file)
	if m == "" {
		return nil
	}
	anchors := anchorDirs(path.Dir(file))
	if hits := ix.nearest([]string{"test_" + m + ".py", "unittest_" + m + ".py", m + "_test.py"}, anchors); len(hits) > 0 {
		return hits
	}
	for _, pkg := range packages(file) {
		if hits := ix.nearest([]string{"test_" + pkg + ".py"}, anchors); len(hits) > 0 {
			return hits
		}
	}
	return nil
}

// aliases returns the listed test files of the longest alias key that is
// the file or a directory holding it.
func aliases(ix *index, table map[string][]string, file string) []string {
	best := ""
	for k := range table {
		if (k == file || strings.HasSuffix(k, "/") && strings.HasPrefix(file, k)) && len(k) > len(best) {
			best = k
		}
	}
	var out []string
	for _, t := range table[best] {
		if ix.has[t] || ix.dirs[t] {
			out = append(out, t)
		}
	}
	return out
}

// packages are the names of a file's packages, nearest first, leading
// underscores dropped, source roots (src, lib) left out.
func packages(file string) []string {
	var out []string
	dir := path.Dir(file)
	for dir != "." && dir != "/" {
		name := strings.TrimLeft(path.Base(dir), "_")
		if name != "" && name != "src" && name != "lib" {
			out = append(out, name)
		}
		dir = path.Dir(dir)
	}
	return out
}

// testDirs are directory names that hold tests, not modules.
var testDirs = []string{"tests", "testing", "test"}

// home is the package directory a test file covers: its directory without
// the test directories (sympy/core/tests/test_basic.py -> sympy/core,
// tests/_core/test_plot.py -> _core, testing/test_mark.py -> "").
func home(file string) string {
	var keep []string
	for _, seg := range strings.Split(path.Dir(file), "/") {
		if seg != "." && !slices.Contains(testDirs, seg) {
			keep = append(keep, seg)
		}
	}
	return strings.Join(keep, "/")
}

// anchorDirs are the homes whose tests cover a module in dir: dir and its
// ancestors, also without the top package (a top-level tests/ mirrors the
// package: seaborn/_core -> _core) or without a source root and its
// package (src/_pytest/mark -> mark, lib/matplotlib/axes -> axes).
func anchorDirs(dir string) map[string]bool {
	out := map[string]bool{"": true}
	add := func(segs []string) {
		for i := len(segs); i > 0; i-- {
			out[strings.Join(segs[:i], "/")] = true
		}
	}
	if dir == "." || dir == "" {
		return out
	}
	segs := strings.Split(dir, "/")
	add(segs)
	if len(segs) > 1 {
		add(segs[1:])
	}
	if len(segs) > 2 && (segs[0] == "src" || segs[0] == "lib") {
		add(segs[2:])
	}
	return out
}

// nearest returns the test files with one of the names whose home covers
// the module (is in anchors), keeping those with the deepest home.
func (ix *index) nearest(names []string, anchors map[string]bool) []string {
	best := -1
	var out []string
	for _, n := range names {
		for _, f := range ix.byBase[n] {
			h := home(f)
			if !anchors[h] {
				continue
			}
			d := 0
			if h != "" {
				d = strings.Count(h, "/") + 1
			}
			switch {
			case d > best:
				best, out = d, []string{f}
			case d == best:
				out = append(out, f)
			}
		}
	}
	return out
}
