package batch

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

// Labels say which candidates resolve their instance, as the SWE-bench
// harness found. They are read from JSON lines of either form:
//
//	{"instance_id": "...", "model_name_or_path": "...", "resolved": true}
//	{"instance_id": "...", "candidates": [{"system": "...", "patch": "...", "resolved": true}]}
//
// The first labels the candidate of that model (add "sample", the position
// of its predictions file, when several files share a model name); the
// second labels candidates by their patch text.
type Labels struct {
	byModel map[string][]modelLabel
	byPatch map[string][]patchLabel
}

type modelLabel struct {
	model    string
	sample   *int
	resolved bool
}

type patchLabel struct {
	system, patch string
	resolved      bool
}

// labelLine is one line of a labels file, in either form.
type labelLine struct {
	InstanceID string `json:"instance_id"`
	Model      string `json:"model_name_or_path"`
	Sample     *int   `json:"sample"`
	Resolved   *bool  `json:"resolved"`
	Candidates []struct {
		System   string `json:"system"`
		Patch    string `json:"patch"`
		Resolved *bool  `json:"resolved"`
	} `json:"candidates"`
}

// LoadLabels reads a labels file: JSON lines, gzip-compressed when the name
// ends in .gz. Errors name the file, the line and the field.
func LoadLabels(path string) (*Labels, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read labels: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, &selector.InputError{File: path, Err: err}
		}
		defer gz.Close()
		r = gz
	}
	l := &Labels{byModel: map[string][]modelLabel{}, byPatch: map[string][]patchLabel{}}
	br := bufio.NewReader(r)
	for line := 1; ; line++ {
		raw, rerr := br.ReadBytes('\n')
		if rerr != nil && rerr != io.EOF {
			return nil, &selector.InputError{File: path, Line: line, Err: rerr}
		}
		if strings.TrimSpace(string(raw)) != "" {
			if err := l.add(raw); err != nil {
				var ie *selector.InputError
				if errors.As(err, &ie) {
					ie.File, ie.Line = path, line
				}
				return nil, err
			}
		}
		if rerr == io.EOF {
			break
		}
	}
	if len(l.byModel) == 0 && len(l.byPatch) == 0 {
		return nil, &selector.InputError{File: path, Err: errors.New("no labels in the file")}
	}
	return l, nil
}

func (l *Labels) add(raw []byte) error {
	var ll labelLine
	if err := json.Unmarshal(raw, &ll); err != nil {
		return &selector.InputError{Err: fmt.Errorf("not a label line: %w", err)}
	}
	if ll.InstanceID == "" {
		return &selector.InputError{Field: "instance_id", Err: errors.New("missing")}
	}
	if ll.Candidates != nil {
		for i, c := range ll.Candidates {
			if c.Resolved == nil {
				return &selector.InputError{Field: fmt.Sprintf("candidates[%d].resolved", i), Err: errors.New("missing: say true or false")}
			}
			l.byPatch[ll.InstanceID] = append(l.byPatch[ll.InstanceID], patchLabel{system: c.System, patch: strings.TrimSpace(c.Patch), resolved: *c.Resolved})
		}
		return nil
	}
	switch {
	case ll.Model == "":
		return &selector.InputError{Field: "model_name_or_path", Err: errors.New(`missing: a label line needs "model_name_or_path" and "resolved", or "candidates"`)}
	case ll.Resolved == nil:
		return &selector.InputError{Field: "resolved", Err: errors.New("missing: say true or false")}
	}
	l.byModel[ll.InstanceID] = append(l.byModel[ll.InstanceID], modelLabel{model: ll.Model, sample: ll.Sample, resolved: *ll.Resolved})
	return nil
}

// Has reports whether any candidate of the instance is labelled.
func (l *Labels) Has(instance string) bool {
	return len(l.byModel[instance]) > 0 || len(l.byPatch[instance]) > 0
}

// Resolved says whether a candidate resolves its instance; known is false
// when no label matches it.
func (l *Labels) Resolved(instance string, c scoring.Candidate) (resolved, known bool) {
	for _, m := range l.byModel[instance] {
		if m.model == c.Model && (m.sample == nil || *m.sample == c.Sample) {
			return m.resolved, true
		}
	}
	patch := strings.TrimSpace(c.Patch)
	found := false
	for _, p := range l.byPatch[instance] {
		if p.patch != patch {
			continue
		}
		if p.system == c.Model {
			return p.resolved, true
		}
		if !found {
			resolved, found = p.resolved, true
		}
	}
	return resolved, found
}
