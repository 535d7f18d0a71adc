package wireschema

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/invopop/jsonschema"

	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/wire"
)

const (
	wireDir    = "../../wire"
	schemaFile = "../../../docs/wire/" + wire.Version + ".schema.json"
	daemonDoc  = "../../../docs/DAEMON.md"
	scoringDoc = "../../../docs/SCORING.md"
)

func generate(t *testing.T) *jsonschema.Schema {
	t.Helper()
	s, err := Generate(wireDir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCommittedFiles: the schema in docs/wire and the field reference in
// docs/DAEMON.md are those of the wire types as they are.
func TestCommittedFiles(t *testing.T) {
	s := generate(t)
	want, err := JSON(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("%s is not the schema of package wire: run `go generate ./selector/wire` and commit it", schemaFile)
	}
	doc, err := os.ReadFile(daemonDoc)
	if err != nil {
		t.Fatal(err)
	}
	spliced, err := Splice(doc, Reference(s))
	if err != nil {
		t.Fatal(err)
	}
	if string(spliced) != string(doc) {
		t.Errorf("the field reference in %s is not that of package wire: run `go generate ./selector/wire` and commit it", daemonDoc)
	}
	doc, err = os.ReadFile(scoringDoc)
	if err != nil {
		t.Fatal(err)
	}
	if spliced, err = SpliceSignals(doc); err != nil {
		t.Fatal(err)
	} else if string(spliced) != string(doc) {
		t.Errorf("the signal table in %s is not that of the scoring registry: run `go generate ./selector/wire` and commit it", scoringDoc)
	}
}

// unitWords are the ways a description states a number's unit or range.
var unitWords = regexp.MustCompile(`(?i)seconds|MiB|CPUs|processes|\[0, 1\]|\[0, 2\]|probability|P\(|log-odds|counts|index|` +
	`1 for the best|how many|this many|the rounds|in its unit|in the signal's unit|in its own unit`)

// TestEveryNumberHasAUnit: every number the protocol carries (a field, the
// values of a map, the items of an array) says in its description what it
// counts, or its unit or range; durations say seconds.
func TestEveryNumberHasAUnit(t *testing.T) {
	s := generate(t)
	numeric := func(p *jsonschema.Schema) bool {
		for _, q := range append([]*jsonschema.Schema{p, p.AdditionalProperties, p.Items}, append(p.OneOf, p.AnyOf...)...) {
			if q != nil && (q.Type == "number" || q.Type == "integer") {
				return true
			}
			if q != nil && q.Items != nil {
				for _, r := range q.Items.AnyOf {
					if r.Type == "number" {
						return true
					}
				}
			}
		}
		return false
	}
	n := 0
	for name, def := range s.Definitions {
		for pair := def.Properties.Oldest(); pair != nil; pair = pair.Next() {
			if !numeric(pair.Value) {
				continue
			}
			n++
			d := strings.ToLower(pair.Value.Description)
			if !unitWords.MatchString(d) {
				t.Errorf("%s.%s: %q says no unit", name, pair.Key, pair.Value.Description)
			}
			if strings.Contains(pair.Key, "duration") || strings.Contains(pair.Key, "timeout") || strings.HasSuffix(pair.Key, "_seconds") {
				if !strings.Contains(d, "seconds") {
					t.Errorf("%s.%s: a duration whose description does not say seconds", name, pair.Key)
				}
			}
		}
	}
	if n < 30 {
		t.Errorf("%d numbers checked: the walk missed some", n)
	}
}

// TestEverySignalDocumented: every key of a report's signals map (a
// candidate with every signal) has a row in the reference's Signals table,
// or is one of FP/PP's counts, which its introduction names.
func TestEverySignalDocumented(t *testing.T) {
	ref := Reference(generate(t))
	i := strings.Index(ref, "#### "+heading("Signals"))
	if i < 0 {
		t.Fatal("the reference has no Signals section")
	}
	section := ref[i:]
	section = section[:strings.Index(section[1:], "####")+1]
	one, two := 0.5, 2
	sig := scoring.Signals{FPPP: &one, Regressions: &two, GeneratedPassed: &two, Verifier: &one, Prior: &one, Votes: 2, ChangedLines: 3,
		Extra: map[scoring.Signal]float64{scoring.SignalBehaviour: one}}
	rep := wire.FromReport(selector.Report{Verdict: scoring.Verdict{Ranking: []scoring.Ranked{{ID: "a", Signals: sig}}}})
	for name := range rep.Verdict.Ranking[0].Signals {
		if !strings.Contains(section, "`"+name+"`") {
			t.Errorf("signal %s is not in the reference's Signals section", name)
		}
	}
	for _, d := range scoring.SignalDefs() {
		if !strings.Contains(section, "| `"+string(d.Name)+"` |") {
			t.Errorf("signal %s has no row", d.Name)
		}
	}
}

// TestFrozen fails when the schema of a released group of messages
// changes: a client written for it would receive other messages. Rewording
// a doc comment does not change the hash; adding, removing, renaming or
// retyping a field, or changing a closed set of values, does. A message
// may join a version in a group of its own (on subjects of its own): the
// version's group keeps its hash.
func TestFrozen(t *testing.T) {
	groups := map[string]bool{}
	for _, m := range Messages() {
		groups[m.Group] = true
	}
	for group := range groups {
		s, err := GroupSchema(wireDir, group)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Hash(s)
		if err != nil {
			t.Fatal(err)
		}
		want, ok := Frozen[group]
		switch {
		case !ok || want == "":
			t.Errorf("message group %s has no recorded schema hash: add %q: %q to wireschema.Frozen", group, group, got)
		case got != want:
			t.Errorf("the schema of message group %s changed (hash %s, recorded %s): clients of %s would receive other messages. "+
				"Undo the change to package wire; add new messages in a group of their own, on subjects of their own; or make it a new version: "+
				"bump wire.Version (new subjects and paths, a new docs/wire/<version>.schema.json), record its hash in wireschema.Frozen, "+
				"and keep %s's entry as it is", group, got, want, group, group)
		}
	}
	for group := range Frozen {
		if !groups[group] {
			t.Errorf("message group %s is frozen but has no message any more: its clients would lose them", group)
		}
	}
	if !strings.HasPrefix(wire.Version, "v") || Frozen[wire.Version] == "" {
		t.Errorf("protocol %s has no frozen group of its own", wire.Version)
	}
}

// TestHash: the hash follows the structure, not the words.
func TestHash(t *testing.T) {
	s := generate(t)
	base, _ := Hash(s)
	job := s.Definitions["Job"]
	job.Description = "reworded"
	job.Properties.Value("id").Description = "reworded too"
	if h, _ := Hash(s); h != base {
		t.Error("rewording a description changed the hash")
	}
	job.Properties.Value("id").Type = "integer"
	if h, _ := Hash(s); h == base {
		t.Error("retyping a field kept the hash")
	}
	s = generate(t)
	s.Definitions["Job"].Required = append(s.Definitions["Job"].Required, "id")
	if h, _ := Hash(s); h == base {
		t.Error("requiring a field kept the hash")
	}
}

// TestSchemaValidates: the committed schema is a JSON Schema that accepts
// the messages of the documentation and refuses what the daemon refuses.
func TestSchemaValidates(t *testing.T) {
	v, err := NewValidator(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		def, msg string
		ok       bool
	}{
		{"Job", `{"id":"j1","task":{"instance_id":"x","environment":{"image":"img"},"test_command":"t","test_format":"pytest","timeout":"10m"},"candidates":[{"id":"a","patch":"diff"}],"options":{"policy":"auto","judge":true}}`, true},
		{"Job", `{"task":{"instance_id":"x","environment":{"repo":"/r"},"test_command":"t","test_format":"pytest","timeout":600},"candidates":[]}`, true},
		{"Job", `{"swebench":{"row":{"instance_id":"a"},"regression_tests":"p2p"},"candidates":[]}`, true},
		{"Job", `{"tsk":{},"candidates":[]}`, false}, // unknown field
		{"Job", `{"id":"j"}`, false},                 // no candidates
		{"Job", `{"task":{"instance_id":"x","environment":{},"test_command":"t","test_format":"pytest","timeout":"soon"},"candidates":[]}`, false}, // not a duration
		{"Job", `{"candidates":[],"options":{"execution":"some"}}`, false},                                                                         // not a value of execution
		{"Status", `{"job":"j","state":"running","submitted":"2026-11-22T03:50:11Z","runs_done":4}`, true},
		{"Status", `{"job":"j","state":"paused","submitted":"2026-11-22T03:50:11Z","runs_done":4}`, false},
		{"Status", `{"job":"j","state":"running","submitted":"yesterday","runs_done":4}`, false},
		{"Event", `{"kind":"run_finished","job":"j","time":"2026-11-22T03:50:14Z","run":"base/1","status":"completed","duration_seconds":2.31}`, true},
		{"ErrorReply", `{"code":"400","error":"invalid job"}`, true},
		{"ErrorReply", `{"code":"418","error":"teapot"}`, false},
	} {
		err := v.Validate(c.def, []byte(c.msg))
		if (err == nil) != c.ok {
			t.Errorf("%s %s: %v, want ok=%v", c.def, c.msg, err, c.ok)
		}
	}
}

// TestEveryFieldDocumented: every field of every message has a meaning in
// the reference.
func TestEveryFieldDocumented(t *testing.T) {
	s := generate(t)
	for name, def := range s.Definitions {
		if def.Description == "" {
			t.Errorf("type %s has no doc comment", name)
		}
		for pair := def.Properties.Oldest(); pair != nil; pair = pair.Next() {
			if strings.TrimSpace(pair.Value.Description) == "" {
				t.Errorf("%s.%s has no doc comment", name, pair.Key)
			}
		}
	}
	ref := Reference(s)
	for _, m := range Messages() {
		if !strings.Contains(ref, "#### "+heading(m.Name)) {
			t.Errorf("the reference has no section for %s", m.Name)
		}
	}
	// The reference's links point at its headings.
	for name := range s.Definitions {
		if strings.Contains(ref, "(#"+anchor(name)+")") && !strings.Contains(ref, "#### "+heading(name)) {
			t.Errorf("a link to %s has no heading", name)
		}
	}
}
