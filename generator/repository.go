package generator

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// Repository reads the task's repository at the base commit. The selector
// implements it for its environments; GitCheckout is the one for a local
// clone.
type Repository interface {
	// ReadFile returns a file's content at the base commit.
	ReadFile(ctx context.Context, path string) ([]byte, error)
	// ListFiles returns every tracked file's path at the base commit.
	ListFiles(ctx context.Context) ([]string, error)
}

// GitCheckout is a Repository backed by a local git clone, read with git
// itself so that the work tree's state does not matter.
type GitCheckout struct {
	// Dir is the clone.
	Dir string
	// Commit is the base commit; empty means HEAD.
	Commit string
}

func (g GitCheckout) rev() string {
	if g.Commit == "" {
		return "HEAD"
	}
	return g.Commit
}

// ReadFile runs git show COMMIT:PATH.
func (g GitCheckout) ReadFile(ctx context.Context, path string) ([]byte, error) {
	return g.git(ctx, "show", g.rev()+":"+path)
}

// ListFiles runs git ls-tree -r on the commit.
func (g GitCheckout) ListFiles(ctx context.Context) ([]string, error) {
	out, err := g.git(ctx, "ls-tree", "-r", "-z", "--name-only", g.rev())
	if err != nil {
		return nil, err
	}
	var files []string
	for f := range strings.SplitSeq(string(out), "\x00") {
		if f != "" {
			files = append(files, f)
		}
	}
	return files, nil
}

func (g GitCheckout) git(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", g.Dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s in %s: %w: %s", strings.Join(args, " "), g.Dir, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
