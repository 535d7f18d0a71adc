// Package logparser says how each log parser of the SWE-bench harness names
// a test case, so that a dataset's test lists (PASS_TO_PASS) can be matched
// to bestpatch's case IDs. The harness builds those lists from its own
// parse of the test log, and some of its parsers rewrite what the runner
// printed: they keep a pytest node id only up to its first space, shorten
// an absolute path given as a parameter to its last component
// (parse_log_pytest_options), write matplotlib's MouseButton.LEFT and RIGHT
// as 1 and 3, and drop terminal escapes (parse_log_pytest_v2); sympy's
// names carry no file. Name applies the same rewrite to a case ID of the
// task's format, so that equal names mean the same test.
//
// The facts are read from swebench/harness/log_parsers/python.py of the
// public harness; the code is bestpatch's own.
package logparser

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Parser is one of the harness's log parsers, by its function's name.
type Parser string

// The harness's log parsers of the repositories of SWE-bench, Lite and
// Verified.
const (
	// Django reads Django's runner at verbosity 2; bestpatch's django case
	// IDs are its names as they are.
	Django Parser = "parse_log_django"
	// Sympy reads bin/test; its names are the bare test names, the part
	// of a sympy case ID after "::".
	Sympy Parser = "parse_log_sympy"
	// Pytest reads pytest -rA (flask, xarray, pytest); a name is the node
	// id up to its first space.
	Pytest Parser = "parse_log_pytest"
	// PytestOptions is Pytest, with a parameter that is an absolute path
	// shortened to its last component (requests, pylint, pydicom).
	PytestOptions Parser = "parse_log_pytest_options"
	// PytestV2 is Pytest on lines whose terminal escapes are dropped
	// (astropy, scikit-learn, sphinx).
	PytestV2 Parser = "parse_log_pytest_v2"
	// Matplotlib is Pytest with MouseButton.LEFT and MouseButton.RIGHT
	// written as 1 and 3.
	Matplotlib Parser = "parse_log_matplotlib"
	// Seaborn is seaborn's reading of pytest's lines; its names are
	// Pytest's.
	Seaborn Parser = "parse_log_seaborn"
)

// names holds each parser's naming of a case ID, one line each.
var names = map[Parser]func(caseID string) string{
	Django:        func(id string) string { return id },
	Sympy:         bareName,
	Pytest:        firstWord,
	PytestOptions: func(id string) string { return shortenPathOption(firstWord(id)) },
	PytestV2:      func(id string) string { return firstWord(dropEscapes(id)) },
	Matplotlib:    func(id string) string { return firstWord(mouseButtons.Replace(id)) },
	Seaborn:       firstWord,
}

// Parsers lists the known parsers, sorted.
func Parsers() []Parser {
	out := make([]Parser, 0, len(names))
	for p := range names {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Validate says whether the parser is one of the known ones.
func (p Parser) Validate() error {
	if _, ok := names[p]; ok {
		return nil
	}
	known := make([]string, 0, len(names))
	for _, k := range Parsers() {
		known = append(known, string(k))
	}
	return fmt.Errorf("log parser %q is not known: use one of %s", p, strings.Join(known, ", "))
}

// Name is the harness's name of a case ID, as this parser writes it in the
// lists of a dataset row. An unknown parser names every case as it is.
func (p Parser) Name(caseID string) string {
	if f, ok := names[p]; ok {
		return f(caseID)
	}
	return caseID
}

// bareName is the part of a "file::test_name" case ID after the file.
func bareName(id string) string {
	if _, name, ok := strings.Cut(id, "::"); ok {
		return name
	}
	return id
}

// firstWord is a name up to its first white space: the harness splits
// pytest's summary line on white space, so a parameter id holding a space
// ("test_x[a b]") is cut there ("test_x[a").
func firstWord(id string) string {
	if i := strings.IndexFunc(id, unicode.IsSpace); i >= 0 {
		return id[:i]
	}
	return id
}

// shortenPathOption rewrites a node id's parameter, the text from its first
// "[" to its last "]", when it is an absolute path (not "//...", without a
// "*"): it keeps "/" and the last component, /tmp/x/a.txt -> /a.txt. Text
// after the last "]" is dropped, as the harness's pattern does.
func shortenPathOption(id string) string {
	open := strings.IndexByte(id, '[')
	end := strings.LastIndexByte(id, ']')
	if open < 0 || end < open {
		return id
	}
	option := id[open+1 : end]
	if strings.HasPrefix(option, "/") && !strings.HasPrefix(option, "//") && !strings.Contains(option, "*") {
		option = "/" + option[strings.LastIndexByte(option, '/')+1:]
	}
	return id[:open] + "[" + option + "]"
}

// escapes are what parse_log_pytest_v2 drops from a line: "[<digits>m"
// (the rest of a colour sequence) and the control characters 1 to 31.
var escapes = regexp.MustCompile(`\[\d+m|[\x01-\x1f]`)

func dropEscapes(id string) string { return escapes.ReplaceAllString(id, "") }

// mouseButtons are matplotlib's parser's rewrites.
var mouseButtons = strings.NewReplacer("MouseButton.LEFT", "1", "MouseButton.RIGHT", "3")
