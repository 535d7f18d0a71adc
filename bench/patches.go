package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/bestpatch/bestpatch/bench/testsubject"
)

// writeFiles writes files (slash paths relative to dir) under dir.
func writeFiles(dir string, files map[string][]byte) error {
	for p, b := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// diffFiles is the git diff that turns repo's HEAD into HEAD with files
// written over it.
func diffFiles(repo string, files map[string][]byte) (string, error) {
	return testsubject.Diff(repo, func(dir string) error { return writeFiles(dir, files) })
}

// patchFiles applies a patch to a clone of repo and returns the files it
// changed or added, with their new contents.
func patchFiles(repo, patch string) (map[string][]byte, error) {
	files := map[string][]byte{}
	_, err := testsubject.Diff(repo, func(dir string) error {
		pf := filepath.Join(dir, ".bp.patch")
		if err := os.WriteFile(pf, []byte(patch), 0o644); err != nil {
			return err
		}
		defer os.Remove(pf)
		if _, err := testsubject.Git(dir, "apply", "--index", pf); err != nil {
			return err
		}
		names, err := testsubject.Git(dir, "diff", "--cached", "--name-only", "--diff-filter=d")
		if err != nil {
			return err
		}
		for _, n := range strings.Fields(names) {
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(n)))
			if err != nil {
				return err
			}
			files[n] = b
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("apply a candidate to %s: %w", repo, err)
	}
	return files, nil
}

// changedRegion returns the line range [from, to) of fixed that differs
// from buggy (common leading and trailing lines left out). A fix that only
// deletes lines yields the empty range at the deletion point.
func changedRegion(buggy, fixed []string) (from, to int) {
	for from < len(buggy) && from < len(fixed) && buggy[from] == fixed[from] {
		from++
	}
	to = len(fixed)
	for b := len(buggy); to > from && b > from && buggy[b-1] == fixed[to-1]; b-- {
		to--
	}
	return from, to
}

// twins returns two cosmetic twins of the exact fix: one with the fixed
// lines spaced otherwise (spaces around operators squeezed out, or a blank
// line added when there are none), one with a comment line above them.
// Both make the same change once normalized.
func twins(buggy, fixed []byte) (reformatted, commented []byte) {
	bl := strings.SplitAfter(string(buggy), "\n")
	fl := strings.SplitAfter(string(fixed), "\n")
	from, to := changedRegion(bl, fl)
	if to == from && to < len(fl) {
		to++ // a pure deletion: take the line after it
	}
	ref := make([]string, 0, len(fl)+1)
	ref = append(ref, fl[:from]...)
	changed := false
	for _, l := range fl[from:to] {
		s := squeeze(l)
		changed = changed || s != l
		ref = append(ref, s)
	}
	if !changed {
		ref = append(ref, "\n")
	}
	ref = append(ref, fl[to:]...)

	anchor := ""
	if from < len(fl) {
		anchor = fl[from]
	}
	indent := anchor[:len(anchor)-len(strings.TrimLeft(anchor, " \t"))]
	com := make([]string, 0, len(fl)+1)
	com = append(com, fl[:from]...)
	com = append(com, indent+"// Restore the intended behaviour.\n")
	com = append(com, fl[from:]...)
	return []byte(strings.Join(ref, "")), []byte(strings.Join(com, ""))
}

// squeezable are the spaced operators squeeze tightens.
var squeezable = []string{" == ", " != ", " <= ", " >= ", " < ", " > ", " && ", " || ", " + ", " - ", " := ", " = ", ", "}

// squeeze removes the spaces around operators in one line of Go, outside
// string and rune literals.
func squeeze(line string) string {
	var out, code strings.Builder
	flush := func() {
		s := code.String()
		for _, op := range squeezable {
			s = strings.ReplaceAll(s, op, strings.TrimSpace(op))
		}
		out.WriteString(s)
		code.Reset()
	}
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			out.WriteByte(c)
			if c == '\\' && quote != '`' && i+1 < len(line) {
				i++
				out.WriteByte(line[i])
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			flush()
			quote = c
			out.WriteByte(c)
		case c == '/' && i+1 < len(line) && line[i+1] == '/':
			flush()
			out.WriteString(line[i:])
			return out.String()
		default:
			code.WriteByte(c)
		}
	}
	flush()
	return out.String()
}

// insertLine inserts a line before 1-based line n, indented as line n.
func insertLine(src []byte, n int, text string) ([]byte, error) {
	lines := strings.SplitAfter(string(src), "\n")
	if n < 1 || n > len(lines) {
		return nil, fmt.Errorf("line %d is outside the file (%d lines)", n, len(lines))
	}
	l := lines[n-1]
	indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
	lines = append(lines[:n-1], append([]string{indent + text + "\n"}, lines[n-1:]...)...)
	return []byte(strings.Join(lines, "")), nil
}

// staleMark is what a patch "made against other context" has on its
// context lines and the lines it removes.
const staleMark = " // upstream v2"

// staleContext turns a patch into one made against other context: every
// context line carries a change the repository does not have, and every hunk
// removes at least one line the repository does not have (a context line
// next to the change becomes a removal and re-addition), so that neither git
// apply nor patch with any fuzz applies it. ok is false when there is no
// hunk to change.
func staleContext(patch string) (string, bool) {
	lines := strings.SplitAfter(patch, "\n")
	var out []string
	ok := false
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "@@") {
			out = append(out, lines[i])
			continue
		}
		out = append(out, lines[i])
		j := i + 1
		for j < len(lines) && len(lines[j]) > 0 && strings.ContainsRune(" +-\\", rune(lines[j][0])) {
			j++
		}
		hunk := lines[i+1 : j]
		removes := false
		for _, l := range hunk {
			removes = removes || strings.HasPrefix(l, "-")
		}
		// The context line to turn into a removal: the last one before the
		// first addition, or the first one after it.
		turn := -1
		if !removes {
			for k, l := range hunk {
				if strings.HasPrefix(l, "+") {
					break
				}
				if strings.HasPrefix(l, " ") {
					turn = k
				}
			}
			if turn < 0 {
				for k, l := range hunk {
					if strings.HasPrefix(l, " ") {
						turn = k
						break
					}
				}
			}
		}
		for k, l := range hunk {
			body := strings.TrimSuffix(l[1:], "\n")
			switch {
			case k == turn:
				out = append(out, "-"+body+staleMark+"\n", "+"+body+"\n")
				ok = true
			case strings.HasPrefix(l, " "), strings.HasPrefix(l, "-"):
				out = append(out, l[:1]+body+staleMark+"\n")
				ok = ok || removes
			default:
				out = append(out, l)
			}
		}
		i = j - 1
	}
	if !ok {
		return "", false
	}
	return strings.Join(out, ""), true
}

// commitFixed commits everything in repo with a fixed author, committer and
// date, so that the same task makes the same commit (and its image, keyed
// by content, is not built again).
func commitFixed(repo, message string) error {
	for _, args := range [][]string{{"add", "-A"}, {"commit", "-q", "-m", message}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(),
			"GIT_AUTHOR_NAME=bestpatch", "GIT_AUTHOR_EMAIL=bench@bestpatch.invalid", "GIT_AUTHOR_DATE=@1704067200 +0000",
			"GIT_COMMITTER_NAME=bestpatch", "GIT_COMMITTER_EMAIL=bench@bestpatch.invalid", "GIT_COMMITTER_DATE=@1704067200 +0000",
			"GIT_CONFIG_NOSYSTEM=1", "HOME="+repo)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s in %s: %w: %s", strings.Join(args, " "), repo, err, out)
		}
	}
	return nil
}
