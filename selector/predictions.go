package selector

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bestpatch/bestpatch/scoring"
)

// Prediction is one prediction as the SWE-bench harness reads it: the
// patch a model proposes for an instance.
type Prediction struct {
	InstanceID string `json:"instance_id"`
	Model      string `json:"model_name_or_path"`
	Patch      string `json:"model_patch"`
}

// predictionEntry is one prediction as written by agents and read by
// LoadPredictions. Extra fields are allowed and ignored.
type predictionEntry struct {
	InstanceID *string `json:"instance_id"`
	Model      string  `json:"model_name_or_path"`
	// Patch is raw to tell a missing patch (an error) from null (an empty
	// patch, as the harness counts it).
	Patch    json.RawMessage `json:"model_patch"`
	Verifier *float64        `json:"verifier_score"`
}

// LoadPredictions reads SWE-bench predictions files and groups the
// candidates by instance_id. Each file may be in any form the ecosystem
// writes, told apart by its content:
//
//   - JSONL, one prediction a line (the harness's and most agents' form);
//   - a JSON list of predictions;
//   - a JSON object keyed by instance_id, each value a prediction
//     (SWE-agent's preds.json).
//
// A prediction is {"instance_id", "model_name_or_path", "model_patch"},
// plus bestpatch's optional "verifier_score". A null model_patch is an empty
// patch, as the harness counts it. The sample index of a candidate is the
// position of its file in paths; its ID is "<sample>/<model>". Errors name
// the file, the line, the entry and the field.
func LoadPredictions(paths []string) (map[string][]scoring.Candidate, error) {
	out := map[string][]scoring.Candidate{}
	for sample, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read predictions: %w", err)
		}
		seen := map[string]inputRecord{}
		add := func(key *string, r inputRecord) error {
			id, c, err := readPrediction(path, r, sample)
			if err != nil {
				return err
			}
			if key != nil && *key != id {
				return &InputError{Field: "instance_id", Err: fmt.Errorf("%q differs from the key it is filed under", id)}
			}
			if first, dup := seen[id]; dup {
				return &InputError{Field: "instance_id", Err: fmt.Errorf("%q already appears %s of this file: one prediction per instance per file", id, first.where())}
			}
			seen[id] = r
			out[id] = append(out[id], c)
			return nil
		}
		if keyedByInstance(data) {
			err = eachMember(path, data, func(key string, r inputRecord) error { return add(&key, r) })
		} else {
			err = eachRecord(path, data, func(r inputRecord) error { return add(nil, r) })
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readPrediction reads one prediction of a predictions file (the sample
// index of the file) into its instance_id and candidate: its ID is
// "<sample>/<model>", its model the file's name when the prediction names
// none.
func readPrediction(path string, r inputRecord, sample int) (string, scoring.Candidate, error) {
	var p predictionEntry
	if err := json.Unmarshal(r.raw, &p); err != nil {
		return "", scoring.Candidate{}, decodeError(path, r.line, r.raw, err)
	}
	switch {
	case p.InstanceID == nil || *p.InstanceID == "":
		return "", scoring.Candidate{}, &InputError{Field: "instance_id", Err: errors.New("missing: every prediction names its instance")}
	case p.Patch == nil:
		return "", scoring.Candidate{}, &InputError{Field: "model_patch", Err: errors.New(`missing (use "" or null for an empty patch)`)}
	case p.Verifier != nil && (*p.Verifier < 0 || *p.Verifier > 1):
		return "", scoring.Candidate{}, &InputError{Field: "verifier_score", Err: fmt.Errorf("%v is outside [0, 1]", *p.Verifier)}
	}
	var patch string
	if !bytes.Equal(bytes.TrimSpace(p.Patch), []byte("null")) {
		// Decoded again for the line of a wrong type.
		var v struct {
			Patch string `json:"model_patch"`
		}
		if err := json.Unmarshal(r.raw, &v); err != nil {
			return "", scoring.Candidate{}, decodeError(path, r.line, r.raw, err)
		}
		patch = v.Patch
	}
	model := p.Model
	if model == "" {
		model = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	return *p.InstanceID, scoring.Candidate{
		ID: fmt.Sprintf("%d/%s", sample, model), Patch: patch, Model: model, Sample: sample, Verifier: p.Verifier,
	}, nil
}

// ReadPredictionLine reads one line of a JSONL predictions stream (select
// --stream reads them from its standard input as an agent writes them):
// the prediction's instance_id and its candidate, sample the line's index
// among the predictions (its ID is "<sample>/<model>"). A prediction
// without model_name_or_path is the model source names. Errors name source
// and the line.
func ReadPredictionLine(source string, line int, raw []byte, sample int) (string, scoring.Candidate, error) {
	r := inputRecord{line: line, raw: raw}
	id, c, err := readPrediction(source, r, sample)
	return id, c, r.fail(source, err)
}

// predictionFields are the fields of a prediction: an object holding one
// is a prediction, not predictions keyed by instance.
var predictionFields = []string{"instance_id", "model_patch", "model_name_or_path"}

// keyedByInstance reports whether data is one JSON object of predictions
// keyed by instance_id (SWE-agent's preds.json) rather than one prediction:
// its members are all objects and none is a prediction's field.
func keyedByInstance(data []byte) bool {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return false
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &members); err != nil {
		return false
	}
	for _, f := range predictionFields {
		if _, ok := members[f]; ok {
			return false
		}
	}
	for _, v := range members {
		if jsonKind(v) != "object" {
			return false
		}
	}
	return true
}

// where names the place of a record in its file, for messages.
func (r inputRecord) where() string {
	if r.entry != "" {
		return fmt.Sprintf("at entry %s (line %d)", r.entry, r.line)
	}
	return fmt.Sprintf("on line %d", r.line)
}

// WritePredictions writes predictions where the SWE-bench harness reads
// them: a JSON list when path ends in .json, JSONL when it ends in .jsonl
// (the harness refuses any other name). The file is replaced atomically: a
// reader never sees half of it.
func WritePredictions(path string, preds []Prediction) error {
	if err := CheckPredictionsPath(path); err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if strings.HasSuffix(path, ".json") {
		if preds == nil {
			preds = []Prediction{}
		}
		enc.SetIndent("", "  ")
		if err := enc.Encode(preds); err != nil {
			return err
		}
	} else {
		for _, p := range preds {
			if err := enc.Encode(p); err != nil {
				return err
			}
		}
	}
	return writeFileAtomic(path, buf.Bytes())
}

// CheckPredictionsPath says whether the SWE-bench harness can read a
// predictions file of this name: it reads .json and .jsonl only.
func CheckPredictionsPath(path string) error {
	if strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".jsonl") {
		return nil
	}
	return fmt.Errorf("predictions file %s: name it .jsonl (one prediction a line) or .json (a list): the SWE-bench harness reads no other name", path)
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory and a rename, creating the directory if need be.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
