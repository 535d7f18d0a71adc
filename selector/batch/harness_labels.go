package batch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/bestpatch/bestpatch/selector"
)

// harnessName is how the SWE-bench harness writes a model name in file and
// directory names.
func harnessName(model string) string { return strings.ReplaceAll(model, "/", "__") }

// harnessModels maps the harness name of every model of the runs to the
// model and the samples (predictions files) it has candidates in.
func (r Runs) harnessModels() map[string]struct {
	model   string
	samples []int
} {
	out := map[string]struct {
		model   string
		samples []int
	}{}
	for _, cands := range r.Candidates {
		for _, c := range cands {
			n := harnessName(c.Model)
			m := out[n]
			m.model = c.Model
			if !slices.Contains(m.samples, c.Sample) {
				m.samples = append(m.samples, c.Sample)
			}
			out[n] = m
		}
	}
	return out
}

// pairHint says how to tie a harness file to its predictions file, with
// the first of files (or of all the runs' files) as the example.
func (r Runs) pairHint(path string, files ...string) string {
	preds := "PREDS"
	switch {
	case len(files) > 0:
		preds = files[0]
	case len(r.Files) > 0:
		preds = r.Files[0]
	}
	return fmt.Sprintf("pair it with the predictions file it graded: --labels %s=%s", preds, path)
}

// bindByName ties a harness file to the candidates of the model the
// harness filed it under: the one predictions file that has that model.
func (r Runs) bindByName(path, name string) (modelLabel, error) {
	m, ok := r.harnessModels()[name]
	if !ok {
		return modelLabel{}, &selector.InputError{File: path, Err: fmt.Errorf("the harness filed it under model %q, which no predictions file has (models: %s): %s", name, r.modelList(), r.pairHint(path))}
	}
	if len(m.samples) > 1 {
		var files []string
		for _, s := range m.samples {
			files = append(files, r.Files[s])
		}
		slices.Sort(files)
		return modelLabel{}, &selector.InputError{File: path, Err: fmt.Errorf("model %q has candidates in several predictions files (%s), and the harness's file does not say which one it graded: %s", m.model, strings.Join(files, ", "), r.pairHint(path, files...))}
	}
	return modelLabel{model: m.model, sample: &m.samples[0]}, nil
}

func (r Runs) modelList() string {
	var names []string
	for _, m := range r.harnessModels() {
		names = append(names, strconv.Quote(m.model))
	}
	if len(names) == 0 {
		return "none"
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// bindRunReport ties a run report to its candidates: the predictions file
// it is paired with, or the model its name starts with
// (<model>.<run_id>.json; the longest model name that fits wins, since
// both parts may hold dots).
func (r Runs) bindRunReport(path string, pair *int) (modelLabel, error) {
	if pair != nil {
		return modelLabel{sample: pair}, nil
	}
	base := filepath.Base(strings.TrimSuffix(path, ".gz"))
	best := ""
	for name := range r.harnessModels() {
		if strings.HasPrefix(base, name+".") && len(name) > len(best) {
			best = name
		}
	}
	if best == "" {
		return modelLabel{}, &selector.InputError{File: path, Err: fmt.Errorf("a SWE-bench run report names its model only in its file name, <model>.<run_id>.json, and %q starts with none of the predictions' models (%s): %s", base, r.modelList(), r.pairHint(path))}
	}
	return r.bindByName(path, best)
}

// runReport is the SWE-bench harness's run report (make_run_report): the
// instances of one predictions file by outcome.
type runReport struct {
	Resolved   []string `json:"resolved_ids"`
	Unresolved []string `json:"unresolved_ids"`
	Errors     []string `json:"error_ids"`
	Empty      []string `json:"empty_patch_ids"`
}

// loadRunReport labels the instances of a run report: resolved_ids
// resolved; unresolved_ids, error_ids and empty_patch_ids not, as the
// harness's resolved rate counts them. Instances in no list (not
// submitted, not finished) get no label.
func (l *Labels) loadRunReport(path string, data []byte, bind modelLabel) error {
	var rep runReport
	if err := json.Unmarshal(data, &rep); err != nil {
		return jsonError(path, "", err)
	}
	lists := []struct {
		field    string
		ids      []string
		resolved bool
	}{
		{"resolved_ids", rep.Resolved, true},
		{"unresolved_ids", rep.Unresolved, false},
		{"error_ids", rep.Errors, false},
		{"empty_patch_ids", rep.Empty, false},
	}
	in := map[string]string{}
	for _, list := range lists {
		for _, id := range list.ids {
			if other, dup := in[id]; dup {
				return &selector.InputError{File: path, Field: list.field, Err: fmt.Errorf("%q is also in %s", id, other)}
			}
			in[id] = list.field
			if err := l.grade(path, id, bind, list.resolved); err != nil {
				return err
			}
		}
	}
	return nil
}

// instanceReport is one instance's entry in the harness's report.json
// (get_eval_report).
type instanceReport struct {
	Resolved *bool `json:"resolved"`
}

// loadInstanceReport labels the instances of a report.json: one entry per
// instance, keyed by instance_id. Unpaired, it must lie where the harness
// writes it, <model>/<instance_id>/report.json, to tell whose it is.
func (l *Labels) loadInstanceReport(runs Runs, pair *int, path string, data []byte) error {
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(data, &entries); err != nil {
		return jsonError(path, "", err)
	}
	var bind modelLabel
	if pair != nil {
		bind = modelLabel{sample: pair}
	} else {
		dir := filepath.Dir(path)
		if _, ok := entries[filepath.Base(dir)]; !ok || len(entries) != 1 {
			return &selector.InputError{File: path, Err: fmt.Errorf("a report.json names its model only in where it lies, <model>/<instance_id>/report.json, and this one does not lie so: %s", runs.pairHint(path))}
		}
		var err error
		if bind, err = runs.bindByName(path, filepath.Base(filepath.Dir(dir))); err != nil {
			return err
		}
	}
	ids := make([]string, 0, len(entries))
	for id := range entries {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		var rep instanceReport
		if err := json.Unmarshal(entries[id], &rep); err != nil {
			return jsonError(path, strconv.Quote(id), err)
		}
		if rep.Resolved == nil {
			return &selector.InputError{File: path, Entry: strconv.Quote(id), Field: "resolved", Err: errors.New("missing: a harness report.json says true or false")}
		}
		if err := l.grade(path, id, bind, *rep.Resolved); err != nil {
			return err
		}
	}
	return nil
}

// loadReportDir labels from every report.json under dir, as the harness
// lays them out (logs/run_evaluation/<run_id>/<model>/<instance_id>/).
func (l *Labels) loadReportDir(runs Runs, pair *int, dir string) error {
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "report.json" {
			return err
		}
		n++
		data, err := readLabelsFile(path)
		if err != nil {
			return err
		}
		if labelsForm(data) != instanceReportForm {
			return &selector.InputError{File: path, Err: errors.New(`not a harness report.json: want {"<instance_id>": {"resolved": true or false, ...}}`)}
		}
		return l.loadInstanceReport(runs, pair, path, data)
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return &selector.InputError{File: dir, Err: errors.New("no report.json under this directory: give the harness's logs/run_evaluation/<run_id> directory, or a labels file")}
	}
	return nil
}

// jsonError names the field of a JSON type error.
func jsonError(path, entry string, err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return &selector.InputError{File: path, Entry: entry, Field: te.Field, Err: fmt.Errorf("has a %s value, want %s", te.Value, te.Type)}
	case errors.As(err, &se):
		return &selector.InputError{File: path, Entry: entry, Err: fmt.Errorf("not valid JSON: %w", err)}
	}
	return &selector.InputError{File: path, Entry: entry, Err: err}
}
