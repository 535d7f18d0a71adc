package executor

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// outcomes maps case IDs to outcome names, for comparisons.
func outcomes(cases []Case) map[string]string {
	m := map[string]string{}
	for _, c := range cases {
		m[c.ID] = c.Outcome.String()
	}
	return m
}

// updateCapture rewrites a captured runner output in testdata from a live
// run when the tests run with -update.
func updateCapture(t *testing.T, file string, out []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// parseCase is a table test of a format's parser: an output, and the
// cases and broken units it holds, or the error its parser gives.
type parseCase struct {
	name   string
	out    string
	cases  map[string]string
	broken string // fmt.Sprint of the broken units; "" for none
	err    string // a part of the error; the error must also name the format
}

// checkParses runs a format's parser over each case's output.
func checkParses(t *testing.T, f Format, cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, broken, err := parseOutput(f, []byte(tc.out))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), fmt.Sprintf("format %q", f)) {
					t.Fatalf("error %v, want one naming the format and saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(outcomes(got)) != fmt.Sprint(tc.cases) {
				t.Errorf("cases\n got %v\nwant %v", outcomes(got), tc.cases)
			}
			if b := fmt.Sprint(broken); b != tc.broken && !(len(broken) == 0 && tc.broken == "") {
				t.Errorf("broken %s, want %s", b, tc.broken)
			}
		})
	}
}

// parseOutput runs a format's parser over a whole output, line by line as
// the collector does.
func parseOutput(f Format, out []byte) ([]Case, []string, error) {
	spec, err := f.Spec()
	if err != nil {
		return nil, nil, err
	}
	p := spec.newParser()
	s := NewLineSplitter(MaxLine, p.line)
	s.Write(out)
	s.Close()
	return p.finish()
}
