package batch

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/internal/testsubject"
	"github.com/bestpatch/bestpatch/selector"
)

func TestScratchXX(t *testing.T) {
	s, err := testsubject.XXHash(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l := executor.NewLocal(executor.LocalConfig{Logger: slog.New(slog.DiscardHandler), TempDir: t.TempDir()})
	defer l.Close()
	job := selector.Job{ID: "x", Candidates: s.Candidates, Task: selector.Task{ID: "cespare__xxhash-1", Env: executor.Environment{Repo: s.Repo}, TestCommand: s.Command, Format: executor.GoJSON, Timeout: selector.Duration(5 * time.Minute)}}
	for _, id := range []string{"repro", "passing"} {
		job.Task.GeneratedTests = append(job.Task.GeneratedTests, selector.GeneratedTest{ID: id, Patch: s.Tests[id]})
	}
	start := time.Now()
	rep, err := (&selector.Selector{Exec: l, Pool: selector.NewPool(2)}).Select(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(time.Since(start), len(rep.Runs))
	rep.WriteText(testWriter{t}, nil)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
