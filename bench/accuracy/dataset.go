// Package evaluation measures selection policies on labelled candidate sets
// (SWE-bench instances with candidate patches of known correctness). It
// reads the data files; the scoring it measures stays free of I/O.
package accuracy

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// Instance is one task with its labelled candidates.
type Instance struct {
	ID         string      `json:"instance_id"`
	Candidates []Candidate `json:"candidates"`
}

// Candidate is one patch with its label. System is kept for the "best single
// system" baseline only: no policy sees it.
type Candidate struct {
	System   string `json:"system"`
	Patch    string `json:"patch"`
	Resolved bool   `json:"resolved"`
}

// Split names the half an instance belongs to: "dev" when the hex SHA-256 of
// its ID begins with 0-7, "test" otherwise. Tuning uses dev only.
func Split(instanceID string) string {
	sum := sha256.Sum256([]byte(instanceID))
	if hex.EncodeToString(sum[:1])[0] < '8' {
		return SplitDev
	}
	return SplitTest
}

// The two splits.
const (
	SplitDev  = "dev"
	SplitTest = "test"
)

// LoadFile reads a candidates file: JSON lines, gzip-compressed when the
// name ends in .gz.
func LoadFile(path string) ([]Instance, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open candidate set: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("read candidate set %s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	insts, err := Load(r)
	if err != nil {
		return nil, fmt.Errorf("read candidate set %s: %w", path, err)
	}
	return insts, nil
}

// Load reads JSON lines, one instance per line.
func Load(r io.Reader) ([]Instance, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	var out []Instance
	line := 0
	for sc.Scan() {
		line++
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var inst Instance
		if err := json.Unmarshal(sc.Bytes(), &inst); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if inst.ID == "" {
			return nil, fmt.Errorf("line %d: no instance_id", line)
		}
		out = append(out, inst)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
