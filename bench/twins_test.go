package bench

import (
	"strings"
	"testing"
)

func TestHoistedTwins(t *testing.T) {
	src := "package p\n\nfunc f(a, b int) int {\n\tif a < b {\n\t\treturn a\n\t}\n\tif x := a; x > b {\n\t\treturn x\n\t}\n\treturn b\n}\n"
	at := strings.Index(src, "a < b")
	twins, err := hoistedTwins([]byte(src), Mutation{File: "p.go", Start: at, End: at + len("a < b")}, 2)
	if err != nil || len(twins) != 2 {
		t.Fatalf("%d twins, %v", len(twins), err)
	}
	for i, want := range []string{"if ok := a < b; ok {", "if cond := a < b; cond {"} {
		if !strings.Contains(string(twins[i]), want) {
			t.Errorf("twin %d lacks %q:\n%s", i, want, twins[i])
		}
	}
	// The name the file already uses is passed over.
	used := strings.Replace(src, "return b\n", "ok := b\n\treturn ok\n", 1)
	at = strings.Index(used, "a < b")
	if twins, _ := hoistedTwins([]byte(used), Mutation{File: "p.go", Start: at, End: at + 5}, 1); len(twins) != 1 || !strings.Contains(string(twins[0]), "if cond := a < b") {
		t.Errorf("with ok taken: %q", twins)
	}
	// An if with an init, and a site outside any condition: no twin.
	at = strings.Index(src, "x > b")
	if twins, _ := hoistedTwins([]byte(src), Mutation{File: "p.go", Start: at, End: at + 5}, 2); len(twins) != 0 {
		t.Errorf("an if with an init got twins: %q", twins)
	}
	at = strings.Index(src, "return b")
	if twins, _ := hoistedTwins([]byte(src), Mutation{File: "p.go", Start: at, End: at + 8}, 2); len(twins) != 0 {
		t.Errorf("a return got twins: %q", twins)
	}
}

func TestDriftedContext(t *testing.T) {
	patch := "diff --git a/p.go b/p.go\n--- a/p.go\n+++ b/p.go\n@@ -10,7 +10,7 @@ func f() {\n \tx := 1\n \ty := 2\n \tz := 3\n-\tif x < y {\n+\tif x <= y {\n \t\treturn\n \t}\n \t_ = z\n"
	d, ok := driftedContext(patch, 3)
	if !ok {
		t.Fatal("not drifted")
	}
	if !strings.Contains(d, "@@ -13,7 +13,7 @@ func f() {\n \tx := 1 // drifted\n \ty := 2\n") || !strings.Contains(d, "-\tif x < y {\n+\tif x <= y {\n") {
		t.Errorf("drifted:\n%s", d)
	}
	short := strings.Replace(patch, " \tx := 1\n \ty := 2\n", "", 1)
	if _, ok := driftedContext(short, 3); ok {
		t.Error("a hunk with one leading context line was drifted")
	}
}

func TestRowCopies(t *testing.T) {
	src := []byte(`package p

import "testing"

func TestF(t *testing.T) {
	tests := []struct{ in, want int }{
		{1, 2},
		{2, 3},
		{3, 4},
	}
	for _, tc := range tests {
		if f(tc.in) != tc.want {
			t.Error(tc)
		}
	}
}

func TestLocal(t *testing.T) {
	k := 5
	for _, v := range []int{1, k} {
		_ = v
	}
}
`)
	rows, err := rowCopies(src, "TestF", 2)
	if err != nil || len(rows) != 2 {
		t.Fatalf("%d copies, %v", len(rows), err)
	}
	for i, want := range []string{"{1, 2},", "{2, 3},"} {
		body := string(rows[i])
		if !strings.Contains(body, want) || strings.Count(body, "}, {") != 0 || strings.Contains(body, "{3, 4}") {
			t.Errorf("copy %d:\n%s", i, body)
		}
	}
	if rows, err := rowCopies(src, "TestLocal", 4); err != nil || len(rows) != 0 {
		t.Errorf("a table using a local: %d copies, %v", len(rows), err)
	}
}
