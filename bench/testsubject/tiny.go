package testsubject

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/bestpatch/bestpatch/scoring"
)

// TinyFlakedEnv names the environment variable that Tiny's TestEnvironment
// reads: the test fails once the file it names exists, so a test can make
// the environment change between two runs of the same thing.
const TinyFlakedEnv = "TINY_FLAKED"

// TinyCommand runs Tiny's tests.
const TinyCommand = "go test -json -count=1 ./..."

// tinyFiles are the module's files at the base commit: Answer returns 41,
// TestAnswer wants 42.
var tinyFiles = map[string]string{
	"go.mod":    "module example.com/tiny\n\ngo 1.22\n",
	"answer.go": "package tiny\n\nfunc Answer() int { return 41 }\n",
	"answer_test.go": `package tiny

import (
	"os"
	"testing"
)

func TestAnswer(t *testing.T) {
	if Answer() != 42 {
		t.Fatal("wrong answer")
	}
}

func TestEnvironment(t *testing.T) {
	if _, err := os.Stat(os.Getenv("` + TinyFlakedEnv + `")); err == nil {
		t.Fatal("the environment flaked")
	}
}
`,
}

// Tiny builds a two-file Go module under dir (which must exist) without
// downloading anything; it compiles and tests in about a second.
//
// Candidates: "fix" (Answer returns 42), "wrong" (returns 43: TestAnswer
// still fails), "tamper" (returns 43 and rewrites TestAnswer so that it
// passes: the executor restores the test file and flags it), "hang" and
// "hang-long" (Answer sleeps an hour, or two, before it answers: their
// runs time out). The original suite has TestAnswer (fails on base) and
// TestEnvironment (see TinyFlakedEnv).
func Tiny(dir string) (*Subject, error) {
	repo := filepath.Join(dir, "tiny")
	for name, body := range tinyFiles {
		if err := os.MkdirAll(filepath.Join(repo, filepath.Dir(name)), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(repo, name), []byte(body), 0o644); err != nil {
			return nil, err
		}
	}
	if _, err := Git(repo, "init", "-q", "-b", "main"); err != nil {
		return nil, fmt.Errorf("build the tiny subject: %w", err)
	}
	if err := Commit(repo, "tiny module"); err != nil {
		return nil, fmt.Errorf("build the tiny subject: %w", err)
	}
	answer := func(n string) func(string) error {
		return func(d string) error { return Edit(d, "answer.go", "return 41", "return "+n) }
	}
	sleep := func(d string) func(string) error {
		return NewFile("answer.go", "package tiny\n\nimport \"time\"\n\nfunc Answer() int {\n\ttime.Sleep("+d+")\n\treturn 42\n}\n")
	}
	s := &Subject{Repo: repo, Command: TinyCommand, Correct: map[string]bool{"fix": true}}
	for _, c := range []struct {
		id    string
		edits []func(string) error
	}{
		{"fix", []func(string) error{answer("42")}},
		{"wrong", []func(string) error{answer("43")}},
		{"tamper", []func(string) error{answer("43"), func(d string) error {
			return Edit(d, "answer_test.go", "if Answer() != 42 {", "if Answer() == 0 {")
		}}},
		{"hang", []func(string) error{sleep("time.Hour")}},
		{"hang-long", []func(string) error{sleep("2 * time.Hour")}},
	} {
		patch, err := Diff(repo, func(d string) error {
			for _, e := range c.edits {
				if err := e(d); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("build the tiny subject's %s candidate: %w", c.id, err)
		}
		s.Candidates = append(s.Candidates, scoring.Candidate{ID: c.id, Patch: patch})
	}
	return s, nil
}
