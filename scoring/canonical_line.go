package scoring

import (
	"path"
	"strings"
)

// language says how to read a source file's lines: which comments it has and
// whether leading indentation carries meaning.
type language struct {
	name string
	// lineComment starts a comment that runs to the end of the line ("#", "//").
	lineComment string
	// blockComments are recognised only when a whole line is one ("/* x */").
	blockComments bool
	// indentMatters keeps leading indentation (Python); elsewhere it is layout.
	indentMatters bool
}

var (
	langGo      = language{name: "go", lineComment: "//", blockComments: true}
	langPython  = language{name: "python", lineComment: "#", indentMatters: true}
	langCLike   = language{name: "c-like", lineComment: "//", blockComments: true}
	langHash    = language{name: "hash", lineComment: "#"}
	langGeneric = language{name: "text"}
)

// languageOf picks the language from the file name. Unknown kinds get only
// whitespace normalization: in Markdown or reStructuredText a leading "#" is
// content, not a comment.
func languageOf(name string) language {
	switch strings.ToLower(path.Ext(name)) {
	case ".go":
		return langGo
	case ".py", ".pyi", ".pyx":
		return langPython
	case ".c", ".h", ".cc", ".cpp", ".hpp", ".cxx", ".java", ".js", ".jsx", ".ts", ".tsx",
		".rs", ".kt", ".scala", ".swift", ".cs", ".dart":
		return langCLike
	case ".rb", ".sh", ".bash", ".yaml", ".yml", ".toml", ".pl", ".r", ".cfg":
		return langHash
	}
	return langGeneric
}

// canonicalLines returns the canonical form of each line ("" when the line is
// blank or holds only a comment, and so is dropped). Canonical form for code: comments
// removed, whitespace outside string literals removed except one space where
// two word characters would otherwise join, leading indentation kept only
// where it carries meaning. Strings are tracked across lines so that a "#"
// inside a Python triple-quoted string is not taken for a comment.
func canonicalLines(lang language, lines []string) []string {
	out := make([]string, len(lines))
	if lang == langGeneric {
		// Prose and data: only runs of whitespace are layout.
		for i, l := range lines {
			out[i] = strings.Join(strings.Fields(l), " ")
		}
		return out
	}
	var sc lineScanner
	sc.lang = lang
	for i, l := range lines {
		out[i] = sc.canonical(strings.TrimRight(l, "\r\n"))
	}
	return out
}

// lineScanner carries string state from one line to the next.
type lineScanner struct {
	lang language
	// open is the delimiter of a string literal still open at the end of the
	// previous line: `"""`, `'''` or "`" (Go raw strings, JS templates).
	open string
	// inBlock is true inside a /* */ comment spanning lines.
	inBlock bool
}

func (sc *lineScanner) canonical(line string) string {
	var b strings.Builder
	startedInString := sc.open != ""
	if sc.lang.indentMatters && !startedInString && !sc.inBlock {
		b.WriteString(indentation(line))
	}
	var last byte // last byte written outside a string, for the word-join rule
	pendingSpace := false
	code := false // whether anything other than comments was seen
	i := 0
	emit := func(s string) {
		if pendingSpace && last != 0 && isWordByte(last) && isWordByte(s[0]) {
			b.WriteByte(' ')
		}
		pendingSpace = false
		b.WriteString(s)
		last = s[len(s)-1]
		code = true
	}
	for i < len(line) {
		if sc.inBlock {
			end := strings.Index(line[i:], "*/")
			if end < 0 {
				i = len(line)
				break
			}
			i += end + 2
			sc.inBlock = false
			pendingSpace = true
			continue
		}
		if sc.open != "" {
			end := strings.Index(line[i:], sc.open)
			if end < 0 {
				// The literal continues on the next line: keep it verbatim.
				b.WriteString(line[i:])
				code = true
				i = len(line)
				break
			}
			b.WriteString(line[i : i+end+len(sc.open)])
			last = sc.open[len(sc.open)-1]
			code = true
			i += end + len(sc.open)
			sc.open = ""
			continue
		}
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\f' || c == '\v':
			pendingSpace = true
			i++
		case sc.lang.lineComment != "" && strings.HasPrefix(line[i:], sc.lang.lineComment):
			i = len(line)
		case sc.lang.blockComments && strings.HasPrefix(line[i:], "/*"):
			sc.inBlock = true
			i += 2
		case c == '"' || c == '\'' || c == '`':
			delim := string(c)
			if sc.lang == langPython && strings.HasPrefix(line[i:], strings.Repeat(delim, 3)) {
				delim = strings.Repeat(delim, 3)
			}
			j := closingQuote(line, i+len(delim), delim)
			if j < 0 {
				if len(delim) == 3 || delim == "`" {
					sc.open = delim
				}
				emit(line[i:])
				i = len(line)
				continue
			}
			emit(line[i:j])
			i = j
		default:
			j := i + 1
			for j < len(line) && !isSpecialByte(line[j]) {
				j++
			}
			emit(line[i:j])
			i = j
		}
	}
	if !code {
		return ""
	}
	return b.String()
}

// closingQuote returns the index just past the delimiter that closes a string
// literal whose body starts at from, or -1 when the line ends first.
func closingQuote(line string, from int, delim string) int {
	for j := from; j < len(line); j++ {
		if line[j] == '\\' && delim != "`" {
			j++
			continue
		}
		if strings.HasPrefix(line[j:], delim) {
			return j + len(delim)
		}
	}
	return -1
}

// isSpecialByte reports bytes that end a run of ordinary code: whitespace,
// quotes, and the first byte of a comment marker.
func isSpecialByte(c byte) bool {
	switch c {
	case ' ', '\t', '\f', '\v', '"', '\'', '`', '#', '/':
		return true
	}
	return false
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// indentation returns the leading whitespace with tabs expanded to the next
// multiple of 8, as Python's tokenizer counts them.
func indentation(line string) string {
	width := 0
	for _, c := range line {
		switch c {
		case ' ':
			width++
		case '\t':
			width += 8 - width%8
		default:
			return strings.Repeat(" ", width)
		}
	}
	return "" // blank line: no indentation to keep
}
