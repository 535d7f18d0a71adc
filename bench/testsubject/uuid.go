package testsubject

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/bestpatch/bestpatch/scoring"
)

// Subject is a selection task on a real module: a git repository at the
// buggy base commit, candidates of known correctness and generated tests.
type Subject struct {
	// Repo is the git repository; HEAD is the base commit.
	Repo string
	// Command runs the visible tests.
	Command    string
	Candidates []scoring.Candidate
	// Tests are generated test patches by ID.
	Tests map[string]string
	// Correct holds the IDs of the candidates that fix the bug and break nothing.
	Correct map[string]bool
}

// UUID module, version and the injected bug: Parse stops checking the fourth
// hyphen, so "xxxxxxxx-xxxx-xxxx-xxxxXxxxxxxxxxxxx" parses. The upstream test
// that catches it (TestUUID) is hidden by renaming it.
const (
	uuidModule  = "github.com/google/uuid"
	uuidVersion = "v1.6.0"
	uuidGood    = "if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {\n\t\treturn uuid, errors.New(\"invalid UUID format\")\n\t}\n\tfor i, x := range [16]int{"
	uuidBuggy   = "if s[8] != '-' || s[13] != '-' || s[18] != '-' {\n\t\treturn uuid, errors.New(\"invalid UUID format\")\n\t}\n\tfor i, x := range [16]int{"
)

// UUID builds the uuid subject under dir (which must exist and be empty).
//
// Candidates: "fix" (the exact fix), "twin" (the fix, written without gofmt's
// spacing), "fix-regress" (the fix plus a broken Variant.String),
// "wrong" (a plausible wrong check at the same site), "noapply" (a patch written
// against another version: neither its context nor the line it removes is
// in the file, so even patch --fuzz fails), "empty". Generated tests: "repro" (fails on
// base, passes with the fix), "passing" (passes on base), "broken" (does not
// compile).
func UUID(ctx context.Context, dir string) (*Subject, error) {
	src, err := Download(ctx, uuidModule, uuidVersion)
	if err != nil {
		return nil, err
	}
	repo := filepath.Join(dir, "uuid")
	steps := []func() error{
		func() error { return CopyTree(src, repo) },
		func() error { _, err := Git(repo, "init", "-q", "-b", "main"); return err },
		func() error { return Commit(repo, "upstream "+uuidVersion) },
		func() error { return Edit(repo, "uuid.go", uuidGood, uuidBuggy) },
		func() error {
			return Edit(repo, "uuid_test.go", "func TestUUID(t *testing.T) {", "func hiddenTestUUID(t *testing.T) {")
		},
		func() error { return Commit(repo, "base: bug injected, catching test hidden") },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("build the uuid subject: %w", err)
		}
	}
	edit := func(file, old, new string) func(string) error {
		return func(d string) error { return Edit(d, file, old, new) }
	}
	both := func(fs ...func(string) error) func(string) error {
		return func(d string) error {
			for _, f := range fs {
				if err := f(d); err != nil {
					return err
				}
			}
			return nil
		}
	}
	fix := edit("uuid.go", uuidBuggy, uuidGood)
	edits := map[string]func(string) error{
		"fix":         fix,
		"twin":        edit("uuid.go", uuidBuggy, "if s[8]!='-' || s[13]!='-' || s[18]!='-' || s[23]!='-' {\n\t\treturn uuid, errors.New(\"invalid UUID format\")\n\t}\n\tfor i, x := range [16]int{"),
		"fix-regress": both(fix, edit("uuid.go", `return "Microsoft"`, `return "MS"`)),
		"wrong":       edit("uuid.go", uuidBuggy, "if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] == '+' {\n\t\treturn uuid, errors.New(\"invalid UUID format\")\n\t}\n\tfor i, x := range [16]int{"),
	}
	s := &Subject{
		Repo:    repo,
		Command: "go test -json -count=1 ./...",
		Tests:   map[string]string{},
		Correct: map[string]bool{"fix": true, "twin": true},
	}
	for _, id := range []string{"fix", "twin", "fix-regress", "wrong"} {
		patch, err := Diff(repo, edits[id])
		if err != nil {
			return nil, fmt.Errorf("build the uuid subject: candidate %s: %w", id, err)
		}
		s.Candidates = append(s.Candidates, scoring.Candidate{ID: id, Patch: patch, Model: "subject/" + id})
	}
	noapply := `diff --git a/uuid.go b/uuid.go
--- a/uuid.go
+++ b/uuid.go
@@ -97,7 +97,7 @@ func Parse(s string) (UUID, error) {
 	}
 	// this context line is not in the file
 	// it must be of the form  xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx
-	if s[8] != '-' || s[13] != '-' {
+	if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
 		return uuid, errors.New("invalid UUID format")
 	}
 	for i, x := range [16]int{
`
	s.Candidates = append(s.Candidates,
		scoring.Candidate{ID: "noapply", Patch: noapply, Model: "subject/noapply"},
		scoring.Candidate{ID: "empty", Patch: "", Model: "subject/empty"})

	tests := map[string]string{
		"repro": `package uuid

import "testing"

func TestReproFourthHyphen(t *testing.T) {
	for _, in := range []string{
		"f47ac10b-58cc-0372-8567x0e02b2c3d479",
		"{f47ac10b-58cc-0372-8567x0e02b2c3d479}",
		"urn:uuid:f47ac10b-58cc-0372-8567x0e02b2c3d479",
	} {
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) succeeded; want an error: the fourth hyphen is missing", in)
		}
	}
}
`,
		"passing": `package uuid

import "testing"

func TestGenParseValid(t *testing.T) {
	if _, err := Parse("f47ac10b-58cc-0372-8567-0e02b2c3d479"); err != nil {
		t.Fatal(err)
	}
}
`,
		"broken": `package uuid

import "testing"

func TestGenBroken(t *testing.T) {
	if ParseStrict("f47ac10b-58cc-0372-8567-0e02b2c3d479") == nil {
		t.Fatal("no error")
	}
}
`,
	}
	for id, body := range tests {
		patch, err := Diff(repo, NewFile("gen_"+id+"_test.go", body))
		if err != nil {
			return nil, fmt.Errorf("build the uuid subject: test %s: %w", id, err)
		}
		s.Tests[id] = patch
	}
	return s, nil
}
