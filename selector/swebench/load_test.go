package swebench

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

func writeFile(t *testing.T, name, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var wantRows = []Row{
	{InstanceID: "django__django-11099", Repo: "django/django", Version: "3.0", BaseCommit: "abc", ProblemStatement: "p1",
		PassToPass: TestList{"test_a (auth_tests.test_validators.UserAttributeSimilarityValidatorTest)"}},
	{InstanceID: "sympy__sympy-20590", Repo: "sympy/sympy", Version: "1.7", BaseCommit: "def", ProblemStatement: "p2",
		PassToPass: TestList{"test_immutable"}},
}

func TestLoadJSONForms(t *testing.T) {
	jsonl := `{"instance_id":"django__django-11099","repo":"django/django","version":"3.0","base_commit":"abc","problem_statement":"p1","test_patch":"diff","FAIL_TO_PASS":"[\"x\"]","PASS_TO_PASS":"[\"test_a (auth_tests.test_validators.UserAttributeSimilarityValidatorTest)\"]","difficulty":"<15 min fix"}

{"instance_id":"sympy__sympy-20590","repo":"sympy/sympy","version":"1.7","base_commit":"def","problem_statement":"p2","PASS_TO_PASS":["test_immutable"],"FAIL_TO_PASS":["test_x"]}
`
	var objs []string
	for _, l := range strings.Split(jsonl, "\n") {
		if l != "" {
			objs = append(objs, l)
		}
	}
	list := "[\n" + strings.Join(objs, ",\n") + "\n]\n"
	for name, data := range map[string]string{"rows.jsonl": jsonl, "rows.json": list} {
		rows, err := Load(writeFile(t, name, data), nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(rows, wantRows) {
			t.Errorf("%s: %+v\nwant %+v", name, rows, wantRows)
		}
	}
}

// parquetRow is a row as the published Parquet files hold it: every column
// a string, the test lists JSON-encoded.
type parquetRow struct {
	Repo                   string `parquet:"repo"`
	InstanceID             string `parquet:"instance_id"`
	BaseCommit             string `parquet:"base_commit"`
	Patch                  string `parquet:"patch"`
	TestPatch              string `parquet:"test_patch"`
	ProblemStatement       string `parquet:"problem_statement"`
	HintsText              string `parquet:"hints_text"`
	CreatedAt              string `parquet:"created_at"`
	Version                string `parquet:"version"`
	FailToPass             string `parquet:"FAIL_TO_PASS"`
	PassToPass             string `parquet:"PASS_TO_PASS"`
	EnvironmentSetupCommit string `parquet:"environment_setup_commit"`
}

// parquetListRow holds the test lists as real lists (as some derived
// datasets do).
type parquetListRow struct {
	InstanceID       string   `parquet:"instance_id"`
	Repo             string   `parquet:"repo"`
	Version          string   `parquet:"version"`
	BaseCommit       string   `parquet:"base_commit"`
	ProblemStatement string   `parquet:"problem_statement"`
	FailToPass       []string `parquet:"FAIL_TO_PASS,list"`
	PassToPass       []string `parquet:"PASS_TO_PASS,list"`
}

func writeParquet[T any](t *testing.T, rows []T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "test-00000-of-00001.parquet")
	if err := parquet.WriteFile(p, rows); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadParquet(t *testing.T) {
	strRows := []parquetRow{
		{Repo: "django/django", InstanceID: "django__django-11099", BaseCommit: "abc", Patch: "gold", TestPatch: "hidden",
			ProblemStatement: "p1", Version: "3.0", FailToPass: `["x"]`,
			PassToPass: `["test_a (auth_tests.test_validators.UserAttributeSimilarityValidatorTest)"]`},
		{Repo: "sympy/sympy", InstanceID: "sympy__sympy-20590", BaseCommit: "def", ProblemStatement: "p2", Version: "1.7",
			FailToPass: `["test_x"]`, PassToPass: `["test_immutable"]`},
	}
	listRows := []parquetListRow{
		{InstanceID: "django__django-11099", Repo: "django/django", Version: "3.0", BaseCommit: "abc", ProblemStatement: "p1",
			FailToPass: []string{"x"}, PassToPass: []string{"test_a (auth_tests.test_validators.UserAttributeSimilarityValidatorTest)"}},
		{InstanceID: "sympy__sympy-20590", Repo: "sympy/sympy", Version: "1.7", BaseCommit: "def", ProblemStatement: "p2",
			FailToPass: []string{"test_x"}, PassToPass: []string{"test_immutable"}},
	}
	for name, path := range map[string]string{"string columns": writeParquet(t, strRows), "list columns": writeParquet(t, listRows)} {
		rows, err := Load(path, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(rows, wantRows) {
			t.Errorf("%s: %+v\nwant %+v", name, rows, wantRows)
		}
		sub, err := Load(path, []string{"sympy__sympy-20590"})
		if err != nil || len(sub) != 1 || sub[0].InstanceID != "sympy__sympy-20590" {
			t.Errorf("%s: subset: %+v, %v", name, sub, err)
		}
	}
	// A Parquet file without the columns of a dataset is refused.
	type other struct {
		Name string `parquet:"name"`
	}
	if _, err := Load(writeParquet(t, []other{{"x"}}), nil); err == nil || !strings.Contains(err.Error(), `no column "instance_id"`) {
		t.Errorf("not a dataset: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := map[string]struct{ data, want string }{
		"missing version":  {`{"instance_id":"a__b-1","repo":"a/b"}`, "misses version"},
		"bad list":         {`{"instance_id":"a__b-1","repo":"a/b","version":"1","PASS_TO_PASS":"not json"}`, "JSON list"},
		"bad json":         {`{"instance_id":`, "rows.jsonl:1"},
		"duplicate":        {"{\"instance_id\":\"a__b-1\",\"repo\":\"a/b\",\"version\":\"1\"}\n{\"instance_id\":\"a__b-1\",\"repo\":\"a/b\",\"version\":\"1\"}", "twice"},
		"empty":            {"\n", "no row"},
		"wrong field type": {`{"instance_id":5,"repo":"a/b","version":"1"}`, `field "instance_id"`},
	}
	for name, c := range cases {
		_, err := Load(writeFile(t, "rows.jsonl", c.data), nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	_, err := Load(writeFile(t, "rows.jsonl", `{"instance_id":"a__b-1","repo":"a/b","version":"1"}`), []string{"a__b-2"})
	if err == nil || !strings.Contains(err.Error(), "a__b-2") {
		t.Errorf("unknown instance id: %v", err)
	}
}
