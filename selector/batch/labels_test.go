package batch_test

import (
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector/batch"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadLabels(t *testing.T) {
	path := writeFile(t, "labels.jsonl", `{"instance_id": "a__b-1", "model_name_or_path": "m1", "resolved": true}
{"instance_id": "a__b-1", "model_name_or_path": "m2", "resolved": false, "extra": "ignored"}

{"instance_id": "a__b-2", "model_name_or_path": "same", "sample": 1, "resolved": true}
{"instance_id": "a__b-2", "model_name_or_path": "same", "sample": 0, "resolved": false}
{"instance_id": "c__d-1", "candidates": [{"system": "s1", "patch": "diff A\n", "resolved": true}, {"system": "s2", "patch": "diff B", "resolved": false}, {"system": "s3", "patch": "diff B", "resolved": true}]}
`)
	l, err := batch.LoadLabels(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name            string
		instance        string
		c               scoring.Candidate
		resolved, known bool
	}{
		{"by model", "a__b-1", scoring.Candidate{Model: "m1"}, true, true},
		{"by model, unresolved", "a__b-1", scoring.Candidate{Model: "m2"}, false, true},
		{"unknown model", "a__b-1", scoring.Candidate{Model: "m3"}, false, false},
		{"other instance", "x__y-1", scoring.Candidate{Model: "m1"}, false, false},
		{"same model told apart by sample 1", "a__b-2", scoring.Candidate{Model: "same", Sample: 1}, true, true},
		{"same model told apart by sample 0", "a__b-2", scoring.Candidate{Model: "same", Sample: 0}, false, true},
		{"by patch, trailing space ignored", "c__d-1", scoring.Candidate{Model: "whatever", Patch: "diff A"}, true, true},
		{"by patch, the system decides a conflict", "c__d-1", scoring.Candidate{Model: "s3", Patch: "diff B\n"}, true, true},
		{"by patch, conflict without the system: first label", "c__d-1", scoring.Candidate{Model: "zz", Patch: "diff B"}, false, true},
		{"unknown patch", "c__d-1", scoring.Candidate{Model: "s1", Patch: "diff C"}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, k := l.Resolved(tc.instance, tc.c)
			if r != tc.resolved || k != tc.known {
				t.Errorf("Resolved = %v, %v; want %v, %v", r, k, tc.resolved, tc.known)
			}
		})
	}
	if !l.Has("c__d-1") || l.Has("x__y-1") {
		t.Error("Has is wrong")
	}
}

func TestLoadLabelsGzip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "labels.jsonl.gz")
	f, _ := os.Create(p)
	gz := gzip.NewWriter(f)
	gz.Write([]byte(`{"instance_id": "a__b-1", "model_name_or_path": "m1", "resolved": true}` + "\n"))
	gz.Close()
	f.Close()
	l, err := batch.LoadLabels(p)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := l.Resolved("a__b-1", scoring.Candidate{Model: "m1"}); !r || !ok {
		t.Error("label lost")
	}
}

func TestLoadLabelsErrors(t *testing.T) {
	for _, tc := range []struct {
		name, content, want string
	}{
		{"not JSON", "{\"instance_id\": \"a\", \"model_name_or_path\": \"m\", \"resolved\": true}\nnot json\n", "labels.jsonl:2: not a label line"},
		{"no instance", `{"model_name_or_path": "m", "resolved": true}`, `labels.jsonl:1: field "instance_id": missing`},
		{"no model", `{"instance_id": "a", "resolved": true}`, `field "model_name_or_path": missing`},
		{"no resolved", `{"instance_id": "a", "model_name_or_path": "m"}`, `field "resolved": missing`},
		{"candidate without resolved", `{"instance_id": "a", "candidates": [{"patch": "x"}]}`, `field "candidates[0].resolved"`},
		{"empty", "\n\n", "no labels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := batch.LoadLabels(writeFile(t, "labels.jsonl", tc.content))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := batch.LoadLabels(filepath.Join(t.TempDir(), "none.jsonl")); err == nil || !strings.Contains(err.Error(), "none.jsonl") {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestRepoOf(t *testing.T) {
	for in, want := range map[string]string{
		"django__django-11099":             "django__django",
		"scikit-learn__scikit-learn-25570": "scikit-learn__scikit-learn",
		"plain":                            "plain",
		"-1":                               "-1",
	} {
		if got := batch.RepoOf(in); got != want {
			t.Errorf("RepoOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestJournalPath(t *testing.T) {
	for in, want := range map[string]string{
		"out/selected.jsonl": "out/selected.journal.jsonl",
		"selected.json":      "selected.journal.jsonl",
		"selected":           "selected.journal.jsonl",
	} {
		if got := batch.JournalPath(in); got != want {
			t.Errorf("JournalPath(%q) = %q, want %q", in, got, want)
		}
	}
}
