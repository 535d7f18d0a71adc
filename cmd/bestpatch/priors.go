package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/bestpatch/bestpatch/scoring"
)

// registerPriors adds --priors to select and batch.
func registerPriors(f *pflag.FlagSet, path *string) {
	f.StringVar(path, "priors", "", "reliability priors (JSON, from bestpatch eval --fit-priors): each candidate gets its model's prior for the task's repository, which policy auto weighs; a candidate's own \"prior\" field wins")
}

// applyPriors reads the priors file (none when path is empty) and sets the
// prior of every candidate that has none, by model and the instance's
// repository.
func applyPriors(path string, byInstance map[string][]scoring.Candidate) error {
	p, err := loadPriors(path)
	if err != nil || p == nil {
		return err
	}
	for id, cands := range byInstance {
		byInstance[id] = p.Apply(cands, scoring.RepoOf(id))
	}
	return nil
}

// loadPriors reads and checks a priors file; nil when path is empty.
func loadPriors(path string) (*scoring.Priors, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--priors: %w", err)
	}
	var p scoring.Priors
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("--priors %s: not a priors file (bestpatch eval --fit-priors writes one): %w", path, err)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("--priors %s: %w", path, err)
	}
	return &p, nil
}
