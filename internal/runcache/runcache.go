// Package runcache stores run results on disk by content key, so that a
// finished run is never run again: not after an interrupted batch, not by a
// second daemon on the same host, not when a job is resubmitted.
package runcache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bestpatch/bestpatch/executor"
)

// Dir is a cache in a directory: one JSON file per key, sharded by the key's
// first two characters. Writes go to a temporary file and are renamed into
// place, so readers never see a partial result and concurrent writers of the
// same key (same content, same result) are harmless.
type Dir struct {
	path string
}

// Open returns the cache in dir, creating the directory if needed.
func Open(dir string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("result cache %s: %w (choose another directory with --cache-dir)", dir, err)
	}
	return &Dir{path: dir}, nil
}

// Path is the cache's directory.
func (d *Dir) Path() string { return d.path }

func (d *Dir) file(key string) (string, error) {
	if len(key) < 8 || strings.ContainsAny(key, `/\.`) {
		return "", fmt.Errorf("result cache: malformed key %q", key)
	}
	return filepath.Join(d.path, key[:2], key+".json"), nil
}

// Get returns the result stored under key, if any.
func (d *Dir) Get(_ context.Context, key string) (executor.Result, bool, error) {
	var res executor.Result
	f, err := d.file(key)
	if err != nil {
		return res, false, err
	}
	b, err := os.ReadFile(f)
	if errors.Is(err, os.ErrNotExist) {
		return res, false, nil
	}
	if err != nil {
		return res, false, fmt.Errorf("result cache: %w", err)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		// A damaged entry is a miss: the run is redone and the entry rewritten.
		return res, false, nil
	}
	return res, true, nil
}

// Put stores a result under key.
func (d *Dir) Put(_ context.Context, key string, res executor.Result) error {
	f, err := d.file(key)
	if err != nil {
		return err
	}
	b, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("result cache: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		return fmt.Errorf("result cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(f), ".put-*")
	if err != nil {
		return fmt.Errorf("result cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("result cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("result cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), f); err != nil {
		return fmt.Errorf("result cache: %w", err)
	}
	return nil
}
