package related

import (
	"path"
	"strings"
)

// sphinxConvention: Sphinx names a test file after the module's path below
// sphinx/, joined with underscores, longest first (sphinx/ext/napoleon/
// docstring.py -> test_ext_napoleon_docstring.py, else
// test_ext_napoleon.py, else test_ext.py), with its own words for some
// packages (domains -> domain, builders and writers -> build, python -> py:
// sphinx/domains/python.py -> test_domain_py.py); tests/ may nest them
// (Sphinx 7.3+). Failing that, the python convention.
var sphinxConvention = Convention{
	Name: "sphinx",
	Doc:  "tests/**/test_<path below sphinx/ joined by _>.py, longest prefix first (domains->domain, builders/writers->build, python->py), else as python",
	find: findSphinx,
}

var sphinxWords = map[string]string{"domains": "domain", "builders": "build", "writers": "build", "python": "py"}

func findSphinx(ix *index, file string) []string {
	rest, ok := strings.CutPrefix(file, "sphinx/")
	if ok {
		var segs []string
		for _, s := range strings.Split(strings.TrimSuffix(rest, path.Ext(rest)), "/") {
			if s == "__init__" {
				continue
			}
			s = strings.TrimLeft(s, "_")
			if w, ok := sphinxWords[s]; ok {
				s = w
			}
			segs = append(segs, s)
		}
		for k := len(segs); k > 0; k-- {
			if hits := ix.byBase["test_"+strings.Join(segs[:k], "_")+".py"]; len(hits) > 0 {
				return append([]string(nil), hits...)
			}
		}
	}
	return findPython(ix, file)
}
