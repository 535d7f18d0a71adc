package selector

import (
	"fmt"
	"strings"

	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector/swebench/logparser"
)

// passToPass is the plan's side of a task's PassToPass: the names, and
// the harness's log parser that maps a case ID to its name.
type passToPass struct {
	parser logparser.Parser
	tests  []string // the list's entries, unique, in its order
	names  map[string]bool
}

// newPassToPass prepares a task's list; nil when it has none.
func newPassToPass(l *PassToPass) *passToPass {
	if l == nil {
		return nil
	}
	p := &passToPass{parser: l.LogParser, names: map[string]bool{}}
	for _, t := range l.Tests {
		t = strings.TrimSpace(t)
		if t != "" && !p.names[t] {
			p.names[t] = true
			p.tests = append(p.tests, t)
		}
	}
	return p
}

// counts reports whether the list names an original case; without a list
// every case counts.
func (l *passToPass) counts(caseID string) bool {
	return l == nil || l.names[l.parser.Name(caseID)]
}

// note says what the list counted on the base run and which of its
// entries named no case there, for the verdict; "" without a list or
// without a completed base run (whose failure the verdict reports).
func (l *passToPass) note(base scoring.Row) string {
	if l == nil || (base.Status != scoring.RunOK && base.Status != "") {
		return ""
	}
	found := map[string]bool{}
	cases := base.Cases[OriginalArtifact]
	for id := range cases {
		found[l.parser.Name(id)] = true
	}
	var missing []string
	for _, t := range l.tests {
		if !found[t] {
			missing = append(missing, t)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "regressions counted on the %d original case(s) of the base run that PASS_TO_PASS names (%d entries, named as the harness's %s names them)", len(cases), len(l.tests), l.parser)
	if len(missing) > 0 {
		const shown = 5
		fmt.Fprintf(&b, "; %d PASS_TO_PASS entries match no case of the base run and are not counted: %s", len(missing), strings.Join(missing[:min(shown, len(missing))], "; "))
		if len(missing) > shown {
			fmt.Fprintf(&b, " (and %d more)", len(missing)-shown)
		}
	}
	return b.String()
}
