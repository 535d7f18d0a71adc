package bench

import (
	"go/parser"
	"go/token"
	"slices"
	"strings"
	"testing"
)

const testFile = `package p_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"
)

// TestA uses strings.
func TestA(t *testing.T) {
	if !strings.HasPrefix("ab", "a") {
		t.Fatal("no")
	}
}

func TestB(t *testing.T) {
	t.Log(fmt.Sprint(runewidth.StringWidth("x")))
}

func helper() string { return fmt.Sprint(1) }

func ExampleC() {
	fmt.Println("c")
	// Output: c
}
`

func TestTestFuncNames(t *testing.T) {
	names, err := testFuncNames([]byte(testFile))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"TestA", "TestB", "ExampleC"}; !slices.Equal(names, want) {
		t.Fatalf("got %v, want %v", names, want)
	}
}

// TestRemoveFuncs checks that hidden tests go with their doc comments and
// the imports only they used, and that imports still used stay.
func TestRemoveFuncs(t *testing.T) {
	cases := []struct {
		remove       []string
		gone, stayed []string
	}{
		{[]string{"TestA"}, []string{"TestA", `"strings"`, "// TestA uses"}, []string{"TestB", `"fmt"`, "runewidth"}},
		{[]string{"TestB"}, []string{"TestB", "go-runewidth"}, []string{"TestA", `"fmt"`, `"strings"`}},
		{[]string{"TestA", "TestB", "ExampleC"}, []string{"TestA", "TestB", "ExampleC", `"strings"`, "runewidth"}, []string{`"fmt"`, "helper"}},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.remove, "+"), func(t *testing.T) {
			out, err := removeFuncs([]byte(testFile), c.remove)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := parser.ParseFile(token.NewFileSet(), "", out, 0); err != nil {
				t.Fatalf("result does not parse: %v\n%s", err, out)
			}
			for _, g := range c.gone {
				if strings.Contains(string(out), g) {
					t.Errorf("%q still there:\n%s", g, out)
				}
			}
			for _, s := range c.stayed {
				if !strings.Contains(string(out), s) {
					t.Errorf("%q removed:\n%s", s, out)
				}
			}
		})
	}
	if _, err := removeFuncs([]byte(testFile), []string{"TestMissing"}); err == nil {
		t.Error("removing a function that is not there succeeded")
	}
}

// TestCopyFuncs checks that a copy keeps the package clause, takes the
// imports its body uses and nothing else, and carries the new name.
func TestCopyFuncs(t *testing.T) {
	out, err := copyFuncs([]byte(testFile), [][2]string{{"TestB", "TestBPRepro1B"}})
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{"package p_test", `"fmt"`, `"github.com/mattn/go-runewidth"`, "func TestBPRepro1B(t *testing.T)", `"testing"`} {
		if !strings.Contains(s, want) {
			t.Errorf("copy lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, `"strings"`) || strings.Contains(s, "func TestB(") {
		t.Errorf("copy holds what it should not:\n%s", s)
	}
}

func TestRenameTest(t *testing.T) {
	for in, want := range map[string]string{
		"TestParse":    "TestBPRepro1Parse",
		"ExampleParse": "Example_bPRepro1",
		"FuzzParse":    "FuzzBPRepro1Parse",
	} {
		if got := renameTest(in, "BPRepro1"); got != want {
			t.Errorf("renameTest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTestParam(t *testing.T) {
	name, at, err := testParam([]byte(testFile), "TestA")
	if err != nil || name != "t" {
		t.Fatalf("got %q, %v; want t", name, err)
	}
	if testFile[at-1] != '{' {
		t.Errorf("offset %d is not just after the body's brace", at)
	}
	if _, _, err := testParam([]byte(testFile), "TestNone"); err == nil {
		t.Error("a missing function gave no error")
	}
}
