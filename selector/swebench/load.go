package swebench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxLine bounds one JSONL line (a row with its problem statement).
const maxLine = 64 << 20

// parquetMagic opens and ends every Parquet file.
var parquetMagic = []byte("PAR1")

// Load reads a dataset file: Parquet (the format the datasets are published
// in, told by its magic bytes), a JSON list of rows, or JSONL (one row a
// line). Unknown columns are ignored; every row needs instance_id, repo and
// version. ids, when not empty, keeps only those instances, in the file's
// order; an ID the file does not hold is an error.
func Load(path string, ids []string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read dataset: %w", err)
	}
	defer f.Close()
	head := make([]byte, len(parquetMagic))
	n, _ := io.ReadFull(f, head)
	var rows []Row
	if n == len(head) && bytes.Equal(head, parquetMagic) {
		rows, err = readParquet(path, f)
	} else {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("read dataset %s: %w", path, err)
		}
		rows, err = readJSON(path, f)
	}
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("dataset %s holds no row", path)
	}
	return subset(path, rows, ids)
}

// readJSON reads a JSON list of rows or JSONL.
func readJSON(path string, r io.Reader) ([]Row, error) {
	br := bufio.NewReader(r)
	first, err := firstByte(br)
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read dataset %s: %w", path, err)
	}
	if first == '[' {
		var list []json.RawMessage
		if err := json.NewDecoder(br).Decode(&list); err != nil {
			return nil, fmt.Errorf("dataset %s: not a valid JSON list of rows: %w", path, err)
		}
		rows := make([]Row, 0, len(list))
		for i, raw := range list {
			row, err := decodeRow(raw)
			if err != nil {
				return nil, fmt.Errorf("dataset %s: row [%d]: %w", path, i, err)
			}
			rows = append(rows, row)
		}
		return rows, nil
	}
	var rows []Row
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 0, 1<<20), maxLine)
	line := 0
	for sc.Scan() {
		line++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		row, err := decodeRow(raw)
		if err != nil {
			return nil, fmt.Errorf("dataset %s:%d: %w", path, line, err)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("dataset %s:%d: %w (a line may hold at most %d MiB)", path, line+1, err, maxLine>>20)
	}
	return rows, nil
}

// firstByte peeks at the first byte that is not white space.
func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		if !strings.ContainsRune(" \t\r\n", rune(b)) {
			return b, br.UnreadByte()
		}
	}
}

func decodeRow(raw []byte) (Row, error) {
	var row Row
	if err := json.Unmarshal(raw, &row); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return Row{}, fmt.Errorf("field %q has a %s value, want %s", te.Field, te.Value, te.Type)
		}
		return Row{}, fmt.Errorf("not a JSON object in the SWE-bench schema: %w", err)
	}
	return row, row.Validate()
}

// Validate reports a row that misses a field the derivation needs.
func (r Row) Validate() error {
	var missing []string
	for _, f := range []struct{ name, value string }{
		{"instance_id", r.InstanceID}, {"repo", r.Repo}, {"version", r.Version},
	} {
		if strings.TrimSpace(f.value) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		id := r.InstanceID
		if id == "" {
			id = "(no instance_id)"
		}
		return fmt.Errorf("row %s misses %s: a SWE-bench row needs instance_id, repo and version", id, strings.Join(missing, ", "))
	}
	return nil
}

// subset keeps the rows whose IDs are in ids (all when ids is empty), in the
// file's order, and refuses duplicate rows and unknown IDs.
func subset(path string, rows []Row, ids []string) ([]Row, error) {
	seen := map[string]bool{}
	for _, r := range rows {
		if seen[r.InstanceID] {
			return nil, fmt.Errorf("dataset %s holds instance %s twice", path, r.InstanceID)
		}
		seen[r.InstanceID] = true
	}
	if len(ids) == 0 {
		return rows, nil
	}
	want := map[string]bool{}
	var unknown []string
	for _, id := range ids {
		if !seen[id] {
			unknown = append(unknown, id)
		}
		want[id] = true
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("dataset %s has no instance %s: check --instance-ids", path, strings.Join(unknown, ", "))
	}
	var out []Row
	for _, r := range rows {
		if want[r.InstanceID] {
			out = append(out, r)
		}
	}
	return out, nil
}
