package generator

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor"
)

func TestGatherContextOnARealModule(t *testing.T) {
	_, c := uuidTask(t)
	if len(c.Code) != 1 || c.Code[0].Path != "uuid.go" || !strings.Contains(c.Code[0].Content, "func Parse(s string)") {
		t.Errorf("code = %v, want uuid.go with Parse", paths(c.Code))
	}
	if c.Example == nil || c.Example.Path != "uuid_test.go" {
		t.Errorf("example = %v, want uuid_test.go", c.Example)
	}
	if c.GoModules["."] != "github.com/google/uuid" {
		t.Errorf("modules = %v", c.GoModules)
	}
	if !c.exists("uuid.go") || c.exists("uuid_repro_test.go") {
		t.Errorf("exists is wrong")
	}
}

func paths(fs []SourceFile) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Path)
	}
	return out
}

func TestExcerpt(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= 1000; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	got := excerpt(b.String(), [][2]int64{{500, 502}, {560, 560}})
	for _, want := range []string{"line 1\n", "line 30\n", "[... lines 31-459 omitted ...]", "line 460\n", "line 600\n", "[... lines 601-1000 omitted ...]"} {
		if !strings.Contains(got, want) {
			t.Errorf("excerpt lacks %q", want)
		}
	}
	if strings.Contains(got, "line 31\n") || strings.Contains(got, "line 601\n") {
		t.Errorf("excerpt keeps too much:\n%s", got)
	}
	short := "a\nb\n"
	if excerpt(short, [][2]int64{{1, 1}}) != short {
		t.Errorf("a short file is not shown whole")
	}
}

func TestGoPackage(t *testing.T) {
	c := Context{GoModules: map[string]string{".": "example.com/m", "tools": "example.com/m/tools"}}
	for dir, want := range map[string]string{
		".":            "example.com/m",
		"pkg/a":        "example.com/m/pkg/a",
		"tools":        "example.com/m/tools",
		"tools/gen/x":  "example.com/m/tools/gen/x",
		"toolsmith/xx": "example.com/m/toolsmith/xx",
	} {
		if got := c.goPackage(dir); got != want {
			t.Errorf("goPackage(%q) = %q, want %q", dir, got, want)
		}
	}
	if got := (Context{}).goPackage("pkg"); got != "" {
		t.Errorf("without modules: %q, want empty", got)
	}
}

func TestPickExample(t *testing.T) {
	files := []string{"a/b/c.py", "tests/test_c.py", "tests/test_other.py", "a/b/test_near.py", "tests/testdata/test_c.py"}
	if got := pickExample(Python, files, []string{"a/b/c.py"}, nil); got != "tests/test_c.py" {
		t.Errorf("by name: %q", got)
	}
	if got := pickExample(Python, files, []string{"a/b/d.py"}, nil); got != "a/b/test_near.py" {
		t.Errorf("by directory: %q", got)
	}
	if got := pickExample(Python, files, []string{"a/b/c.py"}, []string{"tests/test_other.py"}); got != "tests/test_other.py" {
		t.Errorf("touched by a candidate: %q", got)
	}
}

func TestLanguageOf(t *testing.T) {
	for _, tc := range []struct {
		format  executor.Format
		touched []string
		want    Language
		err     bool
	}{
		{executor.GoJSON, nil, Go, false},
		{executor.Pytest, nil, Python, false},
		{executor.JUnit, []string{"a.py", "b.py", "c.go"}, Python, false},
		{executor.JUnit, []string{"a.go"}, Go, false},
		{executor.JUnit, []string{"a.rs"}, "", true},
	} {
		got, err := LanguageOf(tc.format, tc.touched)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("LanguageOf(%s, %v) = %q, %v", tc.format, tc.touched, got, err)
		}
	}
}
