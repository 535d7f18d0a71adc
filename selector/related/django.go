package related

import (
	"path"
	"slices"
	"strings"
)

// djangoConvention: Django keeps its tests in apps under tests/, run by
// label (tests/utils_tests/test_text.py -> utils_tests.test_text, the app
// tests/validators -> validators). For django/<pkgs>/<module>.py, in order:
// test_<module>.py under the app of the nearest package that has one
// (tests/<pkg>_tests/ or tests/<pkg>/: django/contrib/auth/validators.py ->
// auth_tests.test_validators); else an app named after the module
// (tests/<pkg>_<module>/, tests/<module>/, tests/<module>s/, and for a
// package tests/<module>_tests/: django/contrib/admin/widgets.py ->
// admin_widgets, django/core/validators.py -> validators,
// django/contrib/sitemaps/__init__.py -> sitemaps_tests); else the apps of djangoAliases
// (django/db/models/query.py -> queries); else nothing.
var djangoConvention = Convention{
	Name: "django",
	Doc:  "Django test labels: test_<module> in the app tests/<pkg>_tests/ or tests/<pkg>/ of the nearest package, else the app named after the module, else a table of known apps",
	find: findDjango,
}

// djangoAliases are the test apps of Django sources whose tests are named
// after neither, by source path (a path ending in "/" covers a directory).
var djangoAliases = map[string][]string{
	"django/db/models/fields/":                          {"tests/model_fields"},
	"django/db/models/sql/":                             {"tests/queries"},
	"django/db/models/query.py":                         {"tests/queries"},
	"django/db/models/query_utils.py":                   {"tests/queries"},
	"django/db/models/expressions.py":                   {"tests/expressions"},
	"django/db/models/lookups.py":                       {"tests/lookup"},
	"django/db/models/aggregates.py":                    {"tests/aggregation"},
	"django/db/models/deletion.py":                      {"tests/delete"},
	"django/db/models/indexes.py":                       {"tests/model_indexes"},
	"django/db/models/base.py":                          {"tests/model_regress", "tests/basic"},
	"django/db/models/options.py":                       {"tests/model_meta"},
	"django/db/models/functions/":                       {"tests/db_functions"},
	"django/db/backends/":                               {"tests/backends"},
	"django/forms/":                                     {"tests/forms_tests"},
	"django/template/":                                  {"tests/template_tests"},
	"django/urls/":                                      {"tests/urlpatterns_reverse"},
	"django/http/":                                      {"tests/httpwrappers", "tests/responses"},
	"django/core/management/":                           {"tests/admin_scripts", "tests/user_commands"},
	"django/contrib/admin/":                             {"tests/admin_views"},
	"django/core/management/commands/makemigrations.py": {"tests/migrations/test_commands.py"},
	"django/core/management/commands/migrate.py":        {"tests/migrations/test_commands.py"},
}

func findDjango(ix *index, file string) []string {
	rest, ok := strings.CutPrefix(file, "django/")
	if !ok {
		return nil
	}
	m := moduleName(file)
	dir := path.Dir(rest)
	var pkgs []string // nearest first
	if dir != "." {
		segs := strings.Split(dir, "/")
		for i := len(segs) - 1; i >= 0; i-- {
			pkgs = append(pkgs, segs[i])
		}
	}
	for _, p := range pkgs {
		for _, app := range []string{"tests/" + p + "_tests", "tests/" + p} {
			if !ix.dirs[app] {
				continue
			}
			var hits []string
			for _, f := range ix.byBase["test_"+m+".py"] {
				if strings.HasPrefix(f, app+"/") {
					hits = append(hits, djangoLabel(f))
				}
			}
			if len(hits) > 0 {
				return hits
			}
		}
	}
	var named []string
	if len(pkgs) > 0 {
		named = append(named, pkgs[0]+"_"+m)
	}
	named = append(named, m, m+"s")
	if strings.HasPrefix(path.Base(file), "__init__.") {
		// A package of its own, as contrib apps are: sitemaps_tests.
		named = append(named, m+"_tests")
	}
	for _, n := range named {
		if m != "" && ix.dirs["tests/"+n] {
			return []string{n}
		}
	}
	var out []string
	for _, t := range aliases(ix, djangoAliases, file) {
		out = append(out, djangoLabel(t))
	}
	return slices.Compact(out)
}

// djangoLabel is runtests.py's label of a test file or app directory under
// tests/, as the harness writes its directives: tests/ dropped, .py
// dropped, / -> . .
func djangoLabel(p string) string {
	p = strings.TrimPrefix(p, "tests/")
	p = strings.TrimSuffix(p, ".py")
	return strings.ReplaceAll(p, "/", ".")
}
