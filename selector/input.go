package selector

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
)

// maxLine bounds one JSONL line (a task or a prediction with its patch).
const maxLine = 64 << 20

// InputError names the place in an input file that is wrong: the file,
// the line, the entry (an element of a JSON list, "[3]", or a member of a
// JSON object, by its key) and the field.
type InputError struct {
	File  string
	Line  int
	Entry string
	Field string
	Err   error
}

func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Entry != "" {
		fmt.Fprintf(&b, ": entry %s", e.Entry)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %q", e.Field)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *InputError) Unwrap() error { return e.Err }

// taskLine is a Task as written in a task file: generated tests may name a
// patch file instead of holding the patch.
type taskLine struct {
	Task
	GeneratedTests []struct {
		ID        string `json:"id"`
		Patch     string `json:"patch"`
		PatchFile string `json:"patch_file"`
	} `json:"generated_tests"`
}

// LoadTasks reads a task file: one JSON task, or JSONL with one task a line.
// Relative paths (environment.repo, generated_tests[].patch_file) are
// resolved against the file's directory.
func LoadTasks(path string) ([]Task, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read task file: %w", err)
	}
	dir := filepath.Dir(path)
	var tasks []Task
	err = eachRecord(path, data, func(r inputRecord) error {
		var tl taskLine
		dec := json.NewDecoder(bytes.NewReader(r.raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&tl); err != nil {
			return decodeError(path, r.line, r.raw, err)
		}
		t := tl.Task
		for i, g := range tl.GeneratedTests {
			field := fmt.Sprintf("generated_tests[%d]", i)
			switch {
			case g.Patch != "" && g.PatchFile != "":
				return &InputError{File: path, Field: field, Err: errors.New("give either \"patch\" or \"patch_file\", not both")}
			case g.PatchFile != "":
				b, err := os.ReadFile(resolve(dir, g.PatchFile))
				if err != nil {
					return &InputError{File: path, Field: field + ".patch_file", Err: err}
				}
				g.Patch = string(b)
			}
			t.GeneratedTests = append(t.GeneratedTests, GeneratedTest{ID: g.ID, Patch: g.Patch})
		}
		if t.ID == "" {
			return &InputError{File: path, Field: "instance_id", Err: errors.New("missing: every task needs the instance_id its predictions carry")}
		}
		if t.Env.Repo != "" {
			t.Env.Repo = resolve(dir, t.Env.Repo)
		}
		tasks = append(tasks, t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(tasks) == 0 {
		return nil, &InputError{File: path, Err: errors.New("no task in the file")}
	}
	return tasks, nil
}

func resolve(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// inputRecord is one record of an input file.
type inputRecord struct {
	// line is the line of the file where the record starts.
	line int
	// entry names the record within a JSON list ("[3]") or a JSON object
	// (its key, quoted); empty for JSONL and a lone JSON object.
	entry string
	raw   []byte
}

// fail places an error of fn's in the record: it fills in the file, the
// entry and the line an InputError lacks, and makes other errors one.
func (r inputRecord) fail(path string, err error) error {
	if err == nil {
		return nil
	}
	var ie *InputError
	if !errors.As(err, &ie) {
		return &InputError{File: path, Line: r.line, Entry: r.entry, Err: err}
	}
	if ie.File == "" {
		ie.File = path
	}
	if ie.Line == 0 {
		ie.Line = r.line
	}
	if ie.Entry == "" {
		ie.Entry = r.entry
	}
	return err
}

// eachRecord calls fn for each record of a JSON file: the elements of a JSON
// list, one JSON object, or the lines of JSONL (blank lines skipped).
func eachRecord(path string, data []byte, fn func(inputRecord) error) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil
	}
	if trimmed[0] == '[' {
		return eachElement(path, data, fn)
	}
	// One object spread over several lines (a pretty-printed task file): the
	// first line alone is not a JSON value.
	first, _, _ := bytes.Cut(trimmed, []byte("\n"))
	if json.Valid(trimmed) || !json.Valid(bytes.TrimSpace(first)) {
		r := inputRecord{line: startLine(data, 0), raw: trimmed}
		return r.fail(path, fn(r))
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 1<<20), maxLine)
	line := 0
	for sc.Scan() {
		line++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		r := inputRecord{line: line, raw: raw}
		if err := fn(r); err != nil {
			return r.fail(path, err)
		}
	}
	if err := sc.Err(); err != nil {
		return &InputError{File: path, Line: line + 1, Err: fmt.Errorf("%w (a line may hold at most %d MiB)", err, maxLine>>20)}
	}
	return nil
}

// eachElement calls fn for each element of a JSON list.
func eachElement(path string, data []byte, fn func(inputRecord) error) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // [
		return decodeError(path, 1, data, err)
	}
	for i := 0; dec.More(); i++ {
		off := int(dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return withEntry(decodeError(path, 1, data, err), fmt.Sprintf("[%d]", i))
		}
		r := inputRecord{line: startLine(data, off), entry: fmt.Sprintf("[%d]", i), raw: raw}
		if err := fn(r); err != nil {
			return r.fail(path, err)
		}
	}
	if _, err := dec.Token(); err != nil { // ]
		return decodeError(path, 1, data, err)
	}
	return trailing(path, dec)
}

// eachMember calls fn for each member of a JSON object, in the file's
// order; the record's entry is the member's key, quoted.
func eachMember(path string, data []byte, fn func(key string, r inputRecord) error) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // {
		return decodeError(path, 1, data, err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return decodeError(path, 1, data, err)
		}
		key, _ := tok.(string)
		entry := strconv.Quote(key)
		off := int(dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return withEntry(decodeError(path, 1, data, err), entry)
		}
		// The offset is that of the ':' before the value.
		r := inputRecord{line: startLine(data, off+1), entry: entry, raw: raw}
		if err := fn(key, r); err != nil {
			return r.fail(path, err)
		}
	}
	if _, err := dec.Token(); err != nil { // }
		return decodeError(path, 1, data, err)
	}
	return trailing(path, dec)
}

// trailing rejects anything after the one JSON value of a file.
func trailing(path string, dec *json.Decoder) error {
	if _, err := dec.Token(); err != io.EOF {
		return &InputError{File: path, Err: errors.New("more than one JSON value: write one list or object, or one JSON object a line (JSONL)")}
	}
	return nil
}

func withEntry(err error, entry string) error {
	var ie *InputError
	if errors.As(err, &ie) && ie.Entry == "" {
		ie.Entry = entry
	}
	return err
}

// startLine is the line of data on which the value after offset off starts
// (separators and white space skipped).
func startLine(data []byte, off int) int {
	for off < len(data) && strings.IndexByte(" \t\r\n,:", data[off]) >= 0 {
		off++
	}
	return 1 + bytes.Count(data[:min(off, len(data))], []byte("\n"))
}

// decodeError turns a JSON error into an InputError with the field and line.
func decodeError(path string, line int, raw []byte, err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		want := te.Type.String()
		if te.Type == reflect.TypeFor[Duration]() {
			want = `a duration such as "10m" or a number of seconds`
		}
		// Task fields are promoted from the embedded Task of taskLine.
		field := strings.TrimPrefix(te.Field, "Task.")
		return &InputError{File: path, Line: lineAt(line, raw, te.Offset), Field: field, Err: fmt.Errorf("has a %s value, want %s", te.Value, want)}
	case errors.As(err, &se):
		return &InputError{File: path, Line: lineAt(line, raw, se.Offset), Err: fmt.Errorf("not valid JSON: %w", se)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &InputError{File: path, Line: line, Field: field, Err: errors.New("unknown field: check its spelling against docs/FORMATS.md")}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &InputError{File: path, Line: line, Err: errors.New("the JSON ends too early")}
	}
	return &InputError{File: path, Line: line, Err: err}
}

// lineAt maps a byte offset within a record that starts on line to a line
// of the file.
func lineAt(line int, raw []byte, off int64) int {
	if line <= 0 || off <= 0 || off > int64(len(raw)) {
		return line
	}
	return line + bytes.Count(raw[:off], []byte("\n"))
}
