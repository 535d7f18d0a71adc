package docker

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/moby/moby/client"
)

func TestStorageAdvice(t *testing.T) {
	for _, tc := range []struct {
		driver string
		slow   bool
		says   string // a part of the advice
	}{
		{"fuse-overlayfs", true, "FUSE daemon"},
		{"vfs", true, "full copy of its image"},
		{"overlay2", false, ""},
		{"overlayfs", false, ""}, // the containerd image store's name for it
		{"btrfs", false, ""},
		{"zfs", false, ""},
		{"", false, ""},
	} {
		t.Run(tc.driver, func(t *testing.T) {
			got := storageAdvice(tc.driver)
			if (got != "") != tc.slow {
				t.Fatalf("storageAdvice(%q) = %q, want slow %v", tc.driver, got, tc.slow)
			}
			if tc.slow && (!strings.Contains(got, tc.says) || !strings.Contains(got, `"storage-driver": "overlay2"`)) {
				t.Errorf("storageAdvice(%q) = %q: says neither %q nor the fix", tc.driver, got, tc.says)
			}
		})
	}
}

// The backend reads the engine's storage driver when it is made, and warns
// then, once, when the driver is one that slows every run.
func TestDockerStorageDriver(t *testing.T) {
	var logs bytes.Buffer
	d := newTestDocker(t, Config{Log: slog.New(slog.NewTextHandler(&logs, nil))})
	info, err := d.cli.Info(t.Context(), client.InfoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.StorageDriver(); got == "" || got != info.Info.Driver {
		t.Errorf("StorageDriver() = %q, the engine says %q", got, info.Info.Driver)
	}
	warned := strings.Count(logs.String(), "the engine's storage driver makes runs slower")
	if want := storageAdvice(info.Info.Driver) != ""; (warned == 1) != want || warned > 1 {
		t.Errorf("driver %s: warned %d times, want a warning: %v; logs:\n%s", info.Info.Driver, warned, want, logs.String())
	}
	t.Logf("engine storage driver %s, warned %d", info.Info.Driver, warned)
}
