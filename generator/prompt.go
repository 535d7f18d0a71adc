package generator

import (
	"fmt"
	"strings"
)

// The prompts. Their sizes are measured in docs/GENERATOR.md; keep that
// table in step when changing them.

const testWriterSystem = "You are an expert software engineer. You write small, precise tests that reproduce reported issues in a repository."

// writeFiles renders files for a prompt.
func writeFiles(b *strings.Builder, files []SourceFile) {
	for _, f := range files {
		fmt.Fprintf(b, "<file path=%q>\n%s", f.Path, f.Content)
		if !strings.HasSuffix(f.Content, "\n") {
			b.WriteString("\n")
		}
		b.WriteString("</file>\n")
	}
}

// writeRepository renders the issue, the touched code and the example test.
func writeRepository(b *strings.Builder, problem string, c Context) {
	fmt.Fprintf(b, "<issue>\n%s\n</issue>\n\n", strings.TrimSpace(problem))
	if len(c.Code) > 0 {
		b.WriteString("Code of the repository at the commit that has the issue (the files the proposed fixes change; long files are excerpted):\n")
		writeFiles(b, c.Code)
		b.WriteString("\n")
	}
	if c.Example != nil {
		b.WriteString("An existing test file of the repository, to show its conventions and test framework:\n")
		writeFiles(b, []SourceFile{*c.Example})
		b.WriteString("\n")
	}
}

// testRules are the rules for a new test file: the format's style when it
// has one (Django's unittest classes, sympy's plain functions), else the
// language's.
func testRules(c Context) string {
	if spec, err := c.Format.Spec(); err == nil && spec.TestStyle != "" {
		return spec.TestStyle
	}
	if c.Language == Python {
		return `- Use pytest: test functions named test_..., plain assert statements, pytest.raises for expected exceptions.
- Put the file where the repository keeps its tests (see the example) and name it test_<something>.py; it must be a new file, not one that exists.
- Import the code under test the way the existing tests do.
`
	}
	return `- Put the file in the directory of the code it tests and use the same package clause as the existing tests there (package x or package x_test).
- Name it <something>_test.go; it must be a new file, not one that exists. Give its test functions names no existing test uses (for example TestRepro...).
- Use only the standard library and packages the repository already uses.
`
}

// answerFormat tells the model how to answer, which ExtractTestFile reads.
func answerFormat(lang Language) string {
	example := "path/to/repro_test.go"
	if lang == Python {
		example = "tests/test_repro.py"
	}
	return fmt.Sprintf("Answer with the file's path on its own line, then the complete file in a single fenced code block, and nothing else:\n\nFile: %s\n```%s\n...\n```\n", example, lang)
}

// testWriterPrompt asks for one test file that reproduces the issue.
func testWriterPrompt(problem string, c Context) []Message {
	var b strings.Builder
	writeRepository(&b, problem, c)
	fmt.Fprintf(&b, `Write ONE new %s test file that reproduces the issue: at least one of its tests must FAIL on the code above, which has the issue, and PASS once the issue is correctly fixed.
- Test the behaviour the issue asks for, through the code's public interface where possible, not the details of one particular fix.
- Keep it small and deterministic: no network, no sleeping, no dependence on test order.
%s
%s`, c.Language.title(), testRules(c), answerFormat(c.Language))
	return []Message{{Role: RoleSystem, Content: testWriterSystem}, {Role: RoleUser, Content: b.String()}}
}

// repairPrompt follows a test that could not run with the reason and the
// build output.
func repairPrompt(problem, output string, lang Language) Message {
	var b strings.Builder
	fmt.Fprintf(&b, "That test file cannot run on the code above: %s\n", problem)
	if output != "" {
		fmt.Fprintf(&b, "\nOutput:\n```\n%s\n```\n", strings.TrimRight(output, "\n"))
	}
	fmt.Fprintf(&b, "\nFix the test file so that it runs, keeping what it tests. %s", answerFormat(lang))
	return Message{Role: RoleUser, Content: b.String()}
}

// distinguishPrompt asks for a test that tells two patches apart.
func distinguishPrompt(in DistinguishInput) []Message {
	var b strings.Builder
	writeRepository(&b, in.Problem, in.Context)
	b.WriteString("Two proposed fixes for the issue pass every test we have, but they change the code differently.\n\n")
	fmt.Fprintf(&b, "<patch name=\"A\">\n%s\n</patch>\n\n<patch name=\"B\">\n%s\n</patch>\n\n",
		strings.TrimRight(in.A, "\n"), strings.TrimRight(in.B, "\n"))
	fmt.Fprintf(&b, `Find an input or situation where the two patches behave differently, decide which behaviour the issue asks for, and write ONE new %s test file that checks that behaviour: it must PASS with the patch that behaves correctly and FAIL with the other.
- Test observable behaviour through the code's public interface, as the issue describes it; do not test which lines were changed.
- Keep it small and deterministic: no network, no sleeping, no dependence on test order.
%s`, in.Context.Language.title(), testRules(in.Context))
	if in.Feedback != "" {
		fmt.Fprintf(&b, "\nA previous attempt failed: %s\n", strings.TrimSpace(in.Feedback))
	}
	b.WriteString("\n" + answerFormat(in.Context.Language))
	return []Message{{Role: RoleSystem, Content: testWriterSystem}, {Role: RoleUser, Content: b.String()}}
}

const judgeSystem = "You are an expert software engineer reviewing a proposed fix for an issue in a repository. You answer with exactly one word: YES or NO."

// judgePrompt asks whether a patch resolves the issue.
func judgePrompt(problem, patch, trajectory string) []Message {
	var b strings.Builder
	fmt.Fprintf(&b, "<issue>\n%s\n</issue>\n\n", strings.TrimSpace(problem))
	if trajectory != "" {
		fmt.Fprintf(&b, "The agent's work on the issue, oldest first (parts may be omitted):\n<trajectory>\n%s\n</trajectory>\n\n", strings.TrimRight(trajectory, "\n"))
	}
	fmt.Fprintf(&b, "The proposed fix:\n<patch>\n%s\n</patch>\n\n", strings.TrimRight(patch, "\n"))
	b.WriteString("Does this patch resolve the issue correctly, without breaking other behaviour? Answer YES or NO.")
	return []Message{{Role: RoleSystem, Content: judgeSystem}, {Role: RoleUser, Content: b.String()}}
}
