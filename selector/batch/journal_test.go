package batch

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

func TestJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out", "selected.journal.jsonl")
	log := slog.New(slog.DiscardHandler)
	j, err := openJournal(path, log)
	if err != nil {
		t.Fatal(err)
	}
	job := selector.Job{Task: selector.Task{ID: "a__b-1", TestCommand: "go test"}, Candidates: []scoring.Candidate{{ID: "0/m", Patch: "p"}}}
	fp := fingerprint(job)
	rep := selector.Report{Task: "a__b-1", Verdict: scoring.Verdict{Chosen: "0/m", Policy: "auto", Basis: scoring.Basis{Execution: scoring.EvidenceFull}}}
	if err := j.append("a__b-1", fp, rep); err != nil {
		t.Fatal(err)
	}
	j.Close()

	// A crash mid-write leaves a torn last line: it is skipped, and the
	// next entry still lands on a line of its own.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"instance_id": "c__d-1", "fingerprint": "ab`)
	f.Close()
	j, err = openJournal(path, log)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := j.finished("a__b-1", fp); !ok || got.Verdict.Chosen != "0/m" {
		t.Fatalf("journaled instance not found: %v %+v", ok, got)
	}
	if _, ok := j.finished("c__d-1", "ab"); ok {
		t.Error("the torn line was read as an entry")
	}
	// A changed job (other candidates) is not the journaled one.
	changed := job
	changed.Candidates = []scoring.Candidate{{ID: "0/m", Patch: "p2"}}
	if _, ok := j.finished("a__b-1", fingerprint(changed)); ok {
		t.Error("a changed job matched the journaled verdict")
	}
	if err := j.append("e__f-1", fp, rep); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j, err = openJournal(path, log)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if _, ok := j.finished("e__f-1", fp); !ok {
		t.Error("the entry written after a torn line was lost")
	}
	j.Close()

	// An entry of an older bestpatch, whose verdict does not say what it
	// rests on (it journaled choices made without any evidence), is selected
	// again.
	old := rep
	old.Verdict.Basis = scoring.Basis{}
	j, err = openJournal(path, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.append("g__h-1", fp, old); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j, err = openJournal(path, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := j.finished("g__h-1", fp); ok {
		t.Error("a journaled verdict without a basis was trusted")
	}

	// No journal path: nothing is remembered, nothing is written.
	none, err := openJournal("", log)
	if err != nil {
		t.Fatal(err)
	}
	if err := none.append("a__b-1", fp, rep); err != nil {
		t.Fatal(err)
	}
	if _, ok := none.finished("a__b-1", fp); ok {
		t.Error("an empty journal remembered an instance")
	}
}

func TestJobID(t *testing.T) {
	fp := strings.Repeat("0123456789abcdef", 4)
	for in, want := range map[string]string{
		"django__django-11099":   "django__django-11099-0123456789abcdef",
		"org/repo.name#1":        "org_repo_name_1-0123456789abcdef",
		strings.Repeat("x", 130): strings.Repeat("x", 100) + "-0123456789abcdef",
	} {
		if got := jobID(in, fp); got != want {
			t.Errorf("jobID(%q) = %q, want %q", in, got, want)
		}
	}
}
