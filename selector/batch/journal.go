package batch

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/bestpatch/bestpatch/selector"
)

// JournalPath is where the journal of a batch writing its selections to out
// lives: next to it, "selected.jsonl" -> "selected.journal.jsonl".
func JournalPath(out string) string {
	base := strings.TrimSuffix(strings.TrimSuffix(out, ".jsonl"), ".json")
	return base + ".journal.jsonl"
}

// journal is the file of finished instances: one JSON line per finished
// instance, appended as it finishes, holding its job's fingerprint and its
// report. At start it is read back and every instance whose job has not
// changed since is not selected again.
type journal struct {
	path string
	done map[string]journalEntry

	mu sync.Mutex
	f  *os.File
}

type journalEntry struct {
	Instance    string          `json:"instance_id"`
	Fingerprint string          `json:"fingerprint"`
	Report      selector.Report `json:"report"`
}

// openJournal reads the journal at path (if any) and opens it for
// appending. An empty path is a journal that remembers nothing.
func openJournal(path string, log *slog.Logger) (*journal, error) {
	j := &journal{path: path, done: map[string]journalEntry{}}
	if path == "" {
		return j, nil
	}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read the batch journal: %w", err)
	}
	r := bufio.NewReader(bytes.NewReader(data))
	for line := 1; ; line++ {
		raw, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(raw)) > 0 {
			var e journalEntry
			if jerr := json.Unmarshal(raw, &e); jerr != nil || e.Instance == "" {
				// A line torn by a crash mid-write: that instance runs again.
				log.Warn("skipping a damaged journal line; its instance will run again", "journal", path, "line", line)
			} else {
				j.done[e.Instance] = e
			}
		}
		if err == io.EOF {
			break
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("batch journal: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open the batch journal for writing: %w (choose another --out)", err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		// Keep a torn last line from swallowing the next entry.
		if _, err := f.Write([]byte{'\n'}); err != nil {
			f.Close()
			return nil, fmt.Errorf("batch journal: %w", err)
		}
	}
	j.f = f
	return j, nil
}

// finished returns the journaled report of an instance whose job has the
// given fingerprint.
func (j *journal) finished(instance, fp string) (selector.Report, bool) {
	e, ok := j.done[instance]
	if !ok || fp == "" || e.Fingerprint != fp {
		return selector.Report{}, false
	}
	if v := e.Report.Verdict; v.Basis.Execution == "" || v.Abstained != "" {
		// Journaled before verdicts said what they rest on (an older
		// bestpatch journaled choices made without any evidence): select
		// again; its runs come from the result cache.
		return selector.Report{}, false
	}
	return e.Report, true
}

// append records a finished instance, in one write so that a crash leaves
// at most the last line torn.
func (j *journal) append(instance, fp string, rep selector.Report) error {
	if j.f == nil {
		return nil
	}
	b, err := json.Marshal(journalEntry{Instance: instance, Fingerprint: fp, Report: rep})
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	_, err = j.f.Write(append(b, '\n'))
	return err
}

func (j *journal) Close() error {
	if j.f == nil {
		return nil
	}
	return j.f.Close()
}

// fingerprint identifies a job's content: the task, the candidates and the
// options. A journaled verdict is reused only for the same fingerprint, so
// changed predictions or a changed task are selected again.
func fingerprint(job selector.Job) string {
	b, err := json.Marshal(struct {
		Task       selector.Task    `json:"task"`
		Candidates any              `json:"candidates"`
		Options    selector.Options `json:"options"`
	}{job.Task, job.Candidates, job.Options})
	if err != nil {
		// A Job is plain data; Marshal cannot fail on it. An empty
		// fingerprint matches nothing, so the job simply runs again.
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
