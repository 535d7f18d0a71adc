package executortest

import (
	"fmt"
	"strings"
)

// NewFilePatch is a git diff that adds one file.
func NewFilePatch(path, content string) string {
	if !strings.HasSuffix(content, "\n") {
		content += "\n"
	}
	lines := strings.SplitAfter(strings.TrimSuffix(content, "\n"), "\n")
	var b strings.Builder
	fmt.Fprintf(&b, "diff --git a/%s b/%s\nnew file mode 100644\n--- /dev/null\n+++ b/%s\n@@ -0,0 +1,%d @@\n", path, path, path, len(lines))
	for _, l := range lines {
		b.WriteString("+" + strings.TrimSuffix(l, "\n") + "\n")
	}
	return b.String()
}

// Modify is a git diff changing line "old" to "new" in path.
func Modify(path string) string {
	return fmt.Sprintf("diff --git a/%[1]s b/%[1]s\n--- a/%[1]s\n+++ b/%[1]s\n@@ -1,2 +1,2 @@\n-old\n+new\n ctx\n", path)
}

// SymlinkPatch is a git diff adding path as a symbolic link to target.
func SymlinkPatch(path, target string) string {
	return fmt.Sprintf("diff --git a/%[1]s b/%[1]s\nnew file mode 120000\n--- /dev/null\n+++ b/%[1]s\n@@ -0,0 +1 @@\n+%[2]s\n\\ No newline at end of file\n", path, target)
}

// Numbered returns "l1\n...ln\n" with line k replaced by repl[k].
func Numbered(n int, repl map[int]string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if r, ok := repl[i]; ok {
			b.WriteString(r + "\n")
			continue
		}
		fmt.Fprintf(&b, "l%d\n", i)
	}
	return b.String()
}

// Summary is a shell command that prints a pytest -rA summary section with
// the given lines, the way pytest ends a session.
func Summary(lines ...string) string {
	var b strings.Builder
	b.WriteString("printf '%s\\n' '======= short test summary info ======='")
	for _, l := range lines {
		fmt.Fprintf(&b, " %q", l)
	}
	b.WriteString(" '======= done ======='")
	return b.String()
}
