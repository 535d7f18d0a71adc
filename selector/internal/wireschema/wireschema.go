// Package wireschema generates the JSON Schema of the daemon's protocol
// (package wire) and the field reference of docs/DAEMON.md from the wire
// types and their doc comments, so that neither is written by hand.
//
// The schema comes from github.com/invopop/jsonschema, which reflects Go
// types with their json tags (a field without omitempty is required) and
// takes descriptions from a comment map; the comments are read here with
// go/doc. Closed sets of values are the wire types with a Values method.
package wireschema

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/invopop/jsonschema"

	"github.com/bestpatch/bestpatch/selector/wire"
)

// Frozen holds, per released group of messages, the hash of its schema's
// structure (Hash of GroupSchema): what a client of those messages relies
// on. A group's entry never changes; a change to its messages is a new
// version. A group is a protocol version as released ("v1"), or messages
// that joined a version later on subjects of their own, changing none it
// had ("v1/stream": open jobs): a client of the version is not affected,
// and the new messages are frozen from then on.
var Frozen = map[string]string{
	"v1":        "96859e264a0ae4f2961bbd5e7cfa999bfad6aa0ffb2ac0cb04e8cbb4e9a87ae2",
	"v1/stream": "ae14668e4d30d84410eec9a0d5c5d7accbb785af290f64c8ae9593b678883cc9",
}

// Message is one top-level message of the protocol.
type Message struct {
	// Name is its definition's name in the schema.
	Name string
	// Input is true for what clients send.
	Input bool
	// Where says on which subjects or paths it travels.
	Where string
	// Group is the group of messages it was released with (Frozen).
	Group string
	value any
}

// Messages are the protocol's messages, in the order the reference lists
// them.
func Messages() []Message {
	v1, stream := wire.Version, wire.Version+"/stream"
	return []Message{
		{"Job", true, "the body of `" + wire.SubmitSubject + "` and `POST /" + wire.Version + "/jobs`", v1, wire.Job{}},
		{"JobRequest", true, "the body of `" + wire.StatusSubject + "` and `" + wire.CancelSubject + "`", v1, wire.JobRequest{}},
		{"SubmitReply", false, "the reply to a submit and to an open", v1, wire.SubmitReply{}},
		{"Status", false, "the reply to status and cancel; `GET /" + wire.Version + "/jobs/{id}`", v1, wire.Status{}},
		{"Outcome", false, "published on `" + wire.VerdictSubject("ID") + "`; the reply to a waiting submit", v1, wire.Outcome{}},
		{"Event", false, "published on `" + wire.EventsSubject("ID") + "`; `GET /" + wire.Version + "/jobs/{id}/events`", v1, wire.Event{}},
		{"ErrorReply", false, "the body of every error reply", v1, wire.ErrorReply{}},
		{"OpenJob", true, "the body of `" + wire.OpenSubject + "`", stream, wire.OpenJob{}},
		{"Append", true, "the body of `" + wire.AppendSubject("ID") + "`", stream, wire.Append{}},
		{"AppendReply", false, "the reply to an append", stream, wire.AppendReply{}},
		{"Standing", false, "published on `" + wire.StandingSubject("ID") + "`, kept in stream `" + wire.StandingStream + "`", stream, wire.Standing{}},
	}
}

// SchemaID is the schema's $id.
const SchemaID = "https://github.com/bestpatch/bestpatch/blob/main/docs/wire/" + wire.Version + ".schema.json"

// Generate returns the protocol's JSON Schema: every message and the types
// they hold under $defs, the root matching any message. srcDir is package
// wire's source directory, whose doc comments become the descriptions.
func Generate(srcDir string) (*jsonschema.Schema, error) {
	return generateSchema(srcDir, func(Message) bool { return true })
}

// GroupSchema is the schema of one group's messages alone (Frozen).
func GroupSchema(srcDir, group string) (*jsonschema.Schema, error) {
	return generateSchema(srcDir, func(m Message) bool { return m.Group == group })
}

func generateSchema(srcDir string, keep func(Message) bool) (*jsonschema.Schema, error) {
	comments, err := readComments(srcDir)
	if err != nil {
		return nil, err
	}
	r := &jsonschema.Reflector{
		Anonymous:     true,
		Mapper:        mapType,
		LookupComment: comments.lookup,
	}
	defs := jsonschema.Definitions{}
	root := &jsonschema.Schema{
		Version: jsonschema.Version,
		ID:      SchemaID,
		Title:   "bestpatch daemon protocol " + wire.Version,
		Description: "The messages of the bestpatch daemon's NATS service and HTTP gateway, protocol " + wire.Version +
			" (docs/DAEMON.md). Generated from package selector/wire by `go generate ./selector/wire`; do not edit.",
		Definitions: defs,
	}
	for _, m := range Messages() {
		if !keep(m) {
			continue
		}
		s := r.Reflect(m.value)
		for name, d := range s.Definitions {
			defs[name] = d
		}
		root.AnyOf = append(root.AnyOf, &jsonschema.Schema{Ref: "#/$defs/" + m.Name})
		nullItems(defs, reflect.TypeOf(m.value), map[reflect.Type]bool{})
	}
	return root, nil
}

// nullItems lets the items of a slice of pointers be null, as
// encoding/json writes a nil pointer; the reflector describes only the
// pointed-to type.
func nullItems(defs jsonschema.Definitions, t reflect.Type, seen map[reflect.Type]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return
	}
	seen[t] = true
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Pointer && defs[t.Name()] != nil {
			if p, ok := defs[t.Name()].Properties.Get(name); ok && p.Items != nil {
				p.Items = &jsonschema.Schema{AnyOf: []*jsonschema.Schema{p.Items, {Type: "null"}}}
			}
		}
		nullItems(defs, f.Type, seen)
	}
}

// enumerated is a wire type with a closed set of values.
type enumerated interface{ Values() []string }

var enumType = reflect.TypeFor[enumerated]()

// mapType gives the schema of the wire types that encoding/json does not
// write as their Go kind says.
func mapType(t reflect.Type) *jsonschema.Schema {
	switch {
	case t == reflect.TypeFor[wire.Duration]():
		return &jsonschema.Schema{OneOf: []*jsonschema.Schema{
			{Type: "string", Description: `a Go duration: "90s", "10m", "1h30m"`, Pattern: `^(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$`},
			{Type: "number", Description: "seconds", Minimum: json.Number("0")},
		}}
	case t == reflect.TypeFor[json.RawMessage]():
		return &jsonschema.Schema{Type: "object"}
	case t.Kind() == reflect.String && t.Implements(enumType):
		values := reflect.Zero(t).Interface().(enumerated).Values()
		s := &jsonschema.Schema{Type: "string"}
		for _, v := range values {
			s.Enum = append(s.Enum, v)
		}
		return s
	}
	return nil
}

// comments are the doc comments of package wire: by type name, and by type
// and field name ("Job.ID").
type comments map[string]string

// readComments reads the doc comments of the package in dir.
func readComments(dir string) (comments, error) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("wireschema: read %s: %w", dir, err)
	}
	var files []*ast.File
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("wireschema: %w", err)
		}
		if f.Name.Name == "wire" {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("wireschema: no package wire in %s", dir)
	}
	d, err := doc.NewFromFiles(fset, files, "github.com/bestpatch/bestpatch/selector/wire", doc.PreserveAST)
	if err != nil {
		return nil, fmt.Errorf("wireschema: %w", err)
	}
	out := comments{}
	for _, t := range d.Types {
		out[t.Name] = oneParagraph(t.Doc)
		for _, spec := range t.Decl.Specs {
			ts, ok := spec.(*ast.TypeSpec)
			if !ok {
				continue
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			for _, f := range st.Fields.List {
				text := f.Doc.Text()
				if text == "" {
					text = f.Comment.Text()
				}
				for _, name := range f.Names {
					out[t.Name+"."+name.Name] = fieldDoc(name.Name, jsonName(f), oneParagraph(text))
				}
			}
		}
	}
	return out, nil
}

func (c comments) lookup(t reflect.Type, field string) string {
	if field == "" {
		return c[t.Name()]
	}
	return c[t.Name()+"."+field]
}

// jsonName is a field's name in JSON.
func jsonName(f *ast.Field) string {
	if f.Tag == nil || len(f.Names) == 0 {
		return ""
	}
	tag := reflect.StructTag(strings.Trim(f.Tag.Value, "`"))
	name, _, _ := strings.Cut(tag.Get("json"), ",")
	if name == "" {
		return f.Names[0].Name
	}
	return name
}

// fieldDoc turns a Go field comment into a description of the JSON field:
// "Job is the job's ID." becomes "The job's ID.", and "Timeout bounds..."
// becomes "`timeout` bounds...".
func fieldDoc(goName, jsonName, text string) string {
	for _, verb := range []string{" is ", " are "} {
		if rest, ok := strings.CutPrefix(text, goName+verb); ok {
			r, n := utf8.DecodeRuneInString(rest)
			return string(unicode.ToUpper(r)) + rest[n:]
		}
	}
	if rest, ok := strings.CutPrefix(text, goName+","); ok {
		return "`" + jsonName + "`," + rest
	}
	if rest, ok := strings.CutPrefix(text, goName+" "); ok {
		return "`" + jsonName + "` " + rest
	}
	return text
}

// oneParagraph joins a comment's lines into one line per paragraph.
func oneParagraph(text string) string {
	paras := strings.Split(strings.TrimSpace(text), "\n\n")
	for i, p := range paras {
		paras[i] = strings.Join(strings.Fields(p), " ")
	}
	return strings.Join(paras, " ")
}

// JSON is the schema as written to docs/wire: indented, with a newline at
// the end.
func JSON(s *jsonschema.Schema) ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Hash is the hash of the schema's structure: its types, properties,
// required fields and values, without descriptions, titles and examples,
// so that rewording a doc comment keeps it and changing what a client
// receives does not.
func Hash(s *jsonschema.Schema) (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	canonical, err := json.Marshal(structure(v)) // maps are written with sorted keys
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:]), nil
}

// structure drops the keywords that only document.
func structure(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			switch k {
			case "description", "title", "examples", "$comment":
				// Under "properties" these are field names, not keywords.
				if _, isKeyword := e.(string); isKeyword || k == "examples" {
					continue
				}
			}
			out[k] = structure(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = structure(e)
		}
		return out
	}
	return v
}
