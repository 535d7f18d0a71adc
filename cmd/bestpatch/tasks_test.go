package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/selector"
)

const datasetRows = `{"repo":"django/django","instance_id":"django__django-11099","base_commit":"d26b2424437dabeeca94d7900b37d2df4410da0c","patch":"gold","test_patch":"hidden","problem_statement":"UsernameValidator allows trailing newline in usernames","hints_text":"","created_at":"2019-03-20T03:46:18Z","version":"3.0","FAIL_TO_PASS":"[\"test_ascii_validator (auth_tests.test_validators.UsernameValidatorsTests)\"]","PASS_TO_PASS":"[\"test_help_text (auth_tests.test_validators.UserAttributeSimilarityValidatorTest)\"]","environment_setup_commit":"419a78300f7cd27611196e1e464d50fd0385ff27"}
{"repo":"sympy/sympy","instance_id":"sympy__sympy-20590","base_commit":"cffd4e0f86fefd4802349a9f9b19ed70934ea354","patch":"gold","test_patch":"hidden","problem_statement":"Symbol instances have __dict__ since 1.7?","hints_text":"","created_at":"2020-12-12T18:18:38Z","version":"1.7","FAIL_TO_PASS":"[\"test_immutable\"]","PASS_TO_PASS":"[\"test__aresame\"]","environment_setup_commit":"cffd4e0f86fefd4802349a9f9b19ed70934ea354"}
`

// TestTasksCommand prints the derived tasks and loads them back as a task
// file, the way a user edits them.
func TestTasksCommand(t *testing.T) {
	dir := t.TempDir()
	dataset := filepath.Join(dir, "swe.jsonl")
	if err := os.WriteFile(dataset, []byte(datasetRows), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, "tasks", "--dataset", dataset)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "tasks.jsonl")
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	tasks, err := selector.LoadTasks(file)
	if err != nil {
		t.Fatalf("the printed tasks do not load as a task file: %v\n%s", err, out)
	}
	if len(tasks) != 2 || tasks[0].Env.Image != "swebench/sweb.eval.x86_64.django_1776_django-11099:latest" ||
		tasks[1].Env.Image != "swebench/sweb.eval.x86_64.sympy_1776_sympy-20590:latest" {
		t.Fatalf("tasks %+v", tasks)
	}
	if tasks[0].TestArgs == nil || tasks[0].TestArgs.Related != "django" {
		t.Errorf("related is the default: %+v", tasks[0].TestArgs)
	}
	if strings.Contains(out, "hidden") || strings.Contains(out, "test_ascii_validator") {
		t.Errorf("the tasks hold the answer: %s", out)
	}

	out, _, err = run(t, "tasks", "--dataset", dataset, "--instance-ids", "django__django-11099",
		"--regression-tests", "p2p", "--dataset-namespace", "none", "--dataset-tag", "v1")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"image":"sweb.eval.x86_64.django__django-11099:v1"`, `"original":["auth_tests.test_validators"]`,
		`"pass_to_pass":{"tests":["test_help_text (auth_tests.test_validators.UserAttributeSimilarityValidatorTest)"],"log_parser":"parse_log_django"}`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	// The p2p task loads back as a task file, its list with it.
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if tasks, err := selector.LoadTasks(file); err != nil || len(tasks) != 1 || tasks[0].PassToPass == nil || len(tasks[0].PassToPass.Tests) != 1 {
		t.Errorf("the p2p task does not load back with its pass_to_pass: %+v, %v\n%s", tasks, err, out)
	}
	if strings.Contains(out, "sympy") {
		t.Errorf("--instance-ids kept another instance:\n%s", out)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"tasks"}, "needs --dataset"},
		{[]string{"tasks", "--dataset", dataset, "--regression-tests", "most"}, "--regression-tests"},
		{[]string{"tasks", "--dataset", dataset, "--instance-ids", "nope__nope-1"}, "nope__nope-1"},
		{[]string{"select", "--dataset", dataset, "--task", file, "--preds", file}, "either --dataset or --task"},
	} {
		if _, _, err := run(t, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}
