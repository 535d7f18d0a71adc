package batch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Prediction is one line of a SWE-bench predictions file, as the SWE-bench
// harness reads it.
type Prediction struct {
	InstanceID string `json:"instance_id"`
	Model      string `json:"model_name_or_path"`
	Patch      string `json:"model_patch"`
}

// Predictions are the batch's selections in SWE-bench predictions format,
// in instance order: the chosen patch of every instance that chose one,
// and an empty patch for every instance where none could be chosen (the
// harness counts those as unresolved empty patches). Failed and unfinished
// instances have no line: nothing was decided for them.
func (r *Result) Predictions(model string) []Prediction {
	var out []Prediction
	for _, in := range r.Instances {
		switch in.Status {
		case Selected:
			c, _ := in.Chosen()
			out = append(out, Prediction{InstanceID: in.ID, Model: model, Patch: c.Patch})
		case NoneChosen:
			out = append(out, Prediction{InstanceID: in.ID, Model: model, Patch: ""})
		}
	}
	return out
}

// WritePredictions writes predictions as JSONL to path, replacing it
// atomically: a reader never sees half a file.
func WritePredictions(path string, preds []Prediction) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, p := range preds {
		if err := enc.Encode(p); err != nil {
			return err
		}
	}
	return writeAtomic(path, buf.Bytes())
}

func writeAtomic(path string, data []byte) error {
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
