package related

import (
	"path"
	"strings"
)

// djangoConvention: Django keeps its tests in apps under tests/, each a
// package (the django format's runner takes the label of a test module or
// of an app's __init__.py: tests/utils_tests/test_text.py ->
// utils_tests.test_text, tests/validators/__init__.py -> validators). For
// django/<pkgs>/<module>.py, in order: test_<module>.py under the app of the
// nearest package that has one (tests/<pkg>_tests/ or tests/<pkg>/:
// django/contrib/auth/validators.py -> tests/auth_tests/test_validators.py);
// else the app named after the module (tests/<pkg>_<module>/,
// tests/<module>/, tests/<module>s/, and for a package tests/<module>_tests/:
// django/contrib/admin/widgets.py -> tests/admin_widgets/__init__.py,
// django/core/validators.py -> tests/validators/__init__.py,
// django/contrib/sitemaps/__init__.py -> tests/sitemaps_tests/__init__.py);
// else the apps of djangoAliases (django/db/models/query.py ->
// tests/queries/__init__.py); else nothing.
var djangoConvention = Convention{
	Name: "django",
	Doc:  "test_<module>.py in the app tests/<pkg>_tests/ or tests/<pkg>/ of the nearest package, else the app named after the module, else a table of known apps (an app is run as its package: tests/<app>/__init__.py)",
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
					hits = append(hits, f)
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
			return []string{djangoApp("tests/" + n)}
		}
	}
	var out []string
	for _, t := range aliases(ix, djangoAliases, file) {
		if ix.dirs[t] {
			t = djangoApp(t)
		}
		out = append(out, t)
	}
	return out
}

// djangoApp is the file that stands for a whole test app: its package's
// __init__.py, whose label is the app's.
func djangoApp(dir string) string { return dir + "/__init__.py" }
