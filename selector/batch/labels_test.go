package batch_test

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
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
	l, err := batch.LoadLabels(batch.Runs{}, path)
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
	l, err := batch.LoadLabels(batch.Runs{}, p)
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
			_, err := batch.LoadLabels(batch.Runs{}, writeFile(t, "labels.jsonl", tc.content))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := batch.LoadLabels(batch.Runs{}, filepath.Join(t.TempDir(), "none.jsonl")); err == nil || !strings.Contains(err.Error(), "none.jsonl") {
		t.Errorf("missing file: err = %v", err)
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

// harnessRuns are three predictions files: one of org/agent-x, two of
// agent-y (told apart only by their sample), and one of gpt-4 and gpt-4.1
// in the last.
func harnessRuns() batch.Runs {
	cands := map[string][]scoring.Candidate{}
	for _, id := range []string{"a__b-1", "a__b-2", "a__b-3"} {
		cands[id] = []scoring.Candidate{
			{ID: "0/org/agent-x", Model: "org/agent-x", Sample: 0},
			{ID: "1/agent-y", Model: "agent-y", Sample: 1},
			{ID: "2/agent-y", Model: "agent-y", Sample: 2},
			{ID: "3/gpt-4", Model: "gpt-4", Sample: 3},
			{ID: "3/gpt-4.1", Model: "gpt-4.1", Sample: 3},
		}
	}
	return batch.Runs{Files: []string{"run_00.jsonl", "run_01.jsonl", "run_02.jsonl", "run_03.jsonl"}, Candidates: cands}
}

// runReport is a run report as the harness's make_run_report writes it.
func runReport(resolved, unresolved, errs, empty []string) string {
	b, _ := json.Marshal(map[string]any{
		"total_instances": 3, "submitted_instances": 3, "completed_instances": len(resolved) + len(unresolved),
		"resolved_instances": len(resolved), "unresolved_instances": len(unresolved),
		"empty_patch_instances": len(empty), "error_instances": len(errs),
		"completed_ids": append(append([]string{}, resolved...), unresolved...), "incomplete_ids": []string{},
		"empty_patch_ids": empty, "submitted_ids": []string{"a__b-1", "a__b-2", "a__b-3"},
		"resolved_ids": resolved, "unresolved_ids": unresolved, "error_ids": errs, "schema_version": 2,
	})
	return string(b)
}

// instanceReportJSON is a report.json as the harness's get_eval_report
// writes it.
func instanceReportJSON(id string, resolved bool) string {
	return fmt.Sprintf(`{"%s": {"patch_is_None": false, "patch_exists": true, "patch_successfully_applied": true, "resolved": %v,
  "tests_status": {"FAIL_TO_PASS": {"success": ["t1"], "failure": []}, "PASS_TO_PASS": {"success": [], "failure": []},
  "FAIL_TO_FAIL": {"success": [], "failure": []}, "PASS_TO_FAIL": {"success": [], "failure": []}}}}`, id, resolved)
}

func TestLoadLabelsHarnessForms(t *testing.T) {
	type want struct {
		instance, candidate string
		resolved, known     bool
	}
	for _, tc := range []struct {
		name string
		// files are written under a temporary directory; {dir} in sources
		// is replaced by it.
		files   map[string]string
		sources []string
		want    []want
	}{
		{
			name:    "run report named after its model",
			files:   map[string]string{"org__agent-x.run1.json": runReport([]string{"a__b-1"}, []string{"a__b-2"}, nil, nil)},
			sources: []string{"{dir}/org__agent-x.run1.json"},
			want: []want{
				{"a__b-1", "0/org/agent-x", true, true}, {"a__b-2", "0/org/agent-x", false, true},
				{"a__b-3", "0/org/agent-x", false, false}, {"a__b-1", "1/agent-y", false, false},
			},
		},
		{
			name:    "run report: errors and empty patches are unresolved, as the harness counts them",
			files:   map[string]string{"org__agent-x.r.json": runReport(nil, nil, []string{"a__b-1"}, []string{"a__b-2"})},
			sources: []string{"{dir}/org__agent-x.r.json"},
			want:    []want{{"a__b-1", "0/org/agent-x", false, true}, {"a__b-2", "0/org/agent-x", false, true}, {"a__b-3", "0/org/agent-x", false, false}},
		},
		{
			name:    "run report: the longest model name that fits",
			files:   map[string]string{"gpt-4.1.run.7.json": runReport([]string{"a__b-1"}, nil, nil, nil)},
			sources: []string{"{dir}/gpt-4.1.run.7.json"},
			want:    []want{{"a__b-1", "3/gpt-4.1", true, true}, {"a__b-1", "3/gpt-4", false, false}},
		},
		{
			name: "run reports paired with the predictions files they graded",
			files: map[string]string{
				"y1.json": runReport([]string{"a__b-1"}, []string{"a__b-2"}, nil, nil),
				"y2.json": runReport([]string{"a__b-2"}, []string{"a__b-1"}, nil, nil),
			},
			sources: []string{"run_01.jsonl={dir}/y1.json", "run_02.jsonl={dir}/y2.json"},
			want: []want{
				{"a__b-1", "1/agent-y", true, true}, {"a__b-2", "1/agent-y", false, true},
				{"a__b-1", "2/agent-y", false, true}, {"a__b-2", "2/agent-y", true, true},
				{"a__b-1", "0/org/agent-x", false, false},
			},
		},
		{
			name: "report.json files in the harness's log directory",
			files: map[string]string{
				"logs/run1/org__agent-x/a__b-1/report.json": instanceReportJSON("a__b-1", true),
				"logs/run1/org__agent-x/a__b-2/report.json": instanceReportJSON("a__b-2", false),
				"logs/run1/org__agent-x/a__b-2/run.log":     "not json",
			},
			sources: []string{"{dir}/logs/run1"},
			want:    []want{{"a__b-1", "0/org/agent-x", true, true}, {"a__b-2", "0/org/agent-x", false, true}, {"a__b-3", "0/org/agent-x", false, false}},
		},
		{
			name:    "one report.json where the harness writes it",
			files:   map[string]string{"org__agent-x/a__b-3/report.json": instanceReportJSON("a__b-3", true)},
			sources: []string{"{dir}/org__agent-x/a__b-3/report.json"},
			want:    []want{{"a__b-3", "0/org/agent-x", true, true}},
		},
		{
			name:    "report.json paired, anywhere",
			files:   map[string]string{"r.json": instanceReportJSON("a__b-3", true)},
			sources: []string{"run_02.jsonl={dir}/r.json"},
			want:    []want{{"a__b-3", "2/agent-y", true, true}, {"a__b-3", "1/agent-y", false, false}},
		},
		{
			name: "every form at once",
			files: map[string]string{
				"labels.jsonl":           `{"instance_id": "a__b-1", "model_name_or_path": "gpt-4", "resolved": true}` + "\n",
				"org__agent-x.run1.json": runReport(nil, []string{"a__b-1"}, nil, nil),
				"r.json":                 instanceReportJSON("a__b-1", true),
			},
			sources: []string{"{dir}/labels.jsonl", "{dir}/org__agent-x.run1.json", "run_01.jsonl={dir}/r.json"},
			want:    []want{{"a__b-1", "3/gpt-4", true, true}, {"a__b-1", "0/org/agent-x", false, true}, {"a__b-1", "1/agent-y", true, true}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tc.files {
				p := filepath.Join(dir, name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var sources []string
			for _, s := range tc.sources {
				sources = append(sources, strings.ReplaceAll(s, "{dir}", dir))
			}
			runs := harnessRuns()
			l, err := batch.LoadLabels(runs, sources...)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				c := candidateByID(t, runs, w.instance, w.candidate)
				if r, k := l.Resolved(w.instance, c); r != w.resolved || k != w.known {
					t.Errorf("%s of %s: Resolved = %v, %v; want %v, %v", w.candidate, w.instance, r, k, w.resolved, w.known)
				}
			}
		})
	}
}

func candidateByID(t *testing.T, runs batch.Runs, instance, id string) scoring.Candidate {
	t.Helper()
	for _, c := range runs.Candidates[instance] {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no candidate %s of %s", id, instance)
	return scoring.Candidate{}
}

func TestLoadLabelsHarnessErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   map[string]string
		sources []string
		// want holds substrings of the error.
		want []string
	}{
		{"run report of a model in two files", map[string]string{"agent-y.run1.json": runReport([]string{"a__b-1"}, nil, nil, nil)},
			[]string{"{dir}/agent-y.run1.json"}, []string{"agent-y.run1.json", "run_01.jsonl, run_02.jsonl", "--labels run_01.jsonl={dir}/agent-y.run1.json"}},
		{"run report named after no model", map[string]string{"results.json": runReport([]string{"a__b-1"}, nil, nil, nil)},
			[]string{"{dir}/results.json"}, []string{"results.json", "<model>.<run_id>.json", `"org/agent-x"`, "--labels run_00.jsonl="}},
		{"run report: an id in two lists", map[string]string{"org__agent-x.r.json": runReport([]string{"a__b-1"}, []string{"a__b-1"}, nil, nil)},
			[]string{"{dir}/org__agent-x.r.json"}, []string{`field "unresolved_ids"`, `"a__b-1" is also in resolved_ids`}},
		{"run report: a list of the wrong type", map[string]string{"org__agent-x.r.json": `{"resolved_ids": "a__b-1"}`},
			[]string{"{dir}/org__agent-x.r.json"}, []string{"org__agent-x.r.json", `field "resolved_ids"`, "string"}},
		{"report.json outside the harness's layout", map[string]string{"report.json": instanceReportJSON("a__b-1", true)},
			[]string{"{dir}/report.json"}, []string{"<model>/<instance_id>/report.json", "--labels run_00.jsonl="}},
		{"report.json under a model no predictions file has", map[string]string{"other/a__b-1/report.json": instanceReportJSON("a__b-1", true)},
			[]string{"{dir}/other"}, []string{"report.json", `model "other"`}},
		{"report.json without resolved", map[string]string{"r.json": `{"a__b-1": {"patch_exists": true}}`},
			[]string{"run_00.jsonl={dir}/r.json"}, []string{"r.json", `entry "a__b-1"`, `field "resolved"`, "missing"}},
		{"report.json: resolved of the wrong type", map[string]string{"r.json": `{"a__b-1": {"resolved": "yes"}}`},
			[]string{"run_00.jsonl={dir}/r.json"}, []string{`entry "a__b-1"`, `field "resolved"`, "string"}},
		{"the same candidates graded both ways", map[string]string{"a.json": runReport([]string{"a__b-1"}, nil, nil, nil), "b.json": runReport(nil, []string{"a__b-1"}, nil, nil)},
			[]string{"run_01.jsonl={dir}/a.json", "run_01.jsonl={dir}/b.json"}, []string{"b.json", `entry "a__b-1"`, "a.json"}},
		{"a directory without report.json", map[string]string{"logs/x.log": "x"},
			[]string{"{dir}/logs"}, []string{"no report.json"}},
		{"label lines paired", map[string]string{"labels.jsonl": `{"instance_id": "a__b-1", "model_name_or_path": "gpt-4", "resolved": true}`},
			[]string{"run_00.jsonl={dir}/labels.jsonl"}, []string{"only a harness report is paired"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tc.files {
				p := filepath.Join(dir, name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var sources []string
			for _, s := range tc.sources {
				sources = append(sources, strings.ReplaceAll(s, "{dir}", dir))
			}
			_, err := batch.LoadLabels(harnessRuns(), sources...)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if w = strings.ReplaceAll(w, "{dir}", dir); !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
