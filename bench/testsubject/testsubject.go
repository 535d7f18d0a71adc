// Package testsubject builds selection tasks from real Go modules, for the
// benchmark generator (bench) and as the fixtures of tests that need one:
// a module from the module proxy, committed into a scratch git repository,
// with a known bug injected and candidates of known correctness.
package testsubject

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Download fetches a module through the Go module proxy and returns its
// directory in the module cache (read-only).
func Download(ctx context.Context, module, version string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", module+"@"+version)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GO111MODULE=on")
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	_ = json.Unmarshal(out, &info)
	if err != nil || info.Dir == "" {
		return "", fmt.Errorf("download %s@%s from the module proxy: %v %s", module, version, err, info.Error)
	}
	return info.Dir, nil
}

// Git runs git in dir and returns its stdout.
func Git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=bestpatch", "GIT_AUTHOR_EMAIL=test@bestpatch.invalid",
		"GIT_COMMITTER_NAME=bestpatch", "GIT_COMMITTER_EMAIL=test@bestpatch.invalid",
		"GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s in %s: %w: %s", strings.Join(args, " "), dir, err, stderr.String())
	}
	return string(out), nil
}

// CopyTree copies a directory tree, making files writable (the module cache
// is read-only).
func CopyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// Commit stages everything in dir and commits it.
func Commit(dir, message string) error {
	if _, err := Git(dir, "add", "-A"); err != nil {
		return err
	}
	_, err := Git(dir, "commit", "-q", "--allow-empty", "-m", message)
	return err
}

// Edit replaces old with new in file (exactly once) under dir.
func Edit(dir, file, old, new string) error {
	p := filepath.Join(dir, file)
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if n := strings.Count(string(b), old); n != 1 {
		return fmt.Errorf("edit %s: %q occurs %d times, want 1", file, old, n)
	}
	return os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644)
}

// Diff returns the patch that edits make to a clean copy of repo: it clones
// repo, applies edit, and diffs.
func Diff(repo string, edit func(dir string) error) (string, error) {
	dir, err := os.MkdirTemp("", "bestpatch-diff-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	if _, err := Git(dir, "clone", "-q", "--shared", repo, "."); err != nil {
		return "", err
	}
	if err := edit(dir); err != nil {
		return "", err
	}
	if _, err := Git(dir, "add", "-A"); err != nil {
		return "", err
	}
	return Git(dir, "diff", "--cached")
}

// NewFile is an edit that writes a new file.
func NewFile(file, content string) func(dir string) error {
	return func(dir string) error {
		p := filepath.Join(dir, file)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, []byte(content), 0o644)
	}
}

// Repo writes files (slash-separated paths to contents) into dir and
// commits them as the first commit of a new git repository.
func Repo(dir string, files map[string]string) error {
	for name, body := range files {
		if err := NewFile(filepath.FromSlash(name), body)(dir); err != nil {
			return err
		}
	}
	if _, err := Git(dir, "init", "-q"); err != nil {
		return err
	}
	return Commit(dir, "base")
}

// PythonWithPytest returns a Python interpreter that runs pytest: python3
// from PATH if it has pytest, else Debian's /usr/bin/python3.
func PythonWithPytest() (string, error) {
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-m", "pytest", "--version").Run() == nil {
			return py, nil
		}
	}
	return "", fmt.Errorf("pytest is not available (python3 -m pytest fails): apt-get install -y python3-pytest")
}
