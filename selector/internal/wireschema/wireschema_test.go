package wireschema

import (
	"os"
	"strings"
	"testing"

	"github.com/invopop/jsonschema"

	"github.com/bestpatch/bestpatch/selector/wire"
)

const (
	wireDir    = "../../wire"
	schemaFile = "../../../docs/wire/" + wire.Version + ".schema.json"
	daemonDoc  = "../../../docs/DAEMON.md"
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
}

// TestFrozen fails when the schema of a released version changes: a client
// written for it would receive other messages. Rewording a doc comment
// does not change the hash; adding, removing, renaming or retyping a field,
// or changing a closed set of values, does.
func TestFrozen(t *testing.T) {
	got, err := Hash(generate(t))
	if err != nil {
		t.Fatal(err)
	}
	want, ok := Frozen[wire.Version]
	switch {
	case !ok:
		t.Fatalf("protocol %s has no recorded schema hash: add %q: %q to wireschema.Frozen", wire.Version, wire.Version, got)
	case got != want:
		t.Fatalf("the schema of protocol %s changed (hash %s, recorded %s): clients of %s would receive other messages. "+
			"Undo the change to package wire, or make it a new version: bump wire.Version (new subjects and paths, a new "+
			"docs/wire/<version>.schema.json), record its hash in wireschema.Frozen, and keep %s's entry as it is", wire.Version, got, want, wire.Version, wire.Version)
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
