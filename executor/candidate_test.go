package executor

import (
	"github.com/bestpatch/bestpatch/executor/executortest"
	"github.com/bestpatch/bestpatch/executor/testfile"
	"slices"
	"strings"
	"testing"

	"github.com/bluekeyes/go-gitdiff/gitdiff"
)

func TestVetPatch(t *testing.T) {
	isTest := testfile.NewMatcher("*_test.go", "*/tests/*", "tests/*").Match
	gitignoreTamper := executortest.NewFilePatch(".gitignore", "zz_test.go") +
		executortest.NewFilePatch("zz_test.go", "package lib\n\nimport (\"os\"; \"testing\")\n\nfunc TestMain(m *testing.M) { os.Exit(0) }") +
		executortest.Modify("lib.go")
	for _, tc := range []struct {
		name    string
		patch   string
		refused string   // a refusal saying this; "" for none
		kept    []string // new names of the entries kept, in order
		undone  []string
		touched []string // "F path" / "L path"
	}{
		{name: "git diff", patch: executortest.Modify("lib.go"), kept: []string{"lib.go"}, touched: []string{"F lib.go"}},
		{name: "traditional header, prefixes stripped", patch: "--- a/lib.go\t2024-01-01\n+++ b/lib.go\n@@ -1,2 +1,2 @@\n-old\n+new\n ctx\n",
			kept: []string{"lib.go"}, touched: []string{"F lib.go"}},
		{name: "traditional header without prefixes", patch: "--- lib.go\n+++ lib.go\n@@ -1 +1 @@\n-old\n+new\n", kept: []string{"lib.go"}},
		{name: "git and traditional entries mixed", patch: executortest.Modify("a.go") + "--- a/b.go\n+++ b/b.go\n@@ -1 +1 @@\n-old\n+new\n" + executortest.Modify("c.go"),
			kept: []string{"a.go", "b.go", "c.go"}},
		{name: "prose and a code fence around the diff", patch: "Here is the fix:\n```diff\n" + executortest.Modify("lib.go") + "```\nIt works.\n", kept: []string{"lib.go"}},
		{name: "hunk miscounts its lines", patch: "diff --git a/lib.go b/lib.go\n--- a/lib.go\n+++ b/lib.go\n@@ -1,5 +1,9 @@\n-old\n+new\n+more\n ctx\n\n" + executortest.Modify("other.go"),
			kept: []string{"lib.go", "other.go"}},
		{name: "rename and mode change", patch: "diff --git a/old.go b/new.go\nsimilarity index 100%\nrename from old.go\nrename to new.go\ndiff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n",
			kept: []string{"new.go", "run.sh"}, touched: []string{"F old.go", "F new.go", "F run.sh"}},
		{name: "quoted name with a space", patch: "diff --git \"a/my file.go\" \"b/my file.go\"\n--- \"a/my file.go\"\n+++ \"b/my file.go\"\n@@ -1 +1 @@\n-old\n+new\n", kept: []string{"my file.go"}},
		{name: "a symbolic link alone", patch: executortest.SymlinkPatch("docs/latest", "v2"), kept: []string{"docs/latest"}, touched: []string{"F docs/latest"}},
		{name: "an existing link retargeted", patch: "diff --git a/cur b/cur\nindex 1111111..2222222 120000\n--- a/cur\n+++ b/cur\n@@ -1 +1 @@\n-v1\n\\ No newline at end of file\n+v2\n\\ No newline at end of file\n",
			kept: []string{"cur"}, touched: []string{"L cur"}},

		// Test tampering, undone by dropping the entries.
		{name: "test file hidden by .gitignore", patch: gitignoreTamper, kept: []string{".gitignore", "lib.go"}, undone: []string{"zz_test.go"}},
		{name: "test file changed", patch: executortest.Modify("lib_test.go") + executortest.Modify("lib.go"), kept: []string{"lib.go"}, undone: []string{"lib_test.go"}},
		{name: "test directory", patch: executortest.Modify("pkg/tests/helpers.py") + executortest.Modify("tests/conftest.py") + executortest.Modify("lib.go"), kept: []string{"lib.go"}, undone: []string{"pkg/tests/helpers.py", "tests/conftest.py"}},
		{name: "test file renamed away", patch: "diff --git a/lib_test.go b/lib_test.txt\nsimilarity index 100%\nrename from lib_test.go\nrename to lib_test.txt\n" + executortest.Modify("lib.go"),
			kept: []string{"lib.go"}, undone: []string{"lib_test.go"}},
		{name: "test file deleted", patch: "diff --git a/lib_test.go b/lib_test.go\ndeleted file mode 100644\n--- a/lib_test.go\n+++ /dev/null\n@@ -1 +0,0 @@\n-package lib\n" + executortest.Modify("lib.go"),
			kept: []string{"lib.go"}, undone: []string{"lib_test.go"}},
		{name: ".gitattributes", patch: executortest.NewFilePatch(".gitattributes", "* text eol=crlf") + executortest.Modify("lib.go"), kept: []string{"lib.go"}, undone: []string{".gitattributes"}},
		{name: "only test files", patch: executortest.Modify("lib_test.go"), undone: []string{"lib_test.go"}},

		// Refused outright.
		{name: "git hook", patch: executortest.NewFilePatch(".git/hooks/post-checkout", "#!/bin/sh\ntouch /tmp/pwned"), refused: `".git/hooks/post-checkout", inside a .git directory`},
		{name: "git config, other case", patch: executortest.Modify(".GIT/config"), refused: "inside a .git directory"},
		{name: "nested .git", patch: executortest.Modify("vendor/x/.git/config"), refused: "inside a .git directory"},
		{name: "renamed into .git", patch: "diff --git a/lib.go b/.git/hooks/pre-commit\nsimilarity index 100%\nrename from lib.go\nrename to .git/hooks/pre-commit\n", refused: "inside a .git directory"},
		{name: "hook among test files", patch: executortest.Modify("lib_test.go") + executortest.NewFilePatch(".git/hooks/post-checkout", "x"), refused: "inside a .git directory"},
		{name: "parent directory", patch: executortest.NewFilePatch("../outside.txt", "x"), refused: `"../outside.txt", which leaves the repository`},
		{name: "parent directory deeper", patch: executortest.Modify("src/../../outside.txt"), refused: "leaves the repository"},
		{name: "traditional parent directory", patch: "--- a/../x\n+++ b/../x\n@@ -1 +1 @@\n-a\n+b\n", refused: "leaves the repository"},
		{name: "absolute, traditional", patch: "--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-root\n+toor\n", refused: `"/etc/passwd", an absolute path`},
		{name: "absolute rename target", patch: "diff --git a/lib.go b/lib.go\nsimilarity index 100%\nrename from lib.go\nrename to /tmp/lib.go\n", refused: "an absolute path"},
		{name: "dot component", patch: executortest.Modify("./lib.go"), refused: "an empty or '.' component"},
		{name: "control character", patch: "diff --git \"a/x\\ny\" \"b/x\\ny\"\n--- \"a/x\\ny\"\n+++ \"b/x\\ny\"\n@@ -1 +1 @@\n-a\n+b\n", refused: "control characters"},
		{name: "link then write through it", patch: executortest.SymlinkPatch("esc", "/etc") + executortest.NewFilePatch("esc/cron.d/x", "* * * * * root sh"), refused: `makes "esc" a symbolic link and writes "esc/cron.d/x" through it`},
		{name: "link then write through it, deeper", patch: executortest.SymlinkPatch("a/b", "../../..") + executortest.Modify("a/b/c/d.txt"), refused: "writes \"a/b/c/d.txt\" through it"},
		{name: "link then write it as a file", patch: executortest.SymlinkPatch("f", "/etc/passwd") + executortest.Modify("f"), refused: `makes "f" a symbolic link and changes it in another entry`},
		{name: "submodule", patch: "diff --git a/sub b/sub\nnew file mode 160000\nindex 0000000..1234567\n--- /dev/null\n+++ b/sub\n@@ -0,0 +1 @@\n+Subproject commit 1234567890123456789012345678901234567890\n", refused: "mode 160000"},
		{name: "too large", patch: executortest.Modify("lib.go") + "+" + strings.Repeat("x", MaxPatchBytes) + "\n", refused: "over the limit of 8388608 bytes (8.0 MiB)"},
		{name: "no diff at all", patch: "I could not find the bug.\n", refused: "holds no file changes"},
		{name: "hunk without a file", patch: "@@ -1 +1 @@\n-a\n+b\n", refused: "cannot be parsed"},
		{name: "broken hunk", patch: "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n", refused: "cannot be parsed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := vetPatch(tc.patch, isTest)
			if tc.refused != "" {
				if err == nil || !strings.Contains(err.Error(), tc.refused) {
					t.Fatalf("got %v (kept %q), want a refusal saying %q", err, v.patch, tc.refused)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			// What is staged parses back to the entries kept, as a git diff.
			files, _, err := gitdiff.Parse(strings.NewReader(v.patch))
			if err != nil {
				t.Fatalf("the vetted patch does not parse: %v\n%s", err, v.patch)
			}
			var kept []string
			for _, f := range files {
				kept = append(kept, f.NewName)
			}
			if !slices.Equal(kept, tc.kept) {
				t.Errorf("kept %q, want %q\n%s", kept, tc.kept, v.patch)
			}
			// Vetting what was vetted changes nothing: the run of a
			// RunPatch applies exactly it.
			if again, err := vetPatch(v.patch, isTest); v.patch != "" && (err != nil || again.patch != v.patch) {
				t.Errorf("vetting the vetted patch again gives %q (%v), want it unchanged:\n%s", again.patch, err, v.patch)
			}
			if !slices.Equal(v.undone, tc.undone) {
				t.Errorf("undone %q, want %q", v.undone, tc.undone)
			}
			if tc.touched != nil {
				var touched []string
				for _, p := range v.touched {
					touched = append(touched, map[bool]string{false: "F ", true: "L "}[p.link]+p.path)
				}
				if !slices.Equal(touched, tc.touched) {
					t.Errorf("touched %q, want %q", touched, tc.touched)
				}
			}
		})
	}
}

// A miscounted hunk is recounted to the lines it holds, and a correct one is
// left as it is.
func TestRecount(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"@@ -1,5 +1,9 @@ func f() {\n-a\n+b\n+c\n ctx\n\n", "@@ -1,2 +1,3 @@ func f() {\n-a\n+b\n+c\n ctx\n\n"},
		{"@@ -3 +3 @@\n-a\n+b\n@@ -9,1 +9,1 @@\n-c\n+d\n", "@@ -3,1 +3,1 @@\n-a\n+b\n@@ -9,1 +9,1 @@\n-c\n+d\n"},
		// A line "--- x" deleted from a file is not taken for the next header...
		{"@@ -1,1 +1,1 @@\n--- x\n+++ y\n", "@@ -1,1 +1,1 @@\n--- x\n+++ y\n"},
		// ...but a traditional header ends the hunk.
		{"@@ -1,7 +1,7 @@\n-a\n+b\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n", "@@ -1,1 +1,1 @@\n-a\n+b\n--- a/f\n+++ b/f\n@@ -1,0 +1,0 @@\n"},
		{"@@ -1,4 +1,4 @@\n-a\n+b\n```\n", "@@ -1,1 +1,1 @@\n-a\n+b\n```\n"},
	} {
		if got := recount(tc.in); got != tc.want {
			t.Errorf("recount(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A candidate and its test-tampering twin have one RunPatch (they make one
// run); a patch refused or left empty by the vetting has none.
func TestRunPatch(t *testing.T) {
	tests := []string{"*_test.go"}
	clean, ok := RunPatch(executortest.Modify("lib.go"), tests)
	if !ok || clean == "" {
		t.Fatalf("RunPatch of a plain fix: %q, %v", clean, ok)
	}
	if twin, ok := RunPatch(executortest.Modify("lib_test.go")+executortest.Modify("lib.go"), tests); !ok || twin != clean {
		t.Errorf("the tampering twin runs %q (%v), want the fix's %q", twin, ok, clean)
	}
	if other, _ := RunPatch(executortest.Modify("other.go"), tests); other == clean {
		t.Error("another change has the same RunPatch")
	}
	for name, p := range map[string]string{"only tests": executortest.Modify("lib_test.go"), "refused": executortest.Modify(".git/config"), "no diff": "nothing\n"} {
		if got, ok := RunPatch(p, tests); ok || got != "" {
			t.Errorf("%s: RunPatch %q, %v; want none", name, got, ok)
		}
	}
}
