// Command gen writes the protocol's JSON Schema to docs/wire, its field
// reference into docs/DAEMON.md, and the signal table of the scoring
// registry into docs/SCORING.md. Run it with `go generate ./selector/wire`
// (from package wire's directory).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/bestpatch/bestpatch/selector/internal/wireschema"
	"github.com/bestpatch/bestpatch/selector/wire"
)

func main() {
	if err := run("."); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// run generates from package wire in dir.
func run(dir string) error {
	s, err := wireschema.Generate(dir)
	if err != nil {
		return err
	}
	docs := filepath.Join(dir, "..", "..", "docs")
	js, err := wireschema.JSON(s)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(docs, "wire", wire.Version+".schema.json"), js, 0o644); err != nil {
		return err
	}
	daemon := filepath.Join(docs, "DAEMON.md")
	doc, err := os.ReadFile(daemon)
	if err != nil {
		return err
	}
	out, err := wireschema.Splice(doc, wireschema.Reference(s))
	if err != nil {
		return fmt.Errorf("%s: %w", daemon, err)
	}
	if err := os.WriteFile(daemon, out, 0o644); err != nil {
		return err
	}
	scoring := filepath.Join(docs, "SCORING.md")
	if doc, err = os.ReadFile(scoring); err != nil {
		return err
	}
	if out, err = wireschema.SpliceSignals(doc); err != nil {
		return fmt.Errorf("%s: %w", scoring, err)
	}
	return os.WriteFile(scoring, out, 0o644)
}
