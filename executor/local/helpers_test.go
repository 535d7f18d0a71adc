package local

import (
	"log/slog"
	"os"
	"testing"

	"github.com/bestpatch/bestpatch/executor"
)

// newTestLocal returns a Local whose temporary directories live in a
// directory of the test, and checks at the end that they were all removed.
func newTestLocal(t *testing.T) (*Executor, string) {
	t.Helper()
	tmp := t.TempDir()
	l := New(Config{Logger: slog.New(slog.NewTextHandler(t.Output(), nil)), TempDir: tmp})
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		left, _ := os.ReadDir(tmp)
		for _, e := range left {
			t.Errorf("temporary directory left behind: %s", e.Name())
		}
	})
	return l, tmp
}

// outcomes maps case IDs to outcome names, for comparisons.
func outcomes(cases []executor.Case) map[string]string {
	m := map[string]string{}
	for _, c := range cases {
		m[c.ID] = c.Outcome.String()
	}
	return m
}
