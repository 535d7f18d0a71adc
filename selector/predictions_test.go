package selector

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadPredictionsForms reads the same two predictions in every form the
// ecosystem writes.
func TestLoadPredictionsForms(t *testing.T) {
	for _, tc := range []struct {
		name, file, body string
	}{
		{"jsonl", "run.jsonl", `{"instance_id": "i1", "model_name_or_path": "m", "model_patch": "p1", "extra": [1, 2]}` + "\n\n" +
			`{"instance_id": "i2", "model_name_or_path": "m", "model_patch": null, "verifier_score": 0.25}` + "\n"},
		{"json list", "run.json", `[{"instance_id": "i1", "model_name_or_path": "m", "model_patch": "p1"},
			{"instance_id": "i2", "model_name_or_path": "m", "model_patch": "", "verifier_score": 0.25}]`},
		{"swe-agent preds.json", "preds.json", `{
  "i1": {"model_name_or_path": "m", "instance_id": "i1", "model_patch": "p1"},
  "i2": {"model_name_or_path": "m", "instance_id": "i2", "model_patch": null, "verifier_score": 0.25}
}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), tc.file, tc.body)
			got, err := LoadPredictions([]string{p})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || len(got["i1"]) != 1 || len(got["i2"]) != 1 {
				t.Fatalf("got %+v, want one candidate for each of i1 and i2", got)
			}
			if c := got["i1"][0]; c.ID != "0/m" || c.Model != "m" || c.Patch != "p1" || c.Verifier != nil {
				t.Errorf("i1: %+v", c)
			}
			if c := got["i2"][0]; c.Patch != "" || c.Verifier == nil || *c.Verifier != 0.25 {
				t.Errorf("i2: %+v, want an empty patch with verifier score 0.25", c)
			}
		})
	}
}

func TestLoadPredictionsSamples(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "run_00.jsonl", `{"instance_id": "i1", "model_name_or_path": "m", "model_patch": "p1"}`)
	b := writeFile(t, dir, "run_01.json", `[{"instance_id": "i1", "model_patch": "p2"}]`)
	// One prediction alone, as a single JSON object.
	c := writeFile(t, dir, "run_02.json", `{"instance_id": "i1", "model_name_or_path": "x/y", "model_patch": "p3"}`)
	got, err := LoadPredictions([]string{a, b, c})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id, model string
		sample    int
	}{{"0/m", "m", 0}, {"1/run_01", "run_01", 1}, {"2/x/y", "x/y", 2}}
	if len(got["i1"]) != len(want) {
		t.Fatalf("i1 = %+v", got["i1"])
	}
	for i, w := range want {
		if c := got["i1"][i]; c.ID != w.id || c.Model != w.model || c.Sample != w.sample {
			t.Errorf("candidate %d = %+v, want %+v", i, c, w)
		}
	}
}

func TestLoadPredictionsRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, file, body string
		// want holds substrings of the error: the file, line, entry, field.
		want []string
	}{
		{"missing patch", "p.jsonl", `{"instance_id": "i"}`, []string{"p.jsonl:1", `"model_patch"`, "missing"}},
		{"missing id", "p.jsonl", `{"model_patch": ""}`, []string{"p.jsonl:1", `"instance_id"`, "missing"}},
		{"patch not a string", "p.jsonl", `{"instance_id": "i", "model_patch": 3}`, []string{"p.jsonl:1", `"model_patch"`, "number"}},
		{"score out of range", "p.jsonl", `{"instance_id": "i", "model_patch": "", "verifier_score": 2}`, []string{`"verifier_score"`, "outside"}},
		{"duplicate", "p.jsonl", "{\"instance_id\": \"i\", \"model_patch\": \"\"}\n{\"instance_id\": \"i\", \"model_patch\": \"\"}", []string{"p.jsonl:2", "line 1"}},
		{"truncated", "p.jsonl", "{\"instance_id\": \"i\", \"model_patch\": \"\"}\n{\"instance_id\": ", []string{"p.jsonl:2"}},
		{"list entry", "p.json", "[\n  {\"instance_id\": \"a\", \"model_patch\": \"\"},\n  {\"instance_id\": \"b\"}\n]", []string{"p.json:3", "entry [1]", `"model_patch"`, "missing"}},
		{"list entry type", "p.json", "[\n  {\"instance_id\": \"a\",\n   \"model_patch\": [\"x\"]}\n]", []string{"p.json:3", "entry [0]", `"model_patch"`, "array"}},
		{"list duplicate", "p.json", `[{"instance_id": "a", "model_patch": ""}, {"instance_id": "a", "model_patch": ""}]`, []string{"entry [1]", "entry [0]"}},
		{"list syntax", "p.json", "[\n{\"instance_id\": \"a\", \"model_patch\": \"\"},\n{\"instance_id\" \"b\"}]", []string{"p.json:3", "entry [1]", "not valid JSON"}},
		{"list trailing", "p.json", `[{"instance_id": "a", "model_patch": ""}] [1]`, []string{"p.json", "more than one JSON value"}},
		{"dict missing patch", "preds.json", "{\n  \"a\": {\"instance_id\": \"a\", \"model_patch\": \"\"},\n  \"b\": {\"instance_id\": \"b\", \"model_name_or_path\": \"m\"}\n}", []string{"preds.json:3", `entry "b"`, `"model_patch"`, "missing"}},
		{"dict key differs", "preds.json", `{"a": {"instance_id": "b", "model_patch": ""}}`, []string{`entry "a"`, `"instance_id"`, "differs from the key"}},
		{"dict without id", "preds.json", `{"a": {"model_name_or_path": "m", "model_patch": ""}}`, []string{`entry "a"`, `"instance_id"`, "missing"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), tc.file, tc.body)
			_, err := LoadPredictions([]string{p})
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v is not an InputError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestWritePredictions writes what the SWE-bench harness's loader reads: a
// JSON list of objects for .json, one object a line for .jsonl, each with
// exactly instance_id, model_name_or_path and model_patch; and bestpatch
// reads them back.
func TestWritePredictions(t *testing.T) {
	preds := []Prediction{
		{InstanceID: "a__b-1", Model: "bestpatch", Patch: "diff --git a/x b/x\n<&>\n"},
		{InstanceID: "a__b-2", Model: "bestpatch", Patch: ""},
	}
	for _, name := range []string{"out.jsonl", "out.json"} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "sub", name)
			if err := WritePredictions(p, preds); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var objs []map[string]any
			if strings.HasSuffix(name, ".json") {
				if err := json.Unmarshal(data, &objs); err != nil {
					t.Fatalf("a .json predictions file must be one JSON list: %v", err)
				}
			} else {
				lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
				for _, l := range lines {
					var o map[string]any
					if err := json.Unmarshal([]byte(l), &o); err != nil {
						t.Fatalf("line %q: %v", l, err)
					}
					objs = append(objs, o)
				}
			}
			if len(objs) != len(preds) {
				t.Fatalf("%d predictions written, want %d", len(objs), len(preds))
			}
			for i, o := range objs {
				want := map[string]any{"instance_id": preds[i].InstanceID, "model_name_or_path": preds[i].Model, "model_patch": preds[i].Patch}
				if len(o) != 3 || o["instance_id"] != want["instance_id"] || o["model_name_or_path"] != want["model_name_or_path"] || o["model_patch"] != want["model_patch"] {
					t.Errorf("prediction %d = %v, want %v", i, o, want)
				}
			}
			back, err := LoadPredictions([]string{p})
			if err != nil {
				t.Fatal(err)
			}
			if back["a__b-1"][0].Patch != preds[0].Patch {
				t.Errorf("patch read back = %q", back["a__b-1"][0].Patch)
			}
		})
	}
	err := WritePredictions(filepath.Join(t.TempDir(), "out.txt"), preds)
	if err == nil || !strings.Contains(err.Error(), ".jsonl") {
		t.Errorf("WritePredictions(out.txt) = %v, want an error naming the extensions the harness reads", err)
	}
}
