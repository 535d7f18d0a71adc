// Package swebench turns SWE-bench dataset rows into bestpatch tasks.
//
// A row in the public SWE-bench schema (the JSONL, JSON or Parquet files the
// datasets are published in) becomes a selector.Task with no hand editing:
// the instance image named as the harness names it, /testbed, the conda
// activation, and the test command, directives and output format of the
// row's repository and version (the spec table in specs.go, written from the
// public harness's MAP_REPO_VERSION_TO_SPECS).
//
// A selector must stay blind to the answer: nothing here reads a row's
// test_patch, patch or FAIL_TO_PASS. Regression tests are chosen by a Mode
// (related, p2p or all); docs/FORMATS.md says which fields each mode reads.
package swebench

import (
	"encoding/json"
	"fmt"
)

// Row is the part of a SWE-bench dataset instance that the derivation
// reads. The other columns of the public schema (patch, test_patch,
// FAIL_TO_PASS: the hidden answer; hints_text, created_at, ...) are not
// even decoded, so no code path can read them.
type Row struct {
	InstanceID string `json:"instance_id"`
	// Repo is "owner/name", e.g. "django/django".
	Repo string `json:"repo"`
	// Version keys the repository's spec table, e.g. "3.0".
	Version string `json:"version"`
	// BaseCommit is the commit the instance image holds at /testbed (under
	// the harness's own setup commit); it is reported, not checked out.
	BaseCommit       string `json:"base_commit"`
	ProblemStatement string `json:"problem_statement"`
	// PassToPass are tests that pass before and after the fix. Read only by
	// the p2p mode: the list is derived from the files of the hidden test
	// patch, which is why related is the default.
	PassToPass TestList `json:"PASS_TO_PASS"`
}

// TestList is a list of test names as a dataset writes it: a JSON-encoded
// string (`"[\"a\", \"b\"]"`, as in the published files) or a real list.
type TestList []string

// UnmarshalJSON accepts a list, a string holding a JSON list, or null.
func (l *TestList) UnmarshalJSON(b []byte) error {
	var list []string
	if err := json.Unmarshal(b, &list); err == nil {
		*l = list
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a list of test names or a string holding one as JSON: %w", err)
	}
	return l.parseString(s)
}

// parseString decodes the JSON-encoded form; "" is an empty list.
func (l *TestList) parseString(s string) error {
	if s == "" {
		*l = nil
		return nil
	}
	var list []string
	if err := json.Unmarshal([]byte(s), &list); err != nil {
		return fmt.Errorf("want a JSON list of test names in the string: %w", err)
	}
	*l = list
	return nil
}
