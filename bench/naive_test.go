package bench

import (
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

const genPatch = `diff --git a/sub/zz_bp_repro1_test.go b/sub/zz_bp_repro1_test.go
new file mode 100644
--- /dev/null
+++ b/sub/zz_bp_repro1_test.go
@@ -0,0 +1,7 @@
+package sub
+
+import "testing"
+
+func TestBPRepro1X(t *testing.T) {}
+
+func Example_bPRepro2() {}
`

func TestOnlyTestCommand(t *testing.T) {
	got, err := onlyTestCommand("go test -json -count=1 -vet=off -skip '^TestSlow$' ./...", genPatch)
	if err != nil {
		t.Fatal(err)
	}
	want := "go test -json -count=1 -vet=off -skip '^TestSlow$' -run '^(TestBPRepro1X|Example_bPRepro2)$' ./sub"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if _, err := onlyTestCommand("go test ./...", "diff --git a/x.go b/x.go\n"); err == nil {
		t.Error("a patch without tests gave a command")
	}
}

// TestNaiveRuns checks the naive way's shape: base and every candidate
// (duplicates included), each once per artifact.
func TestNaiveRuns(t *testing.T) {
	task := selector.Task{
		ID: "t", Env: executor.Environment{Image: "img"}, TestCommand: "go test -json ./...", Format: executor.GoJSON,
		GeneratedTests: []selector.GeneratedTest{{ID: "t1", Patch: genPatch}, {ID: "t2", Patch: genPatch}},
	}
	cands := []scoring.Candidate{{ID: "a", Patch: "p"}, {ID: "b", Patch: "p"}, {ID: "c", Patch: ""}}
	runs, err := NaiveRuns(task, cands)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != (1+len(cands))*3 {
		t.Fatalf("%d runs, want %d", len(runs), (1+len(cands))*3)
	}
	suites, singles := 0, 0
	for _, r := range runs {
		switch {
		case len(r.Tests) == 0 && r.Command == task.TestCommand:
			suites++
		case len(r.Tests) == 1 && strings.Contains(r.Command, "-run '^(TestBPRepro1X|Example_bPRepro2)$' ./sub"):
			singles++
		default:
			t.Errorf("unexpected run: %d tests, %q", len(r.Tests), r.Command)
		}
		if err := r.Validate(); err != nil {
			t.Error(err)
		}
	}
	if suites != 4 || singles != 8 {
		t.Errorf("%d suite runs and %d single-test runs, want 4 and 8", suites, singles)
	}
}
