package generator

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/bluekeyes/go-gitdiff/gitdiff"
	"golang.org/x/mod/modfile"

	"github.com/bestpatch/bestpatch/executor"
)

// Context is what the model is shown about the repository: the code the
// candidates touch and one of the repository's existing tests.
type Context struct {
	Language Language `json:"language"`
	// Format is the task's test-output format: how the runner wants a test
	// written (FormatSpec.TestStyle) and how its cases are attributed to a
	// test. Empty: the language's usual one (go-json, pytest).
	Format executor.Format `json:"format,omitempty"`
	// Code holds excerpts of the files the candidates touch (their union,
	// most touched first), each with enough surrounding code to read.
	Code []SourceFile `json:"code,omitempty"`
	// Example is an existing test file near the touched code, to show the
	// repository's conventions and test framework.
	Example *SourceFile `json:"example,omitempty"`
	// Files lists the repository's files, so that a test is never written
	// over an existing one. Empty: not checked.
	Files []string `json:"-"`
	// GoModules maps a directory holding a go.mod to its module path
	// ("." for the root), so that Go cases are attributed by exact import path.
	GoModules map[string]string `json:"go_modules,omitempty"`
}

// Excerpt sizes. A file up to wholeFileLines lines is shown whole; a longer
// one shows its head (package clause, imports) and each changed region with
// hunkContext lines around it.
const (
	wholeFileLines = 400
	headLines      = 30
	hunkContext    = 40
	maxCodeBytes   = 60_000
	maxExampleSize = 8_000
)

// GatherContext reads, at the base commit, the files the candidates'
// patches touch and an example test. Patches that do not parse are skipped
// (they are reported by the runs); a touched file the base lacks is skipped.
func GatherContext(ctx context.Context, repo Repository, lang Language, patches []string) (Context, error) {
	c := Context{Language: lang}
	type touch struct {
		path   string
		count  int
		ranges [][2]int64 // 1-based, inclusive old-line ranges
	}
	touched := map[string]*touch{}
	for _, p := range patches {
		files, _, err := gitdiff.Parse(strings.NewReader(p))
		if err != nil {
			continue
		}
		seen := map[string]bool{}
		for _, f := range files {
			if f.IsNew || f.OldName == "" || f.IsBinary {
				continue
			}
			t := touched[f.OldName]
			if t == nil {
				t = &touch{path: f.OldName}
				touched[f.OldName] = t
			}
			if !seen[f.OldName] {
				t.count++
				seen[f.OldName] = true
			}
			for _, frag := range f.TextFragments {
				t.ranges = append(t.ranges, [2]int64{frag.OldPosition, frag.OldPosition + max(frag.OldLines, 1) - 1})
			}
		}
	}
	order := make([]*touch, 0, len(touched))
	for _, t := range touched {
		order = append(order, t)
	}
	slices.SortFunc(order, func(a, b *touch) int {
		return cmp.Or(cmp.Compare(b.count, a.count), strings.Compare(a.path, b.path))
	})

	var codePaths, testPaths []string
	size := 0
	for _, t := range order {
		if lang.IsTestFile(t.path) {
			testPaths = append(testPaths, t.path)
			continue
		}
		b, err := repo.ReadFile(ctx, t.path)
		if err != nil {
			if ctx.Err() != nil {
				return Context{}, fmt.Errorf("read %s at the base commit: %w", t.path, err)
			}
			continue
		}
		ex := excerpt(string(b), t.ranges)
		if size+len(ex) > maxCodeBytes && len(c.Code) > 0 {
			break
		}
		size += len(ex)
		c.Code = append(c.Code, SourceFile{Path: t.path, Content: ex})
		codePaths = append(codePaths, t.path)
	}

	files, err := repo.ListFiles(ctx)
	if err != nil {
		return Context{}, fmt.Errorf("list the repository's files: %w", err)
	}
	c.Files = files
	if ex := pickExample(lang, files, codePaths, testPaths); ex != "" {
		if b, err := repo.ReadFile(ctx, ex); err == nil {
			c.Example = &SourceFile{Path: ex, Content: headOf(string(b), maxExampleSize)}
		}
	}
	if lang == Go {
		c.GoModules = map[string]string{}
		for _, f := range files {
			if path.Base(f) != "go.mod" || strings.Contains("/"+f, "/vendor/") || strings.Contains("/"+f, "/testdata/") {
				continue
			}
			b, err := repo.ReadFile(ctx, f)
			if err != nil {
				continue
			}
			if mp := modfile.ModulePath(b); mp != "" {
				c.GoModules[path.Dir(f)] = mp
			}
		}
	}
	return c, nil
}

// excerpt renders a file whole when short, else its head and each changed
// region with context, marking what is left out.
func excerpt(content string, ranges [][2]int64) string {
	lines := strings.SplitAfter(content, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	n := int64(len(lines))
	if n <= wholeFileLines {
		return content
	}
	keep := [][2]int64{{1, headLines}}
	for _, r := range ranges {
		keep = append(keep, [2]int64{max(r[0]-hunkContext, 1), min(r[1]+hunkContext, n)})
	}
	slices.SortFunc(keep, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	var merged [][2]int64
	for _, k := range keep {
		if l := len(merged); l > 0 && k[0] <= merged[l-1][1]+1 {
			merged[l-1][1] = max(merged[l-1][1], k[1])
			continue
		}
		merged = append(merged, k)
	}
	var b strings.Builder
	next := int64(1)
	for _, m := range merged {
		if m[0] > next {
			fmt.Fprintf(&b, "[... lines %d-%d omitted ...]\n", next, m[0]-1)
		}
		for i := m[0]; i <= m[1]; i++ {
			b.WriteString(lines[i-1])
		}
		next = m[1] + 1
	}
	if next <= n {
		fmt.Fprintf(&b, "[... lines %d-%d omitted ...]\n", next, n)
	}
	return b.String()
}

// headOf keeps the first max bytes of s, cut at a line end.
func headOf(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := strings.LastIndexByte(s[:limit], '\n') + 1
	return s[:cut] + "[... rest of the file omitted ...]\n"
}

// pickExample chooses the existing test file most likely to show how the
// touched code is tested: one a candidate touched, else the test of the
// most touched file's name (uuid.go -> uuid_test.go, test_uuid.py), else one
// in the same directory, else the one with the longest common directory.
func pickExample(lang Language, files, code, touchedTests []string) string {
	if len(touchedTests) > 0 {
		return touchedTests[0]
	}
	best, bestScore := "", -1
	for _, f := range files {
		if !lang.IsTestFile(f) || strings.Contains("/"+f, "/testdata/") || strings.Contains("/"+f, "/vendor/") {
			continue
		}
		score := 0
		for i, c := range code {
			weight := len(code) - i // the most touched file counts most
			stem := strings.TrimSuffix(path.Base(c), path.Ext(c))
			base := strings.TrimSuffix(path.Base(f), path.Ext(f))
			if base == stem+"_test" || base == "test_"+stem {
				score += 1000 * weight
			}
			if path.Dir(f) == path.Dir(c) {
				score += 100 * weight
			}
			score += commonDirs(path.Dir(f), path.Dir(c)) * weight
		}
		if score > bestScore || (score == bestScore && f < best) {
			best, bestScore = f, score
		}
	}
	return best
}

func commonDirs(a, b string) int {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	n := 0
	for n < len(as) && n < len(bs) && as[n] == bs[n] {
		n++
	}
	return n
}

// goPackage is the import path of a directory, from the nearest go.mod
// above it; "" when no module is known.
func (c Context) goPackage(dir string) string {
	for d := dir; ; d = path.Dir(d) {
		if mp, ok := c.GoModules[d]; ok {
			if d == "." {
				return path.Join(mp, dir)
			}
			rel := strings.TrimPrefix(strings.TrimPrefix(dir, d), "/")
			return path.Join(mp, rel)
		}
		if d == "." || d == "/" {
			return ""
		}
	}
}

// exists reports whether the repository already has a file at p.
func (c Context) exists(p string) bool {
	return slices.Contains(c.Files, p)
}
