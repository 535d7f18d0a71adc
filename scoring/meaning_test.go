package scoring

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// hunk builds a one-file patch that replaces old with new at line at.
func hunk(file string, at int, old, new []string) string {
	var b strings.Builder
	b.WriteString("diff --git a/" + file + " b/" + file + "\n--- a/" + file + "\n+++ b/" + file + "\n")
	b.WriteString("@@ -" + strconv.Itoa(at) + "," + strconv.Itoa(len(old)) + " +" + strconv.Itoa(at) + "," + strconv.Itoa(len(new)) + " @@\n")
	for _, l := range old {
		b.WriteString("-" + l + "\n")
	}
	for _, l := range new {
		b.WriteString("+" + l + "\n")
	}
	return b.String()
}

// TestClusters: changes equal up to consistent renaming of the locals they
// introduce, or landing at another line, are one cluster and share a vote;
// renaming anything else is another change.
func TestClusters(t *testing.T) {
	goOld := []string{"\treturn sum(xs)"}
	pyOld := []string{"    return sum(xs)"}
	for _, tc := range []struct {
		name string
		a, b string
		same bool
	}{
		{"go: renamed short variable and range variable",
			hunk("m.go", 10, goOld, []string{"\ttotal := 0", "\tfor _, x := range xs {", "\t\ttotal += x", "\t}", "\treturn total"}),
			hunk("m.go", 10, goOld, []string{"\tacc := 0", "\tfor _, v := range xs {", "\t\tacc += v", "\t}", "\treturn acc"}), true},
		{"go: a var declaration, formatted otherwise",
			hunk("m.go", 10, goOld, []string{"\tvar n int = len(xs)", "\treturn n"}),
			hunk("m.go", 10, goOld, []string{"\tvar count int = len( xs ) // the length", "\treturn count"}), true},
		{"go: the same edit three lines lower",
			hunk("m.go", 10, goOld, []string{"\treturn sum(xs) + 1"}),
			hunk("m.go", 13, goOld, []string{"\treturn sum(xs) + 1"}), true},
		{"go: a renamed field is another change",
			hunk("m.go", 10, goOld, []string{"\treturn s.total"}),
			hunk("m.go", 10, goOld, []string{"\treturn s.count"}), false},
		{"go: a renamed top-level function is another change",
			hunk("m.go", 10, []string{"func old() {}"}, []string{"func helper() {}"}),
			hunk("m.go", 10, []string{"func old() {}"}, []string{"func aide() {}"}), false},
		{"go: an existing variable renamed is another change",
			hunk("m.go", 10, []string{"\tn := f()", "\treturn n"}, []string{"\tn := g()", "\treturn n"}),
			hunk("m.go", 10, []string{"\tn := f()", "\treturn n"}, []string{"\tm := g()", "\treturn m"}), false},
		{"go: a fragment that does not parse still renames",
			hunk("m.go", 10, goOld, []string{"\tfor i := 0; i < len(xs); i++ {", "\t\tif xs[i] < 0 {"}),
			hunk("m.go", 10, goOld, []string{"\tfor k := 0; k < len(xs); k++ {", "\t\tif xs[k] < 0 {"}), true},
		{"python: assignment, for, with-as, comprehension, walrus",
			hunk("m.py", 10, pyOld, []string{"    total = 0", "    for x in xs:", "        total += x", "    with open(p) as fh:", "        ys = [y for y in fh]", "    if (n := len(ys)) > 1:", "        return total / n"}),
			hunk("m.py", 10, pyOld, []string{"    acc = 0", "    for v in xs:", "        acc += v", "    with open(p) as f:", "        rows = [r for r in f]", "    if (k := len(rows)) > 1:", "        return acc / k"}), true},
		{"python: a keyword argument keeps its name",
			hunk("m.py", 10, pyOld, []string{"    n = len(xs)", "    return f(n=n)"}),
			hunk("m.py", 10, pyOld, []string{"    k = len(xs)", "    return f(n=k)"}), true},
		{"python: renaming a keyword argument is another change",
			hunk("m.py", 10, pyOld, []string{"    n = len(xs)", "    return f(n=n)"}),
			hunk("m.py", 10, pyOld, []string{"    k = len(xs)", "    return f(k=k)"}), false},
		{"python: an attribute is not a local",
			hunk("m.py", 10, pyOld, []string{"    self.total = sum(xs)"}),
			hunk("m.py", 10, pyOld, []string{"    self.acc = sum(xs)"}), false},
		{"python: a module-level name is API",
			hunk("m.py", 1, []string{"LIMIT = 1"}, []string{"MAXIMUM = 2"}),
			hunk("m.py", 1, []string{"LIMIT = 1"}, []string{"CEILING = 2"}), false},
		{"python: a parameter is API",
			hunk("m.py", 10, []string{"    def f(self):"}, []string{"    def f(self, strict=False):"}),
			hunk("m.py", 10, []string{"    def f(self):"}, []string{"    def f(self, exact=False):"}), false},
		{"python: a string keeps its words",
			hunk("m.py", 10, pyOld, []string{"    n = len(xs)", "    return 'n' * n"}),
			hunk("m.py", 10, pyOld, []string{"    k = len(xs)", "    return 'n' * k"}), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Assess(Input{Candidates: []Candidate{{ID: "a", Patch: tc.a}, {ID: "b", Patch: tc.b}}})
			if err != nil {
				t.Fatal(err)
			}
			sa, _ := a.Signals("a")
			sb, _ := a.Signals("b")
			if sa.Cluster == "" || (sa.Cluster == sb.Cluster) != tc.same {
				t.Fatalf("clusters %q and %q: same %v, want %v", sa.Cluster, sb.Cluster, sa.Cluster == sb.Cluster, tc.same)
			}
			if tc.same && (sa.Votes != 2 || sa.Similarity != 1) {
				t.Errorf("one cluster: votes %d, similarity %v; want 2 and 1", sa.Votes, sa.Similarity)
			}
			if !tc.same && sa.Votes != 1 {
				t.Errorf("two clusters: votes %d, want 1", sa.Votes)
			}
		})
	}
}

func TestBindings(t *testing.T) {
	for _, tc := range []struct {
		name  string
		got   []string
		wants []string
	}{
		{"go statements", goBindings([]string{"x,err:=f()", "for k,v:=range m{", "}", "g:=func(a int){}", "var n int"}), []string{"x", "err", "k", "v", "g", "a", "n"}},
		{"go file: locals of functions only", goBindings([]string{"var Top=1", "func F(p int){", "q:=p", "}"}), []string{"q"}},
		{"go scanner", goBindings([]string{"if a,b:=f();a{", "var c"}), []string{"a", "b", "c"}},
		{"python", pythonBindings([]string{"    a,b=f()", "    c[0]=1", "    d.e=2", "    for i,j in g:", "    h=lambda u,w:u", "    global z", "    z=3", "x=4"}), []string{"a", "b", "i", "j", "h", "u", "w"}},
	} {
		if !slices.Equal(tc.got, tc.wants) {
			t.Errorf("%s: %v, want %v", tc.name, tc.got, tc.wants)
		}
	}
}

// TestTieBreakPrefersLargerCluster: candidates tied on every key go to the
// larger cluster first.
func TestTieBreakPrefersLargerCluster(t *testing.T) {
	small := hunk("m.py", 10, []string{"    return x"}, []string{"    return x + 1"})
	big := hunk("m.py", 10, []string{"    return x"}, []string{"    return x - 1"})
	cands := []Candidate{{ID: "a", Patch: small}, {ID: "b", Patch: big}, {ID: "c", Patch: big}}
	v, err := Score(Input{Candidates: cands}, Policy{Name: "size", Keys: []Key{{Signal: SignalSize}}})
	if err != nil {
		t.Fatal(err)
	}
	if v.Chosen != "b" || len(v.Ties) != 3 {
		t.Errorf("chose %s among %v, want b (the cluster of two)", v.Chosen, v.Ties)
	}
}
