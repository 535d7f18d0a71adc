package wireschema

import (
	"bytes"
	"fmt"
	"os"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Validator checks messages against a schema file, as a client that
// validates what it receives would: tests use it on the messages a real
// daemon sends. It uses github.com/santhosh-tekuri/jsonschema, a validator
// that passes the JSON Schema test suite for draft 2020-12.
type Validator struct {
	compiler *jsonschema.Compiler
	byDef    map[string]*jsonschema.Schema
}

// NewValidator reads the schema at path (docs/wire/v1.schema.json).
func NewValidator(path string) (*Validator, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(SchemaID, doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := c.Compile(SchemaID); err != nil {
		return nil, fmt.Errorf("%s is not a valid JSON Schema: %w", path, err)
	}
	return &Validator{compiler: c, byDef: map[string]*jsonschema.Schema{}}, nil
}

// Validate checks a message against the definition def (Job, Outcome, ...).
// Not safe for concurrent use.
func (v *Validator) Validate(def string, data []byte) error {
	s, ok := v.byDef[def]
	if !ok {
		var err error
		if s, err = v.compiler.Compile(SchemaID + "#/$defs/" + def); err != nil {
			return fmt.Errorf("definition %s: %w", def, err)
		}
		v.byDef[def] = s
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s: not JSON: %w", def, err)
	}
	if err := s.Validate(doc); err != nil {
		return fmt.Errorf("%s: %w", def, err)
	}
	return nil
}
