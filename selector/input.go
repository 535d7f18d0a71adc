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
	"strings"

	"github.com/bestpatch/bestpatch/scoring"
)

// maxLine bounds one JSONL line (a task or a prediction with its patch).
const maxLine = 64 << 20

// InputError names the place in an input file that is wrong.
type InputError struct {
	File  string
	Line  int
	Field string
	Err   error
}

func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
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
	err = eachRecord(path, data, func(line int, raw []byte) error {
		var tl taskLine
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&tl); err != nil {
			return decodeError(path, line, raw, err)
		}
		t := tl.Task
		for i, g := range tl.GeneratedTests {
			field := fmt.Sprintf("generated_tests[%d]", i)
			switch {
			case g.Patch != "" && g.PatchFile != "":
				return &InputError{path, line, field, errors.New("give either \"patch\" or \"patch_file\", not both")}
			case g.PatchFile != "":
				b, err := os.ReadFile(resolve(dir, g.PatchFile))
				if err != nil {
					return &InputError{path, line, field + ".patch_file", err}
				}
				g.Patch = string(b)
			}
			t.GeneratedTests = append(t.GeneratedTests, GeneratedTest{ID: g.ID, Patch: g.Patch})
		}
		if t.ID == "" {
			return &InputError{path, line, "instance_id", errors.New("missing: every task needs the instance_id its predictions carry")}
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

// prediction is one line of a SWE-bench predictions file. Extra fields are
// allowed and ignored.
type prediction struct {
	InstanceID *string  `json:"instance_id"`
	Model      string   `json:"model_name_or_path"`
	Patch      *string  `json:"model_patch"`
	Verifier   *float64 `json:"verifier_score"`
}

// LoadPredictions reads SWE-bench predictions files (JSONL, or a JSON list)
// and groups the candidates by instance_id. The sample index of a candidate
// is the position of its file in paths; its ID is "<sample>/<model>".
func LoadPredictions(paths []string) (map[string][]scoring.Candidate, error) {
	out := map[string][]scoring.Candidate{}
	for sample, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read predictions: %w", err)
		}
		seen := map[string]int{}
		err = eachRecord(path, data, func(line int, raw []byte) error {
			var p prediction
			if err := json.Unmarshal(raw, &p); err != nil {
				return decodeError(path, line, raw, err)
			}
			switch {
			case p.InstanceID == nil || *p.InstanceID == "":
				return &InputError{path, line, "instance_id", errors.New("missing")}
			case p.Patch == nil:
				return &InputError{path, line, "model_patch", errors.New("missing (use \"\" for an empty patch)")}
			case p.Verifier != nil && (*p.Verifier < 0 || *p.Verifier > 1):
				return &InputError{path, line, "verifier_score", fmt.Errorf("%v is outside [0, 1]", *p.Verifier)}
			}
			if first, dup := seen[*p.InstanceID]; dup {
				return &InputError{path, line, "instance_id", fmt.Errorf("%q already appears on line %d of this file: one prediction per instance per file", *p.InstanceID, first)}
			}
			seen[*p.InstanceID] = line
			model := p.Model
			if model == "" {
				model = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
			}
			out[*p.InstanceID] = append(out[*p.InstanceID], scoring.Candidate{
				ID: fmt.Sprintf("%d/%s", sample, model), Patch: *p.Patch, Model: model, Sample: sample, Verifier: p.Verifier,
			})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// eachRecord calls fn for each record of a JSON file: the elements of a JSON
// list, one JSON object, or the lines of JSONL (blank lines skipped).
func eachRecord(path string, data []byte, fn func(line int, raw []byte) error) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil
	}
	if trimmed[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(trimmed, &list); err != nil {
			return decodeError(path, 0, data, err)
		}
		for i, raw := range list {
			if err := fn(0, raw); err != nil {
				var ie *InputError
				if errors.As(err, &ie) && ie.Line == 0 {
					ie.Field = fmt.Sprintf("[%d]%s", i, prefixDot(ie.Field))
				}
				return err
			}
		}
		return nil
	}
	// One object spread over several lines (a pretty-printed task file): the
	// first line alone is not a JSON value.
	first, _, _ := bytes.Cut(trimmed, []byte("\n"))
	if json.Valid(trimmed) || !json.Valid(bytes.TrimSpace(first)) {
		return fn(1, trimmed)
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
		if err := fn(line, raw); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return &InputError{File: path, Line: line + 1, Err: fmt.Errorf("%w (a line may hold at most %d MiB)", err, maxLine>>20)}
	}
	return nil
}

func prefixDot(s string) string {
	if s == "" {
		return ""
	}
	return "." + s
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
		return &InputError{path, lineAt(line, raw, te.Offset), field, fmt.Errorf("has a %s value, want %s", te.Value, want)}
	case errors.As(err, &se):
		return &InputError{path, lineAt(line, raw, se.Offset), "", fmt.Errorf("not valid JSON: %w", se)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &InputError{path, line, field, errors.New("unknown field: check its spelling against docs/FORMATS.md")}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &InputError{path, line, "", errors.New("the JSON ends too early")}
	}
	return &InputError{path, line, "", err}
}

// lineAt maps a byte offset within a record to a line of the file: for a
// JSONL record the record's own line; for a multi-line record, counted.
func lineAt(line int, raw []byte, off int64) int {
	if line != 1 || off <= 0 || off > int64(len(raw)) {
		return line
	}
	return 1 + bytes.Count(raw[:off], []byte("\n"))
}
