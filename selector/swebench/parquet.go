package swebench

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/parquet-go/parquet-go"
)

// parquetColumns are the columns read from a Parquet dataset, by the Row
// field they fill. Every other column (test_patch, patch, FAIL_TO_PASS, ...)
// is never decoded.
var parquetColumns = []struct {
	name     string
	required bool
	set      func(r *Row, v string)
	list     func(r *Row, v []string)
}{
	{name: "instance_id", required: true, set: func(r *Row, v string) { r.InstanceID = v }},
	{name: "repo", required: true, set: func(r *Row, v string) { r.Repo = v }},
	{name: "version", required: true, set: func(r *Row, v string) { r.Version = v }},
	{name: "base_commit", set: func(r *Row, v string) { r.BaseCommit = v }},
	{name: "problem_statement", set: func(r *Row, v string) { r.ProblemStatement = v }},
	{name: "PASS_TO_PASS", list: func(r *Row, v []string) { r.PassToPass = v }},
}

// readParquet reads the rows of a Parquet dataset. String columns are read
// as they are; PASS_TO_PASS may be a string holding a JSON list (as the
// published files have it) or a list of strings.
func readParquet(path string, f *os.File) ([]Row, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read dataset %s: %w", path, err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("dataset %s is not a readable Parquet file: %w", path, err)
	}
	// Map each wanted column to the index of its leaf column; a list's leaf
	// is below the column's group (name.list.element).
	leaf := map[int]int{} // leaf column index -> parquetColumns index
	isList := map[int]bool{}
	found := map[string]bool{}
	for i, p := range pf.Schema().Columns() {
		for j, c := range parquetColumns {
			if p[0] == c.name {
				leaf[i] = j
				isList[i] = len(p) > 1
				found[c.name] = true
			}
		}
	}
	for _, c := range parquetColumns {
		if c.required && !found[c.name] {
			return nil, fmt.Errorf("dataset %s has no column %q: is it a SWE-bench dataset?", path, c.name)
		}
	}
	reader := parquet.NewReader(pf)
	defer reader.Close()
	var rows []Row
	buf := make([]parquet.Row, 64)
	for {
		n, err := reader.ReadRows(buf)
		for _, pr := range buf[:n] {
			var row Row
			var rowErr error
			pr.Range(func(col int, values []parquet.Value) bool {
				j, ok := leaf[col]
				if !ok {
					return true
				}
				c := parquetColumns[j]
				switch {
				case isList[col]:
					var list []string
					for _, v := range values {
						if !v.IsNull() {
							list = append(list, string(v.ByteArray()))
						}
					}
					c.list(&row, list)
				case c.list != nil:
					var l TestList
					if len(values) > 0 && !values[0].IsNull() {
						if rowErr = l.parseString(string(values[0].ByteArray())); rowErr != nil {
							rowErr = fmt.Errorf("column %s: %w", c.name, rowErr)
							return false
						}
					}
					c.list(&row, l)
				default:
					if len(values) > 0 && !values[0].IsNull() {
						c.set(&row, string(values[0].ByteArray()))
					}
				}
				return true
			})
			if rowErr == nil {
				rowErr = row.Validate()
			}
			if rowErr != nil {
				return nil, fmt.Errorf("dataset %s: row %d: %w", path, len(rows), rowErr)
			}
			rows = append(rows, row)
		}
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("dataset %s: read Parquet rows: %w", path, err)
		}
	}
}
