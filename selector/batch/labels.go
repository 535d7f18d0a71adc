package batch

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

// Labels say which candidates resolve their instance, as the SWE-bench
// harness found. LoadLabels reads them from any of these, told apart by
// content:
//
//   - JSON lines written for bestpatch, of either form
//     {"instance_id", "model_name_or_path", "resolved"} (add "sample", the
//     position of its predictions file, when several files share a model
//     name) or {"instance_id", "candidates": [{"system", "patch",
//     "resolved"}]} (labels by patch text);
//   - the harness's run report (<model>.<run_id>.json, with "resolved_ids"
//     and the other id lists);
//   - the harness's per-instance report.json ({instance_id: {"resolved":
//     bool, ...}}), or a directory of them (logs/run_evaluation/<run_id>).
//
// A harness file grades one predictions file; see Runs for how it is tied
// to its candidates.
type Labels struct {
	byModel map[string][]modelLabel
	byPatch map[string][]patchLabel
	// graded remembers where each harness label came from, to refuse a
	// candidate graded twice with different answers.
	graded map[gradeKey]graded
}

// modelLabel labels the candidates of an instance by model and sample.
type modelLabel struct {
	// model is the candidates' model_name_or_path; empty matches any model
	// (a harness report paired with its predictions file).
	model    string
	sample   *int
	resolved bool
}

type patchLabel struct {
	system, patch string
	resolved      bool
}

type gradeKey struct {
	instance, model string
	sample          int
}

type graded struct {
	file     string
	resolved bool
}

// Runs are the predictions files of a batch, in --preds order (a file's
// position is its candidates' sample index), and the candidates read from
// them. The harness writes no model name inside its reports: it names the
// run report <model>.<run_id>.json and files report.json under
// <model>/<instance_id>/, with "/" in the model written "__". A harness file
// is tied to the one predictions file whose model it names; when several
// files share that model, or the name was changed, pair the report with
// its predictions file: PREDS=REPORT.
type Runs struct {
	Files      []string
	Candidates map[string][]scoring.Candidate
}

// LoadLabels reads labels from each source: a file (gzip-compressed when
// its name ends in .gz), a directory of the harness's report.json files, or
// PREDS=SOURCE to tie a harness report to the predictions file PREDS (one of
// runs.Files). Errors name the file, the line or entry, and the field.
func LoadLabels(runs Runs, sources ...string) (*Labels, error) {
	l := &Labels{byModel: map[string][]modelLabel{}, byPatch: map[string][]patchLabel{}, graded: map[gradeKey]graded{}}
	for _, src := range sources {
		pair, path := runs.split(src)
		if err := l.load(runs, pair, path); err != nil {
			return nil, err
		}
	}
	if len(l.byModel) == 0 && len(l.byPatch) == 0 {
		return nil, &selector.InputError{File: strings.Join(sources, ", "), Err: errors.New("no labels in the file")}
	}
	return l, nil
}

// split reads PREDS=SOURCE: the sample index of PREDS, or nil when src
// names no predictions file before an "=".
func (r Runs) split(src string) (*int, string) {
	left, right, ok := strings.Cut(src, "=")
	if !ok {
		return nil, src
	}
	for i, f := range r.Files {
		if f == left || filepath.Clean(f) == filepath.Clean(left) {
			return &i, right
		}
	}
	return nil, src
}

func (l *Labels) load(runs Runs, pair *int, path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("read labels: %w", err)
	}
	if info.IsDir() {
		return l.loadReportDir(runs, pair, path)
	}
	data, err := readLabelsFile(path)
	if err != nil {
		return err
	}
	switch labelsForm(data) {
	case runReportForm:
		bind, err := runs.bindRunReport(path, pair)
		if err != nil {
			return err
		}
		return l.loadRunReport(path, data, bind)
	case instanceReportForm:
		return l.loadInstanceReport(runs, pair, path, data)
	}
	if pair != nil {
		return &selector.InputError{File: path, Err: fmt.Errorf("%s=%s: only a harness report is paired with a predictions file; label lines name their model (and sample) themselves", runs.Files[*pair], path)}
	}
	return l.loadLines(path, data)
}

func readLabelsFile(path string) ([]byte, error) {
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
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &selector.InputError{File: path, Err: err}
	}
	return data, nil
}

// The forms of a labels file.
const (
	linesForm = iota
	runReportForm
	instanceReportForm
)

// labelsForm tells the form of a labels file from its content: one JSON
// object with "resolved_ids" is a run report; one whose members are all
// objects, none of them a label line's field, is per-instance reports;
// anything else is read as label lines.
func labelsForm(data []byte) int {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return linesForm
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(trimmed, &members) != nil {
		return linesForm
	}
	if _, ok := members["resolved_ids"]; ok {
		return runReportForm
	}
	if _, ok := members["instance_id"]; ok {
		return linesForm
	}
	for _, v := range members {
		if v := bytes.TrimSpace(v); len(v) == 0 || v[0] != '{' {
			return linesForm
		}
	}
	return instanceReportForm
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

// loadLines reads JSON label lines.
func (l *Labels) loadLines(path string, data []byte) error {
	br := bufio.NewReader(bytes.NewReader(data))
	for line := 1; ; line++ {
		raw, rerr := br.ReadBytes('\n')
		if strings.TrimSpace(string(raw)) != "" {
			if err := l.addLine(raw); err != nil {
				var ie *selector.InputError
				if errors.As(err, &ie) {
					ie.File, ie.Line = path, line
				}
				return err
			}
		}
		if rerr != nil {
			return nil
		}
	}
}

func (l *Labels) addLine(raw []byte) error {
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

// grade records a harness label of the candidates bind names: refused
// when another harness file graded them otherwise.
func (l *Labels) grade(file, instance string, bind modelLabel, resolved bool) error {
	key := gradeKey{instance: instance, model: bind.model, sample: *bind.sample}
	if g, ok := l.graded[key]; ok {
		if g.resolved != resolved {
			return &selector.InputError{File: file, Entry: fmt.Sprintf("%q", instance), Err: fmt.Errorf("resolved is %v here but %v in %s, for the same candidates: give each run's report once", resolved, g.resolved, g.file)}
		}
		return nil
	}
	l.graded[key] = graded{file: file, resolved: resolved}
	bind.resolved = resolved
	l.byModel[instance] = append(l.byModel[instance], bind)
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
		if (m.model == "" || m.model == c.Model) && (m.sample == nil || *m.sample == c.Sample) {
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
