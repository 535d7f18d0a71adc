package batch_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/selector/batch"
)

func TestLines(t *testing.T) {
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	now := start
	var out bytes.Buffer
	l := batch.Lines{W: &out, Now: func() time.Time { return now }}
	s := batch.Snapshot{Instances: 6, ToRun: 4, Resumed: 1, Failed: 1, Start: start}
	l.Start(s)
	s.Runs, s.Cached = 5, 2
	l.Update(s, "") // counts only: not written
	now = start.Add(30 * time.Second)
	s.Done = 1
	l.Update(s, "a__b-1: chose 0/m (30s)")
	now = start.Add(time.Minute)
	s.Done, s.Failed = 2, 2
	l.Update(s, "c__d-1: FAILED: no repository")
	l.Finish(s)
	want := `batch: 6 instances: 4 to run, 1 finished before (journal), 1 cannot run
[1/4] a__b-1: chose 0/m (30s) · runs 5 (2 cached) · failed 1 · about 1m30s left
[2/4] c__d-1: FAILED: no repository · runs 5 (2 cached) · failed 2 · about 1m0s left
batch: 2 of 4 instances run in 1m0s · runs 5 (2 cached) · failed 2
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestSnapshotLeft(t *testing.T) {
	start := time.Unix(0, 0)
	s := batch.Snapshot{ToRun: 10, Start: start}
	if _, ok := s.Left(start.Add(time.Minute)); ok {
		t.Error("an estimate before any instance finished")
	}
	s.Done = 4
	if d, ok := s.Left(start.Add(2 * time.Minute)); !ok || d != 3*time.Minute {
		t.Errorf("Left = %v, %v; want 3m (30s per instance, 6 to go)", d, ok)
	}
}

func TestBar(t *testing.T) {
	var out bytes.Buffer
	b := batch.NewBar(&out)
	s := batch.Snapshot{Instances: 3, ToRun: 2, Start: time.Now()}
	b.Start(s)
	s.Runs = 3
	b.Update(s, "")
	s.Done = 1
	b.Update(s, "a__b-1: chose 0/m (1s)")
	b.Write([]byte("level=WARN msg=hello\n"))
	s.Done, s.Runs = 2, 6
	b.Update(s, "c__d-1: chose 1/m (1s)")
	b.Finish(s)
	got := out.String()
	for _, want := range []string{"runs 6 (0 cached) · failed 0", "2/2", "a__b-1: chose 0/m", "c__d-1: chose 1/m", "level=WARN msg=hello"} {
		if !strings.Contains(got, want) {
			t.Errorf("bar output lacks %q:\n%q", want, got)
		}
	}
}
