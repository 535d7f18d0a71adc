package executor

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/bluekeyes/go-gitdiff/gitdiff"

	"github.com/bestpatch/bestpatch/executor/testfile"
)

// MaxPatchBytes caps a candidate patch and each test patch. Real fixes are
// kilobytes (the largest of the 2,600 SWE-bench candidates in
// /work/shared/data is under 1 MiB); a patch past the cap is refused before
// it is parsed, so a hostile one cannot make the executor hold gigabytes.
const MaxPatchBytes = 8 << 20

// Modes of git's tree entries, as go-gitdiff reports them (raw octal).
const (
	modeType    = 0o170000
	modeRegular = 0o100000
	modeSymlink = 0o120000
)

// vetted is a candidate patch that may be applied: re-serialized from its
// parse, so that what the sandbox applies is exactly what was checked.
type vetted struct {
	// patch holds the entries that are kept, as a git diff; "" when the
	// candidate changed nothing but test files.
	patch string
	// undone are the test files (and .gitattributes) the candidate added,
	// changed, renamed or deleted: their entries were dropped.
	undone []string
	// touched are the paths the kept entries read or write, for the check of
	// the repository's own symlinks, which only the sandbox can see.
	touched []touchedPath
}

// touchedPath is a path a patch entry changes. link says the entry treats
// the path as a symbolic link on both sides (or deletes one), so an existing
// link there is expected and is not written through.
type touchedPath struct {
	path string
	link bool
}

// refuse says why a candidate is not applied at all. It is the candidate's
// failure (Result status apply_failed), not the caller's.
func refuse(format string, args ...any) error {
	return fmt.Errorf(format, args...)
}

// vetPatch decides, before anything is applied, what a candidate may change.
// It parses the patch (go-gitdiff; hunks whose line counts are wrong are
// recounted, as git apply --recount does) and refuses the whole patch if any
// entry names a path in .git/, an absolute path, a path that leaves the
// repository (..), a path through a symbolic link the patch itself creates,
// or a submodule. Entries that touch test files (isTest) or .gitattributes
// (which changes how git applies the tests) are dropped and listed in undone:
// a candidate may not change the tests that judge it.
func vetPatch(patch string, isTest func(string) bool) (vetted, error) {
	if len(patch) > MaxPatchBytes {
		return vetted{}, refuse("the patch is %d bytes, over the limit of %d bytes (%s) for a patch: a fix this large is not a candidate", len(patch), MaxPatchBytes, formatBytes(MaxPatchBytes))
	}
	files, err := parsePatch(patch)
	if err != nil {
		return vetted{}, err
	}
	if len(files) == 0 {
		return vetted{}, refuse("the patch holds no file changes: no diff header (diff --git, or ---/+++) followed by a hunk was found")
	}
	links := map[string]bool{}
	for _, f := range files {
		for _, p := range names(f) {
			if err := checkPath(p); err != nil {
				return vetted{}, err
			}
		}
		if err := checkModes(f); err != nil {
			return vetted{}, err
		}
		if !f.IsDelete && f.NewMode&modeType == modeSymlink {
			links[f.NewName] = true
		}
	}
	if err := checkLinks(files, links); err != nil {
		return vetted{}, err
	}

	var v vetted
	var kept strings.Builder
	for _, f := range files {
		if undone := tampered(f, isTest); len(undone) > 0 {
			for _, p := range undone {
				if !slices.Contains(v.undone, p) {
					v.undone = append(v.undone, p)
				}
			}
			continue
		}
		kept.WriteString(f.String())
		link := f.OldMode&modeType == modeSymlink && (f.IsDelete || f.NewMode == 0 || f.NewMode&modeType == modeSymlink)
		for _, p := range names(f) {
			v.touched = append(v.touched, touchedPath{path: p, link: link})
		}
	}
	v.patch = kept.String()
	return v, nil
}

// RunPatch is what a run applies of a candidate patch: the patch as
// NewStage stages it, vetted and re-serialized, without the entries of test
// files (matched by testFiles, testfile.Matcher patterns) and
// .gitattributes. Candidates with the same RunPatch make the same run, so a
// fix and its test-tampering twin share one. ok is false when the vetting
// refuses the patch or leaves nothing of it (only test files): the run of
// the patch as given says why.
func RunPatch(patch string, testFiles []string) (string, bool) {
	v, err := vetPatch(withNewline(patch), testfile.NewMatcher(testFiles...).Match)
	if err != nil || v.patch == "" {
		return "", false
	}
	return v.patch, true
}

// tampered returns the names of f that are test files or .gitattributes.
func tampered(f *gitdiff.File, isTest func(string) bool) []string {
	var out []string
	for _, p := range names(f) {
		base := p[strings.LastIndexByte(p, '/')+1:]
		if base == ".gitattributes" || isTest(p) {
			out = append(out, p)
		}
	}
	return out
}

// names are the distinct repository paths an entry reads or writes.
func names(f *gitdiff.File) []string {
	var out []string
	for _, n := range []string{f.OldName, f.NewName} {
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// checkPath refuses a path that does not name a file inside the work tree.
func checkPath(p string) error {
	switch {
	case strings.HasPrefix(p, "/"):
		return refuse("the patch writes %q, an absolute path: a patch may only change files inside the repository", p)
	case strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return refuse("the patch writes %q, a path with control characters", p)
	}
	for _, c := range strings.Split(p, "/") {
		switch {
		case c == "" || c == ".":
			return refuse("the patch writes %q, a path with an empty or '.' component", p)
		case c == "..":
			return refuse("the patch writes %q, which leaves the repository ('..'): a patch may only change files inside it", p)
		case strings.EqualFold(c, ".git"):
			return refuse("the patch writes %q, inside a .git directory: a patch may not change git's own files (hooks, config)", p)
		}
	}
	return nil
}

// checkModes refuses entry types git apply and patch cannot be trusted with.
func checkModes(f *gitdiff.File) error {
	for _, m := range []os.FileMode{f.OldMode, f.NewMode} {
		if m == 0 {
			continue
		}
		switch m & modeType {
		case modeRegular, modeSymlink:
		default:
			return refuse("the patch gives %q the mode %o: only regular files and symbolic links can be patched (no submodules, no directories)", f.NewName+f.OldName, m)
		}
	}
	return nil
}

// checkLinks refuses a patch that creates a symbolic link and also writes
// through it (a path below it), or writes the link's path a second time:
// git apply and patch would follow the link, wherever it points.
func checkLinks(files []*gitdiff.File, links map[string]bool) error {
	if len(links) == 0 {
		return nil
	}
	for _, f := range files {
		for _, p := range names(f) {
			for dir := p; ; {
				i := strings.LastIndexByte(dir, '/')
				if i < 0 {
					break
				}
				dir = dir[:i]
				if links[dir] {
					return refuse("the patch makes %q a symbolic link and writes %q through it: a patch may not write through links", dir, p)
				}
			}
		}
	}
	seen := map[string]bool{}
	for _, f := range files {
		for _, p := range names(f) {
			if links[p] && seen[p] {
				return refuse("the patch makes %q a symbolic link and changes it in another entry: a patch may not write through links", p)
			}
			seen[p] = true
		}
	}
	return nil
}

// parsePatch parses a patch into file entries with repository-relative
// names. The input is cut before every "diff --git" line: go-gitdiff reads
// the same sections (no hunk line starts with 'd'), and a section's first
// entry is then known to be git's, whose names go-gitdiff strips of their
// a/ and b/ prefixes, while the entries of traditional ---/+++ headers keep
// them and are stripped here (-p1, as git apply and patch do).
func parsePatch(patch string) ([]*gitdiff.File, error) {
	var files []*gitdiff.File
	for _, sec := range sections(patch) {
		parsed, _, err := gitdiff.Parse(strings.NewReader(sec))
		if err != nil {
			// Hunk headers that miscount their lines are common in patches
			// written by models; git apply --recount fixes them, so do the same.
			var rerr error
			if parsed, _, rerr = gitdiff.Parse(strings.NewReader(recount(sec))); rerr != nil {
				return nil, refuse("the patch cannot be parsed, even with its hunks recounted: %v", err)
			}
		}
		for i, f := range parsed {
			if i == 0 && strings.HasPrefix(sec, "diff --git ") {
				continue
			}
			for _, n := range names(f) {
				if strings.HasPrefix(n, "/") {
					return nil, refuse("the patch writes %q, an absolute path: a patch may only change files inside the repository", n)
				}
			}
			f.OldName, f.NewName = stripComponent(f.OldName), stripComponent(f.NewName)
		}
		files = append(files, parsed...)
	}
	return files, nil
}

// sections cuts a patch before every line that starts with "diff --git ".
func sections(patch string) []string {
	var out []string
	start := 0
	for i := 0; i < len(patch); {
		j := strings.IndexByte(patch[i:], '\n')
		next := len(patch)
		if j >= 0 {
			next = i + j + 1
		}
		if i > start && strings.HasPrefix(patch[i:], "diff --git ") {
			out = append(out, patch[start:i])
			start = i
		}
		i = next
	}
	return append(out, patch[start:])
}

// stripComponent drops the first component of a traditional header's name
// ("a/x.go" -> "x.go"); a name without one is kept.
func stripComponent(name string) string {
	if _, rest, ok := strings.Cut(name, "/"); ok {
		return rest
	}
	return name
}

var hunkHeader = regexp.MustCompile(`^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$`)

// recount rewrites every hunk header of a patch with the line counts of the
// hunk as written: its lines run until a line that cannot be one (another
// hunk header, a "diff" line, text) or a traditional file header (---, +++,
// @@). Blank lines ending a hunk are left out: they are usually the blank
// line after a patch, not context.
func recount(patch string) string {
	lines := strings.SplitAfter(patch, "\n")
	var b strings.Builder
	for i := 0; i < len(lines); i++ {
		m := hunkHeader.FindStringSubmatch(strings.TrimRight(lines[i], "\r\n"))
		if m == nil {
			b.WriteString(lines[i])
			continue
		}
		end := i + 1
		for end < len(lines) && hunkLine(lines, end) {
			end++
		}
		for end > i+1 && (lines[end-1] == "\n" || lines[end-1] == "\r\n") {
			end--
		}
		var oldN, newN int
		for _, l := range lines[i+1 : end] {
			switch {
			case l == "\n" || l == "\r\n" || l[0] == ' ':
				oldN++
				newN++
			case l[0] == '-':
				oldN++
			case l[0] == '+':
				newN++
			}
		}
		fmt.Fprintf(&b, "@@ -%s,%s +%s,%s @@%s\n", m[1], strconv.Itoa(oldN), m[2], strconv.Itoa(newN), m[3])
		for _, l := range lines[i+1 : end] {
			b.WriteString(l)
		}
		i = end - 1
	}
	return b.String()
}

// hunkLine reports whether lines[i] can belong to the hunk above it.
func hunkLine(lines []string, i int) bool {
	l := lines[i]
	if l == "" {
		return false
	}
	if strings.HasPrefix(l, "--- ") && i+2 < len(lines) && strings.HasPrefix(lines[i+1], "+++ ") && strings.HasPrefix(lines[i+2], "@@ -") {
		return false // the next file's traditional header
	}
	switch l[0] {
	case ' ', '-', '+', '\\', '\n':
		return true
	case '\r':
		return l == "\r\n"
	}
	return false
}
