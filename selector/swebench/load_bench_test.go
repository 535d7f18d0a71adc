package swebench

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// BenchmarkLoadParquet reads a dataset the size of SWE-bench's test split
// (2,294 rows, patches and problem statements of a few KiB each).
func BenchmarkLoadParquet(b *testing.B) {
	rows := make([]parquetRow, 2294)
	for i := range rows {
		rows[i] = parquetRow{
			Repo: "django/django", InstanceID: fmt.Sprintf("django__django-%d", 10000+i), Version: "3.0",
			BaseCommit: strings.Repeat("a", 40), Patch: strings.Repeat("+ patch line\n", 300),
			TestPatch: strings.Repeat("+ test line\n", 300), ProblemStatement: strings.Repeat("issue text ", 400),
			FailToPass: `["test_a (x.tests.T)"]`, PassToPass: `["test_b (x.tests.T)", "test_c (x.tests.T)"]`,
		}
	}
	path := filepath.Join(b.TempDir(), "test.parquet")
	if err := parquet.WriteFile(path, rows); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		got, err := Load(path, nil)
		if err != nil || len(got) != len(rows) {
			b.Fatal(len(got), err)
		}
	}
}
