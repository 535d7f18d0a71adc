package generator

import (
	"context"
	"errors"
	"strings"
	"testing"
)

const goTestBody = "package uuid\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n"

func TestExtractTestFile(t *testing.T) {
	fence := "```"
	for _, tc := range []struct {
		name, answer string
		lang         Language
		def          string
		path, body   string // want; body "" means only the path is checked
		err          string // want an ErrMalformed mentioning this
	}{
		{name: "path line before the block", lang: Go,
			answer: "Here is the test.\n\nFile: `uuid_repro_test.go`\n" + fence + "go\n" + goTestBody + fence + "\n",
			path:   "uuid_repro_test.go", body: goTestBody},
		{name: "bold path", lang: Go,
			answer: "**pkg/a/x_test.go**\n\n" + fence + "golang\n" + goTestBody + fence,
			path:   "pkg/a/x_test.go"},
		{name: "heading path", lang: Python,
			answer: "### tests/test_issue.py\n" + fence + "python\nimport pytest\n\ndef test_x():\n    assert 1\n" + fence,
			path:   "tests/test_issue.py", body: "import pytest\n\ndef test_x():\n    assert 1\n"},
		{name: "path in the info string", lang: Go,
			answer: fence + "go pkg/x_test.go\n" + goTestBody + fence, path: "pkg/x_test.go"},
		{name: "path after a colon in the info string", lang: Python,
			answer: fence + "python:tests/test_a.py\ndef test_a():\n    pass\n" + fence, path: "tests/test_a.py"},
		{name: "title attribute", lang: Python,
			answer: fence + "python title=\"tests/test_a.py\"\ndef test_a():\n    pass\n" + fence, path: "tests/test_a.py"},
		{name: "path comment on the first line", lang: Go,
			answer: fence + "go\n// File: x/y_test.go\n" + goTestBody + fence, path: "x/y_test.go"},
		{name: "python path comment", lang: Python,
			answer: fence + "python\n# tests/test_b.py\ndef test_b():\n    pass\n" + fence, path: "tests/test_b.py"},
		{name: "untagged block with a path line", lang: Go,
			answer: "File: a_test.go\n" + fence + "\n" + goTestBody + fence, path: "a_test.go"},
		{name: "tilde fence inside a list item", lang: Go,
			answer: "1. Create `a_test.go`:\n\n   ~~~go\n   package a\n   ~~~\n", path: "a_test.go", body: "package a\n"},
		{name: "a diff that adds the file", lang: Go,
			answer: fence + "diff\ndiff --git a/a_test.go b/a_test.go\nnew file mode 100644\n--- /dev/null\n+++ b/a_test.go\n@@ -0,0 +1,2 @@\n+package a\n+// ok\n" + fence,
			path:   "a_test.go", body: "package a\n// ok\n"},
		{name: "the same file twice: the last wins", lang: Go,
			answer: "File: a_test.go\n" + fence + "go\npackage first\n" + fence + "\nOops, fixed:\n\nFile: a_test.go\n" + fence + "go\npackage second\n" + fence,
			path:   "a_test.go", body: "package second\n"},
		{name: "shell and output blocks are ignored", lang: Go,
			answer: fence + "bash\ngo test ./...\n" + fence + "\nFile: a_test.go\n" + fence + "go\n" + goTestBody + fence + "\n" + fence + "\nFAIL\n" + fence,
			path:   "a_test.go"},
		{name: "a repair without a path keeps the fixed path", lang: Go, def: "a_test.go",
			answer: fence + "go\n" + goTestBody + fence, path: "a_test.go"},
		{name: "./ prefix is cleaned", lang: Go,
			answer: "File: ./pkg/a_test.go\n" + fence + "go\n" + goTestBody + fence, path: "pkg/a_test.go"},

		{name: "no code block", lang: Go, answer: "I think the bug is in Parse.", err: "no fenced code block"},
		{name: "only other languages", lang: Go, answer: fence + "bash\ngo test\n" + fence, err: "no Go code block"},
		{name: "no path", lang: Go, answer: fence + "go\n" + goTestBody + fence, err: "no file path"},
		{name: "not a test file", lang: Go, answer: "File: uuid.go\n" + fence + "go\npackage uuid\n" + fence, err: "not a Go test file"},
		{name: "several files", lang: Go,
			answer: "File: a_test.go\n" + fence + "go\npackage a\n" + fence + "\nFile: b_test.go\n" + fence + "go\npackage a\n" + fence,
			err:    "2 test files"},
		{name: "outside the repository", lang: Go, answer: "File: ../x_test.go\n" + fence + "go\npackage a\n" + fence, err: "not inside the repository"},
		{name: "empty block", lang: Go, answer: "File: a_test.go\n" + fence + "go\n" + fence, err: "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ExtractTestFile(tc.answer, tc.lang, tc.def)
			if tc.err != "" {
				if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want ErrMalformed mentioning %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Path != tc.path {
				t.Errorf("path = %q, want %q", f.Path, tc.path)
			}
			if tc.body != "" && f.Content != tc.body {
				t.Errorf("content = %q, want %q", f.Content, tc.body)
			}
		})
	}
}

func TestAuthorRefusesAnExistingPath(t *testing.T) {
	f := newFakeLLM(t, script(
		reply{content: goAnswer("uuid_test.go", reproBody)},
		reply{content: goAnswer("uuid_new_test.go", reproBody)},
	))
	a := author{model: mustEndpoint(t, testConfig(f)).NewSession(), maxTokens: 100}
	c := Context{Language: Go, Files: []string{"uuid.go", "uuid_test.go"}}
	d := &draft{id: "gen-1", seed: 1, conv: []Message{{Role: RoleUser, Content: "write"}}}
	err := a.write(t.Context(), d, c)
	if !errors.Is(err, errNotRunnable) || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("err = %v, want a repairable 'already exists'", err)
	}
	if err := a.repair(t.Context(), d, c, "exists", ""); err != nil || d.test.Path != "uuid_new_test.go" {
		t.Fatalf("repair: %v, path %q", err, d.test.Path)
	}
	if last := f.requests()[1].Messages; !strings.Contains(last[len(last)-1].Content, "exists") {
		t.Errorf("the repair request does not say why")
	}
}

func TestWriterRefusesAnUnknownLanguage(t *testing.T) {
	w := &TestWriter{Model: nilModel{}, Runner: failingRunner{}}
	if _, err := w.Write(t.Context(), TestRequest{Count: 1, Context: Context{Language: "rust"}}); err == nil {
		t.Fatal("no error for rust")
	}
	if _, err := (&Adversary{Model: nilModel{}}).Distinguish(t.Context(), DistinguishInput{}); err == nil {
		t.Fatal("no error for an empty language")
	}
}

type nilModel struct{}

func (nilModel) Complete(context.Context, ChatRequest) (ChatResponse, error) {
	return ChatResponse{}, errors.New("no request expected")
}
