package generator

import (
	"fmt"
	"path"
	"strings"

	"github.com/bestpatch/bestpatch/executor"
)

// Language is the programming language of the tests to write.
type Language string

const (
	// Go tests: *_test.go files with TestXxx functions, run by go test.
	Go Language = "go"
	// Python tests: test_*.py or *_test.py files, run by pytest.
	Python Language = "python"
)

// LanguageOf picks the tests' language from the task's output format (its
// registered language), or, for a format that does not say (junit), from
// the files the candidates touch: the language most of them are written in.
func LanguageOf(format executor.Format, touched []string) (Language, error) {
	spec, err := format.Spec()
	if err != nil {
		return "", err
	}
	if spec.Language != "" {
		lang := Language(spec.Language)
		return lang, lang.check()
	}
	count := map[Language]int{}
	for _, p := range touched {
		switch path.Ext(p) {
		case ".go":
			count[Go]++
		case ".py":
			count[Python]++
		}
	}
	switch {
	case count[Go] > count[Python]:
		return Go, nil
	case count[Python] > count[Go]:
		return Python, nil
	}
	return "", fmt.Errorf("cannot tell the language of the tests to write from the format %q and the touched files %v: the generator writes Go or Python tests", format, touched)
}

// check refuses a language the generator cannot write tests in.
func (l Language) check() error {
	if l != Go && l != Python {
		return fmt.Errorf("generator: cannot write tests in language %q: want %q or %q (see LanguageOf)", l, Go, Python)
	}
	return nil
}

// title is the language's name in prompts.
func (l Language) title() string {
	if l == Python {
		return "Python"
	}
	return "Go"
}

// ext is the source file extension.
func (l Language) ext() string {
	if l == Python {
		return ".py"
	}
	return ".go"
}

// fence reports whether a code block's info-string language is this one.
func (l Language) fence(tag string) bool {
	switch strings.ToLower(tag) {
	case "go", "golang":
		return l == Go
	case "python", "py", "python3":
		return l == Python
	}
	return false
}

// IsTestFile reports whether the test runner picks a file up as tests.
func (l Language) IsTestFile(p string) bool {
	base := path.Base(p)
	switch l {
	case Go:
		return strings.HasSuffix(base, "_test.go")
	case Python:
		return strings.HasSuffix(base, ".py") && (strings.HasPrefix(base, "test_") || strings.HasSuffix(base, "_test.py"))
	}
	return false
}
