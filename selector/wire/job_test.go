package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/selector"
)

const sweRow = `{"repo":"django/django","instance_id":"django__django-11099","base_commit":"d26b242","version":"3.0","problem_statement":"UsernameValidator allows trailing newline","test_patch":"hidden","FAIL_TO_PASS":"[\"x\"]","PASS_TO_PASS":"[\"test_help_text (auth_tests.test_validators.UserAttributeSimilarityValidatorTest)\"]"}`

func decodeJob(t *testing.T, body string) Job {
	t.Helper()
	var s Job
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	dec.DisallowUnknownFields() // as the daemon decodes it
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return s
}

func TestJobWithARow(t *testing.T) {
	s := decodeJob(t, `{"id":"j1","swebench":{"row":`+sweRow+`,"tag":"v2","regression_tests":"p2p"},"candidates":[{"id":"a","patch":"diff"}]}`)
	job, err := s.ToSelector()
	if err != nil {
		t.Fatal(err)
	}
	if job.ID != "j1" || len(job.Candidates) != 1 || job.Task.ID != "django__django-11099" ||
		job.Task.Env.Image != "swebench/sweb.eval.x86_64.django_1776_django-11099:v2" ||
		job.Task.TestArgs == nil || strings.Join(job.Task.TestArgs.Original, " ") != "auth_tests.test_validators" {
		t.Fatalf("job %+v", job)
	}
	// A plain job passes through.
	plain := decodeJob(t, `{"task":{"instance_id":"x","environment":{"repo":"/r"},"test_command":"t","test_format":"pytest"},"candidates":[]}`)
	if j, err := plain.ToSelector(); err != nil || j.Task.ID != "x" {
		t.Errorf("plain job: %+v %v", j, err)
	}
	for body, want := range map[string]string{
		`{"task":{"instance_id":"x"},"swebench":{"row":` + sweRow + `}}`:           `both "task" and "swebench"`,
		`{"swebench":{"row":{"instance_id":"a__b-1","repo":"a/b","version":"1"}}}`: `"a/b" is not in the SWE-bench spec table`,
		`{"swebench":{"row":` + sweRow + `,"regression_tests":"most"}}`:            "regression tests",
		`{"swebench":{"row":` + sweRow + `,"arch":"sparc"}}`:                       "architecture",
		`{"swebench":{"row":"a string"}}`:                                          "not a SWE-bench dataset row",
		`{"candidates":[]}`:                                                        `no "task"`,
	} {
		_, err := decodeJob(t, body).ToSelector()
		if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, selector.ErrInvalidJob) {
			t.Errorf("%s: %v, want an invalid job saying %q", body, err, want)
		}
	}
}
