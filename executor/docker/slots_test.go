package docker

import (
	"context"
	"testing"

	"github.com/bestpatch/bestpatch/executor"
)

// Runs take their share of the engine's CPUs and memory, give it back, and
// a run bigger than the engine takes all of it instead of waiting forever.
func TestSlots(t *testing.T) {
	s := newSlots(2, (memoryReserveMB+4096)<<20, 0, 0) // 2 CPUs, 4096 MiB for runs
	ctx := context.Background()
	small := executor.Limits{CPUs: 1, MemoryMB: 1024}

	r1, err := s.acquire(ctx, small)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := s.acquire(ctx, small)
	if err != nil {
		t.Fatal(err)
	}
	if s.cpu.TryAcquire(1) {
		t.Error("two 1-CPU runs on 2 CPUs left CPU capacity free")
	}
	if !s.mem.TryAcquire(2048) {
		t.Error("two 1024 MiB runs of 4096 MiB took more than their memory")
	}
	s.mem.Release(2048)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.acquire(cancelled, small); err == nil {
		t.Error("acquire on a full engine with a cancelled context succeeded")
	}
	r1()
	r2()

	huge, err := s.acquire(ctx, executor.Limits{CPUs: 64, MemoryMB: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if s.cpu.TryAcquire(1) || s.mem.TryAcquire(1) {
		t.Error("a run bigger than the engine did not take all of it")
	}
	huge()
	if !s.cpu.TryAcquire(2000) || !s.mem.TryAcquire(4096) {
		t.Error("released shares did not come back")
	}
}

// MaxRuns caps the number of runs whatever their size.
func TestSlotsMaxRuns(t *testing.T) {
	s := newSlots(64, 1<<40, 1, 0)
	release, err := s.acquire(context.Background(), executor.Limits{CPUs: 1, MemoryMB: 1})
	if err != nil {
		t.Fatal(err)
	}
	if s.runs.TryAcquire(1) {
		t.Error("MaxRuns 1 let a second run in")
	}
	release()
	if !s.runs.TryAcquire(1) {
		t.Error("the run's slot did not come back")
	}
}
