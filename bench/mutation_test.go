package bench

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

const mutSrc = `package p

func Clamp(x, lo, hi int) int {
	if x < lo {
		return lo
	}
	if x > hi && hi != 0 {
		return hi
	} else {
		x++
	}
	for i := 0; i < 3; i++ {
		if i == 2 {
			break
		}
	}
	ok := true
	_ = ok
	return x
}
`

// TestMutations checks that each operator finds its sites and that applying
// a mutation changes exactly what it says, gofmt-clean.
func TestMutations(t *testing.T) {
	ms, err := Mutations("p.go", []byte(mutSrc), false)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		op, from, to string
	}{
		{OpComparison, "if x < lo {", "if x <= lo {"},
		{OpComparison, "if x > hi && hi != 0 {", "if x >= hi && hi != 0 {"},
		{OpLogical, "if x > hi && hi != 0 {", "if x > hi || hi != 0 {"},
		{OpNegateCondition, "if x < lo {", "if !(x < lo) {"},
		{OpOffByOne, "i < 3", "i < 2"},
		{OpFlipBool, "ok := true", "ok := false"},
		{OpDeleteStatement, "\t\tx++\n", ""},
		{OpDeleteStatement, "\t\t\tbreak\n", ""},
		{OpSwapBranches, "\t\treturn hi\n\t} else {\n\t\tx++\n", "\t\tx++\n\t} else {\n\t\treturn hi\n"},
	}
	for _, c := range cases {
		t.Run(c.op+" "+c.from, func(t *testing.T) {
			for _, m := range ms {
				if m.Op != c.op {
					continue
				}
				out, err := Apply([]byte(mutSrc), m)
				if err != nil {
					t.Fatalf("%s: %v", m.Desc, err)
				}
				if strings.Replace(mutSrc, c.from, c.to, 1) == string(out) {
					return
				}
			}
			t.Fatalf("no %s mutation turns %q into %q", c.op, c.from, c.to)
		})
	}
	for _, m := range ms {
		if m.Func != "Clamp" || m.Line < 3 {
			t.Errorf("mutation %s: func %q line %d, want Clamp and a line inside it", m.Desc, m.Func, m.Line)
		}
	}
}

// TestMutationsEvery checks the wrong-fix mode: every other comparison
// operator, both off-by-one directions.
func TestMutationsEvery(t *testing.T) {
	ms, err := Mutations("p.go", []byte("package p\n\nfunc f(x int) bool { return x < 3 }\n"), true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		out, err := Apply([]byte("package p\n\nfunc f(x int) bool { return x < 3 }\n"), m)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.TrimSpace(strings.TrimPrefix(string(out), "package p\n\nfunc f(x int) bool { return ")))
	}
	slices.Sort(got)
	want := []string{"x != 3 }", "x < 2 }", "x < 4 }", "x <= 3 }", "x == 3 }", "x > 3 }", "x >= 3 }"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestApplyOverlap checks that overlapping mutations are refused and
// disjoint ones combine.
func TestApplyOverlap(t *testing.T) {
	ms, err := Mutations("p.go", []byte(mutSrc), false)
	if err != nil {
		t.Fatal(err)
	}
	var cmp, neg, flip Mutation
	for _, m := range ms {
		switch {
		case m.Op == OpComparison && strings.Contains(m.Desc, "x < lo"):
			cmp = m
		case m.Op == OpNegateCondition && strings.Contains(m.Desc, "x < lo"):
			neg = m
		case m.Op == OpFlipBool:
			flip = m
		}
	}
	if _, err := Apply([]byte(mutSrc), cmp, neg); err == nil {
		t.Error("overlapping mutations applied together")
	}
	out, err := Apply([]byte(mutSrc), cmp, flip)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "x <= lo") || !strings.Contains(string(out), "ok := false") {
		t.Errorf("both mutations should show:\n%s", out)
	}
}

// TestBugDrawDeterministic checks that the draw order is a function of the
// seed, and that operators alternate.
func TestBugDrawDeterministic(t *testing.T) {
	u := &upstream{mod: Module{Path: "example.com/p"}, sources: map[string][]byte{"p.go": []byte(mutSrc)}}
	draw := func(seed uint64) []string {
		ms, err := u.bugDraw(rand.New(rand.NewPCG(seed, 7)))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range ms {
			ids = append(ids, m.ID())
		}
		return ids
	}
	a, b, c := draw(1), draw(1), draw(2)
	if !slices.Equal(a, b) {
		t.Fatal("the same seed drew two orders")
	}
	if slices.Equal(a, c) {
		t.Error("two seeds drew the same order")
	}
	all, _ := Mutations("p.go", []byte(mutSrc), false)
	if len(a) != len(all) {
		t.Fatalf("drew %d of %d mutations", len(a), len(all))
	}
	ops := map[string]bool{}
	for _, m := range all {
		ops[m.Op] = true
	}
	first := map[string]bool{}
	ms, _ := u.bugDraw(rand.New(rand.NewPCG(1, 7)))
	for _, m := range ms[:len(ops)] {
		first[m.Op] = true
	}
	if len(first) != len(ops) {
		t.Errorf("the first %d draws cover %d operators, want every one", len(ops), len(first))
	}
}

// TestCoverageFilter checks that sites on lines no test executes are not
// drawn.
func TestCoverageFilter(t *testing.T) {
	profile := "mode: set\nexample.com/p/p.go:3.30,4.13 1 1\nexample.com/p/p.go:4.13,6.3 1 0\nexample.com/p/p.go:7.2,7.25 1 1\n"
	u := &upstream{mod: Module{Path: "example.com/p"}, sources: map[string][]byte{"p.go": []byte(mutSrc)}, covered: parseCoverage(profile, "example.com/p")}
	if got := u.covered["p.go"]; len(got) != 2 || got[0] != [2]int{3, 4} || got[1] != [2]int{7, 7} {
		t.Fatalf("covered ranges %v, want [3 4] and [7 7]", got)
	}
	ms, err := u.bugDraw(rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("nothing drawn")
	}
	for _, m := range ms {
		if m.Line != 4 && m.Line != 7 {
			t.Errorf("drew %s on line %d, which no test executes", m.Desc, m.Line)
		}
	}
}
