package testsubject

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/bestpatch/bestpatch/scoring"
)

// xxhash module, version and the injected bug: Digest.Write keeps a write
// that exactly fills the 32-byte block buffer as pending instead of
// consuming it, so streaming writes that land on a block boundary hash
// wrong (the one-shot Sum64 is right). The upstream test that catches it
// (TestAll) is hidden by renaming it.
const (
	xxhashModule  = "github.com/cespare/xxhash/v2"
	xxhashVersion = "v2.3.0"
	xxhashGood    = "if d.n+n < 32 {\n\t\t// This new data doesn't even fill the current block."
	xxhashBuggy   = "if d.n+n <= 32 {\n\t\t// This new data doesn't even fill the current block."
	// xxhashCommand skips TestInlining: it shells out to the compiler and
	// asserts inlining decisions that differ between Go releases.
	xxhashCommand = "go test -json -count=1 -skip TestInlining ."
)

// XXHash builds the xxhash subject under dir (which must exist and be empty).
//
// Candidates: "fix" (the exact fix), "twin" (the fix, written without gofmt's
// spacing), "alt" (a correct fix written differently: 32 > d.n+n),
// "wrong" (masks the pending length in Sum64 instead: the streaming hash
// stays wrong), "fix-regress" (the fix plus a Reset that forgets the length
// written, which TestReset catches),
// "empty". Generated tests: "repro" (a streaming hash in 1-byte writes
// against the one-shot Sum64: fails on base, passes with a fix), "passing"
// (the hash of the empty input: passes on base).
func XXHash(ctx context.Context, dir string) (*Subject, error) {
	src, err := Download(ctx, xxhashModule, xxhashVersion)
	if err != nil {
		return nil, err
	}
	repo := filepath.Join(dir, "xxhash")
	steps := []func() error{
		func() error { return CopyTree(src, repo) },
		func() error { _, err := Git(repo, "init", "-q", "-b", "main"); return err },
		func() error { return Commit(repo, "upstream "+xxhashVersion) },
		func() error { return Edit(repo, "xxhash.go", xxhashGood, xxhashBuggy) },
		func() error {
			return Edit(repo, "xxhash_test.go", "func TestAll(t *testing.T) {", "func hiddenTestAll(t *testing.T) {")
		},
		func() error { return Commit(repo, "base: bug injected, catching test hidden") },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("build the xxhash subject: %w", err)
		}
	}
	edit := func(old, new string) func(string) error {
		return func(d string) error { return Edit(d, "xxhash.go", old, new) }
	}
	fix := edit(xxhashBuggy, xxhashGood)
	edits := map[string]func(string) error{
		"fix":  fix,
		"twin": edit(xxhashBuggy, "if d.n + n < 32 {\n\t\t// This new data doesn't even fill the current block."),
		"alt":  edit(xxhashBuggy, "if 32 > d.n+n {\n\t\t// This new data doesn't even fill the current block."),
		"wrong": edit("b := d.mem[:d.n&(len(d.mem)-1)]\n\tfor ; len(b) >= 8; b = b[8:] {",
			"b := d.mem[:d.n]\n\tfor ; len(b) >= 8; b = b[8:] {"),
		"fix-regress": func(d string) error {
			if err := fix(d); err != nil {
				return err
			}
			return Edit(d, "xxhash.go", "\td.total = 0\n\td.n = 0\n", "\td.n = 0\n")
		},
	}
	s := &Subject{
		Repo:    repo,
		Command: xxhashCommand,
		Tests:   map[string]string{},
		Correct: map[string]bool{"fix": true, "twin": true, "alt": true},
	}
	for _, id := range []string{"fix", "twin", "alt", "wrong", "fix-regress"} {
		patch, err := Diff(repo, edits[id])
		if err != nil {
			return nil, fmt.Errorf("build the xxhash subject: candidate %s: %w", id, err)
		}
		s.Candidates = append(s.Candidates, scoring.Candidate{ID: id, Patch: patch, Model: "subject/" + id})
	}
	s.Candidates = append(s.Candidates, scoring.Candidate{ID: "empty", Patch: "", Model: "subject/empty"})

	tests := map[string]string{
		"repro": `package xxhash

import "testing"

func TestReproStreamingBlockBoundary(t *testing.T) {
	const in = "Call me Ishmael. Some years ago--never mind how long precisely-"
	d := New()
	for i := 0; i < len(in); i++ {
		d.Write([]byte{in[i]})
	}
	if got, want := d.Sum64(), Sum64String(in); got != want {
		t.Fatalf("streaming 1-byte writes hash to 0x%x, one-shot Sum64 to 0x%x", got, want)
	}
}
`,
		"passing": `package xxhash

import "testing"

func TestGenEmptyInput(t *testing.T) {
	if got := New().Sum64(); got != 0xef46db3751d8e999 {
		t.Fatalf("hash of nothing = 0x%x", got)
	}
}
`,
	}
	for id, body := range tests {
		patch, err := Diff(repo, NewFile("gen_"+id+"_test.go", body))
		if err != nil {
			return nil, fmt.Errorf("build the xxhash subject: test %s: %w", id, err)
		}
		s.Tests[id] = patch
	}
	return s, nil
}
