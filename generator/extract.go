package generator

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/bluekeyes/go-gitdiff/gitdiff"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// ErrMalformed marks a model answer that does not hold one usable test
// file: no code block, no file path, several files, a path that is not a
// test file. Such answers are reported, never guessed at.
var ErrMalformed = errors.New("malformed model answer")

// SourceFile is a file's path in the repository and its text.
type SourceFile struct {
	Path    string `json:"path"`
	Content string `json:"content"`
}

// ExtractTestFile finds the one test file a model answer holds: a fenced code
// block in the language (or a diff block adding the file), whose path is
// given in the block's info string (```go pkg/x_test.go), on the line before
// the block (File: pkg/x_test.go, **pkg/x_test.go**, ### pkg/x_test.go), or in
// a comment on the block's first line (// pkg/x_test.go). A block repeated
// under the same path counts once, the last version winning. When the path
// is missing, defaultPath is used if set (a repair, where the path was
// fixed), else the answer is malformed.
func ExtractTestFile(answer string, lang Language, defaultPath string) (SourceFile, error) {
	blocks := codeBlocks(answer)
	if len(blocks) == 0 {
		return SourceFile{}, fmt.Errorf("%w: no fenced code block", ErrMalformed)
	}
	var files []SourceFile
	inLang, pathless := 0, 0
	for _, b := range blocks {
		switch {
		case b.lang == "diff" || b.lang == "patch":
			added, err := addedFiles(b.body)
			if err != nil {
				continue
			}
			for _, f := range added {
				if path.Ext(f.Path) == lang.ext() {
					inLang++
					files = append(files, f)
				}
			}
		case b.lang == "" || lang.fence(b.lang):
			p := b.infoPath(lang)
			if p == "" {
				p = pathIn(b.before, lang)
			}
			if p == "" {
				p = firstLineComment(b.body, lang)
			}
			if b.lang == "" && p == "" {
				continue // an untagged block without a path: prose, output, a shell line
			}
			inLang++
			if p == "" {
				if defaultPath == "" {
					pathless++
					continue
				}
				p = defaultPath
			}
			files = append(files, SourceFile{Path: p, Content: b.body})
		}
	}
	if inLang == 0 {
		return SourceFile{}, fmt.Errorf("%w: no %s code block", ErrMalformed, lang.title())
	}
	if len(files) == 0 {
		return SourceFile{}, fmt.Errorf("%w: %d %s code block(s) but no file path for them (want a line such as \"File: path/to/new_test%s\" before the block)",
			ErrMalformed, pathless, lang.title(), lang.ext())
	}
	byPath := map[string]SourceFile{}
	var order, notTests []string
	for _, f := range files {
		p, err := cleanPath(f.Path)
		if err != nil {
			return SourceFile{}, err
		}
		if !lang.IsTestFile(p) {
			notTests = append(notTests, p)
			continue
		}
		if _, seen := byPath[p]; !seen {
			order = append(order, p)
		}
		byPath[p] = SourceFile{Path: p, Content: f.Content}
	}
	switch len(order) {
	case 0:
		return SourceFile{}, fmt.Errorf("%w: %v is not a %s test file", ErrMalformed, notTests, lang.title())
	case 1:
		f := byPath[order[0]]
		if strings.TrimSpace(f.Content) == "" {
			return SourceFile{}, fmt.Errorf("%w: the code block for %s is empty", ErrMalformed, f.Path)
		}
		return f, nil
	}
	return SourceFile{}, fmt.Errorf("%w: %d test files %v, asked for one", ErrMalformed, len(order), order)
}

type codeBlock struct {
	lang, info string
	body       string
	// before is the last line of the block just before this one (a
	// paragraph or heading), where models put the file name.
	before string
}

// infoPath is a path in the info string: "go pkg/x_test.go",
// `python title="tests/test_x.py"`, "go:pkg/x_test.go".
func (b codeBlock) infoPath(lang Language) string {
	return pathIn(strings.TrimPrefix(b.info, b.lang), lang)
}

// codeBlocks parses the answer as CommonMark (goldmark), so that fences
// inside list items, tildes and longer fences are all found.
func codeBlocks(answer string) []codeBlock {
	src := []byte(answer)
	doc := goldmark.New().Parser().Parse(text.NewReader(src))
	var out []codeBlock
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		fb, ok := n.(*ast.FencedCodeBlock)
		if !entering || !ok {
			return ast.WalkContinue, nil
		}
		b := codeBlock{}
		if fb.Info != nil {
			b.info = strings.TrimSpace(string(fb.Info.Segment.Value(src)))
			first, _, _ := strings.Cut(b.info, " ")
			b.lang, _, _ = strings.Cut(first, ":")
			b.lang = strings.ToLower(strings.Trim(b.lang, "{}."))
		}
		var body bytes.Buffer
		lines := fb.Lines()
		for i := range lines.Len() {
			seg := lines.At(i)
			body.WriteString(strings.Repeat(" ", seg.Padding))
			body.Write(seg.Value(src))
		}
		b.body = body.String()
		if prev := fb.PreviousSibling(); prev != nil && prev.Type() == ast.TypeBlock {
			if l := prev.Lines(); l != nil && l.Len() > 0 {
				seg := l.At(l.Len() - 1)
				b.before = string(seg.Value(src))
			}
		}
		out = append(out, b)
		return ast.WalkSkipChildren, nil
	})
	return out
}

// pathToken matches a relative path ending in .go or .py.
var pathToken = regexp.MustCompile(`[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.(?:go|py)\b`)

// pathIn returns the first path in s with the language's extension, test
// files preferred.
func pathIn(s string, lang Language) string {
	var first string
	for _, m := range pathToken.FindAllString(s, -1) {
		if path.Ext(m) != lang.ext() {
			continue
		}
		if lang.IsTestFile(m) {
			return m
		}
		if first == "" {
			first = m
		}
	}
	return first
}

// firstLineComment reads a path from a first line such as
// "// pkg/x_test.go" or "# File: tests/test_x.py".
func firstLineComment(body string, lang Language) string {
	line, _, _ := strings.Cut(body, "\n")
	line = strings.TrimSpace(line)
	prefix := "//"
	if lang == Python {
		prefix = "#"
	}
	if !strings.HasPrefix(line, prefix) {
		return ""
	}
	rest := strings.TrimSpace(strings.TrimPrefix(line, prefix))
	for _, label := range []string{"file:", "filename:", "path:", "file", "filename"} {
		if len(rest) >= len(label) && strings.EqualFold(rest[:len(label)], label) {
			rest = strings.TrimSpace(rest[len(label):])
			break
		}
	}
	if strings.ContainsAny(rest, " \t") {
		return "" // a sentence, not a path
	}
	return pathIn(rest, lang)
}

// addedFiles reads the files a diff block creates.
func addedFiles(diff string) ([]SourceFile, error) {
	files, _, err := gitdiff.Parse(strings.NewReader(diff))
	if err != nil {
		return nil, err
	}
	var out []SourceFile
	for _, f := range files {
		if !f.IsNew && f.OldName != "" && f.OldName != "/dev/null" {
			continue
		}
		var b strings.Builder
		for _, frag := range f.TextFragments {
			for _, l := range frag.Lines {
				if l.Op == gitdiff.OpAdd {
					b.WriteString(l.Line)
				}
			}
		}
		out = append(out, SourceFile{Path: f.NewName, Content: b.String()})
	}
	return out, nil
}

// cleanPath accepts a repository-relative path that stays inside the
// repository.
func cleanPath(p string) (string, error) {
	p = strings.TrimPrefix(strings.TrimSpace(p), "./")
	c := path.Clean(p)
	if p == "" || path.IsAbs(c) || c == ".." || strings.HasPrefix(c, "../") || strings.Contains(p, `\`) {
		return "", fmt.Errorf("%w: path %q is not inside the repository", ErrMalformed, p)
	}
	return c, nil
}
