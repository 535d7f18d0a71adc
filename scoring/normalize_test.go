package scoring

import (
	"reflect"
	"strings"
	"testing"
)

func TestCanonicalLines(t *testing.T) {
	tests := []struct {
		name string
		lang language
		in   []string
		want []string
	}{
		{"python keeps indentation, squeezes the rest", langPython,
			[]string{"    x  =  f( a ,b )  ", "\tif x:"},
			[]string{"    x=f(a,b)", "        if x:"}},
		{"python drops comments and blank lines", langPython,
			[]string{"# a comment", "   ", "y = 1  # why", "s = '# not a comment'"},
			[]string{"", "", "y=1", "s='# not a comment'"}},
		{"python strings keep their spaces", langPython,
			[]string{`msg = "a  b"`},
			[]string{`msg="a  b"`}},
		{"python triple-quoted strings span lines", langPython,
			[]string{`doc = """first`, `  # inside the string`, `end"""  # after`},
			[]string{`doc="""first`, `  # inside the string`, `end"""`}},
		{"word characters keep one space", langPython,
			[]string{"return  not  x", "lambda x : x"},
			[]string{"return not x", "lambda x:x"}},
		{"go drops indentation and comments", langGo,
			[]string{"\tif err != nil { // bail", "\t\treturn  err", "/* block */", "x := `raw // kept`"},
			[]string{"if err!=nil{", "return err", "", "x:=`raw // kept`"}},
		{"go block comments across lines", langGo,
			[]string{"a := 1 /* start", "still comment", "end */ b := 2"},
			[]string{"a:=1", "", "b:=2"}},
		{"markdown keeps leading #", langGeneric,
			[]string{"# Title", "  text  here"},
			[]string{"# Title", "text here"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := canonicalLines(tt.lang, tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

const basePy = `import os


def area(w, h):
    """Area of a rectangle."""
    return w * h


def perimeter(w, h):
    return 2 * (w + h)
`

// Patches against basePy. Twins differ only cosmetically from fixPerimeter.
const (
	fixPerimeter = `diff --git a/geo/shapes.py b/geo/shapes.py
index 1111111..2222222 100644
--- a/geo/shapes.py
+++ b/geo/shapes.py
@@ -8,3 +8,4 @@ def area(w, h):
 
 def perimeter(w, h):
-    return 2 * (w + h)
+    total = w + h
+    return total * 2
`
	// Other index line, one line of context, odd spacing, an added comment.
	fixPerimeterTwin = `diff --git a/geo/shapes.py b/geo/shapes.py
index 1111111..3333333 100644
--- a/geo/shapes.py
+++ b/geo/shapes.py
@@ -9,2 +9,4 @@ def area(w, h):
 def perimeter(w, h):
-    return 2 * (w + h)
+    # sum first
+    total   =   w+h
+    return total*2
`
	// A different change in the same function.
	fixPerimeterOther = `--- a/geo/shapes.py
+++ b/geo/shapes.py
@@ -9,2 +9,2 @@ def area(w, h):
 def perimeter(w, h):
-    return 2 * (w + h)
+    return 2 * w + 2 * h
`
	// Same text, but the body is dedented: different Python.
	fixPerimeterDedent = `--- a/geo/shapes.py
+++ b/geo/shapes.py
@@ -9,2 +9,3 @@ def area(w, h):
 def perimeter(w, h):
-    return 2 * (w + h)
+    total = w + h
+return total * 2
`
)

func TestNormalizeCollapsesCosmeticTwins(t *testing.T) {
	for _, sources := range []map[string]string{nil, {"geo/shapes.py": basePy}} {
		a, err := Normalize(fixPerimeter, sources)
		if err != nil {
			t.Fatal(err)
		}
		twin, err := Normalize(fixPerimeterTwin, sources)
		if err != nil {
			t.Fatal(err)
		}
		if a.Key != twin.Key {
			t.Errorf("sources=%v: twins differ:\n%s\n---\n%s", sources != nil, a.Text, twin.Text)
		}
		if a.Formatted != (sources != nil) {
			t.Errorf("Formatted = %v with sources=%v", a.Formatted, sources != nil)
		}
		for _, other := range []string{fixPerimeterOther, fixPerimeterDedent} {
			o, err := Normalize(other, sources)
			if err != nil {
				t.Fatal(err)
			}
			if o.Key == a.Key {
				t.Errorf("sources=%v: a different change got the same key:\n%s", sources != nil, o.Text)
			}
		}
		if got := a.Files[0].Scopes; !reflect.DeepEqual(got, []string{"def perimeter"}) {
			t.Errorf("scopes %q, want [def perimeter]", got)
		}
		if a.ChangedLines() != 3 {
			t.Errorf("changed lines %d, want 3\n%s", a.ChangedLines(), a.Text)
		}
	}
}

const baseGo = `package shapes

import (
	"math"
	"fmt"
)

// Area is the area.
func Area(w, h float64) float64 {
	return w * h
}

func Describe(w, h float64) string {
	return fmt.Sprint(math.Abs(w), h)
}
`

func TestNormalizeGoFormatsWholeFiles(t *testing.T) {
	// The same change, once written on one line and once gofmt-style across
	// lines with a comment: only the whole-file path (sources at hand) can
	// see that they are the same Go code.
	oneLine := `--- a/shapes.go
+++ b/shapes.go
@@ -9,3 +9,3 @@ import (
 func Area(w, h float64) float64 {
-	return w * h
+	if w < 0 { return 0 }; return w * h
 }
`
	multiLine := `--- a/shapes.go
+++ b/shapes.go
@@ -9,3 +9,6 @@ import (
 func Area(w, h float64) float64 {
+	if w < 0 {
+		return 0 // negative widths have no area
+	}
 	return w * h
 }
`
	sources := map[string]string{"shapes.go": baseGo}
	a, err := Normalize(oneLine, sources)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Normalize(multiLine, sources)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Formatted || !b.Formatted {
		t.Fatal("whole-file formatting not used")
	}
	if a.Key != b.Key {
		t.Errorf("gofmt twins differ:\n%s\n---\n%s", a.Text, b.Text)
	}
	if got := a.Files[0].Scopes; !reflect.DeepEqual(got, []string{"func Area"}) {
		t.Errorf("scopes %q, want [func Area]", got)
	}
	// Without sources the hunks alone cannot tell.
	a0, _ := Normalize(oneLine, nil)
	b0, _ := Normalize(multiLine, nil)
	if a0.Key == b0.Key {
		t.Error("without sources the two layouts should differ")
	}
	// Comment-only and import-order edits vanish once formatted.
	cosmetic := `--- a/shapes.go
+++ b/shapes.go
@@ -3,7 +3,7 @@
 import (
-	"math"
 	"fmt"
+	"math"
 )
 
-// Area is the area.
+// Area returns the area.
 func Area(w, h float64) float64 {
`
	c, err := Normalize(cosmetic, sources)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Empty() {
		t.Errorf("cosmetic Go edit not empty:\n%s", c.Text)
	}
}

func TestNormalizeFallsBackWhenSourcesDoNotMatch(t *testing.T) {
	n, err := Normalize(fixPerimeter, map[string]string{"geo/shapes.py": "something else\n"})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := Normalize(fixPerimeter, nil)
	if n.Formatted || n.Key != plain.Key {
		t.Errorf("a patch that does not apply to the given source should be normalized from its hunks")
	}
}

func TestNormalizeFileKinds(t *testing.T) {
	patch := `diff --git a/old_name.py b/new_name.py
similarity index 100%
rename from old_name.py
rename to new_name.py
diff --git a/gone.py b/gone.py
deleted file mode 100644
index 1111111..0000000
--- a/gone.py
+++ /dev/null
@@ -1 +0,0 @@
-x = 1
diff --git a/pkg/new.py b/pkg/new.py
new file mode 100644
index 0000000..1111111
--- /dev/null
+++ b/pkg/new.py
@@ -0,0 +1,2 @@
+# header
+y = 2
diff --git a/tests/test_x.py b/tests/test_x.py
--- a/tests/test_x.py
+++ b/tests/test_x.py
@@ -1 +1 @@
-assert 1
+assert 2
diff --git a/mode.sh b/mode.sh
old mode 100644
new mode 100755
`
	n, err := Normalize(patch, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range n.Files {
		desc := f.Path
		switch {
		case f.IsDelete:
			desc += " deleted"
		case f.IsNew:
			desc += " new"
		}
		if f.OldPath != "" {
			desc += " from " + f.OldPath
		}
		got = append(got, desc)
	}
	want := []string{"gone.py deleted", "new_name.py from old_name.py", "pkg/new.py new", "tests/test_x.py"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("files %q, want %q (a mode-only change is dropped)", got, want)
	}
}

func TestNormalizeErrorsAndFallback(t *testing.T) {
	bad := "--- a/f.py\n+++ b/f.py\n@@ -1,5 +1,5 @@\n-x = 1\n+x = 2\n"
	if _, err := Normalize(bad, nil); err == nil {
		t.Fatal("a hunk whose line counts lie parsed without error")
	}
	// Scoring still compares such a patch, as whitespace-squeezed text.
	a := NormalizeFallback(bad)
	b := NormalizeFallback(strings.ReplaceAll(bad, "x = 2", "x  =  2"))
	if a.Key == "" || a.Key != b.Key {
		t.Errorf("fallback keys %q %q: want equal, non-empty", a.Key, b.Key)
	}
	empty, err := Normalize("", nil)
	if err != nil || !empty.Empty() || empty.Key != "" {
		t.Errorf("empty patch: %+v, %v", empty, err)
	}
}
