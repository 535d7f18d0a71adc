package bench

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestBareEnviron checks that bare runs write Python's bytecode as the
// image's runs do, whatever the host's shell says, and keep the rest.
func TestBareEnviron(t *testing.T) {
	got := bareEnviron([]string{"PATH=/bin", "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1"})
	if want := []string{"PATH=/bin", "PYTHONUNBUFFERED=1"}; !slices.Equal(got, want) {
		t.Errorf("bareEnviron: %q, want %q", got, want)
	}
}

// TestBareRunnerPinned checks that a pinned bare runner's commands see one
// CPU, the one a container run gets by default, and an unpinned one's all.
func TestBareRunnerPinned(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: pinned and unpinned are the same")
	}
	for _, tc := range []struct {
		cpu  int
		want string
	}{
		{cpu: -1, want: "all"},
		{cpu: 0, want: "1"},
		{cpu: runtime.NumCPU() - 1, want: "1"},
	} {
		b := &bareRunner{cpu: tc.cpu}
		out, err := b.command(context.Background(), "nproc").Output()
		if err != nil {
			t.Fatalf("cpu %d: nproc: %v", tc.cpu, err)
		}
		got := strings.TrimSpace(string(out))
		if tc.want == "all" {
			if got == "1" {
				t.Errorf("unpinned: nproc %s, want every CPU", got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("cpu %d: nproc %s, want %s", tc.cpu, got, tc.want)
		}
	}
}
