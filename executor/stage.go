package executor

import (
	"archive/tar"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bestpatch/bestpatch/scoring"
)

// runScript is the script every backend runs; see run.sh's header.
//
//go:embed run.sh
var runScript []byte

// DefaultTimeout bounds the test command of a Run whose Timeout is zero.
const DefaultTimeout = 30 * time.Minute

// ReportFile is where run.sh copies the JUnit report, relative to $BP_DIR.
const ReportFile = "report.xml"

// StagedFile is one file of a run's input directory ($BP_DIR).
type StagedFile struct {
	// Path is slash-separated and relative to $BP_DIR.
	Path string
	Mode fs.FileMode
	Data []byte
}

// Stage is everything a backend copies into a sandbox to run one Run: the
// files of $BP_DIR and the script's settings. It is built once per run and
// written either to a directory (Local) or into a tar stream (Docker).
type Stage struct {
	Files []StagedFile
	// Timeout is the script's limit for the test command.
	Timeout time.Duration
	// Report is the JUnit report path the script copies to ReportFile
	// (relative to the repository root); empty unless the format reads a
	// report.
	Report string
	// Undone lists the test files the candidate added, changed, renamed or
	// deleted: their entries were dropped from the patch before it was
	// staged, so they are undone by construction (Result.Restored).
	Undone []string
	// settled is the result of a run decided before any sandbox: a refused
	// candidate, or one that changed nothing but test files.
	settled *Result
}

// Settled returns the result of a run that needs no sandbox, decided when the
// candidate was vetted: refused (apply_failed, saying why), or changing only
// test files (empty). Backends return it as is.
func (s Stage) Settled() (Result, bool) {
	if s.settled == nil {
		return Result{}, false
	}
	return *s.settled, true
}

// NewStage validates a run, vets its candidate patch (vetPatch: the checks
// that need no repository) and lays out its $BP_DIR. The candidate is staged
// as re-serialized by the vetting, without its test files, so the sandbox
// applies exactly what was checked; the paths it touches are staged in
// "touched" ("F path" or "L path", L for an entry that treats the path as a
// symbolic link) for run.sh to check against the repository's own links.
// Test patches are staged as tests/NNNN.patch with their IDs in
// tests/NNNN.id, numbered in run order so that the script's glob applies
// them in that order.
func NewStage(run Run) (Stage, error) {
	if err := run.Validate(); err != nil {
		return Stage{}, err
	}
	st := Stage{Timeout: run.Timeout}
	if st.Timeout <= 0 {
		st.Timeout = DefaultTimeout
	}
	add := func(name string, mode fs.FileMode, data []byte) {
		st.Files = append(st.Files, StagedFile{Path: name, Mode: mode, Data: data})
	}
	add("run.sh", 0o755, runScript)
	add("command", 0o644, []byte(run.Command+"\n"))
	if run.Patch != "" {
		v, err := vetPatch(withNewline(run.Patch), scoring.NewTestFiles(run.TestFiles...).Match)
		switch {
		case err != nil:
			st.settled = &Result{Status: ApplyFailed, Reason: "the patch was refused before it was applied: " + err.Error()}
		case v.patch == "":
			st.Undone = v.undone
			st.settled = &Result{Status: EmptyPatch, Restored: v.undone, Reason: "the patch changes only test files, which were dropped: nothing is left to test"}
		default:
			st.Undone = v.undone
			add("candidate.patch", 0o644, []byte(v.patch))
			var touched strings.Builder
			for _, t := range v.touched {
				kind := "F"
				if t.link {
					kind = "L"
				}
				touched.WriteString(kind + " " + t.path + "\n")
			}
			add("touched", 0o644, []byte(touched.String()))
		}
	}
	for i, t := range run.Tests {
		n := fmt.Sprintf("tests/%04d", i)
		add(n+".patch", 0o644, []byte(withNewline(t.Patch)))
		add(n+".id", 0o644, []byte(t.ID))
	}
	if run.Env.Activate != "" {
		add("activate", 0o644, []byte(run.Env.Activate))
	}
	if spec, _ := run.Format.Spec(); spec.ReadsReport() {
		st.Report = run.Report
	}
	return st, nil
}

// withNewline ends a patch with a newline: git apply rejects a last hunk
// line without one ("corrupt patch"), and go-gitdiff would read it as a line
// that ends the file without one.
func withNewline(s string) string {
	if s == "" || strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}

// Env returns the script's environment variables for a stage written at dir
// (the path of $BP_DIR as the script sees it).
func (s Stage) Env(dir string) []string {
	secs := int64(math.Ceil(s.Timeout.Seconds()))
	env := []string{"BP_DIR=" + dir, "BP_TIMEOUT=" + strconv.FormatInt(secs, 10)}
	if s.Report != "" {
		env = append(env, "BP_REPORT="+s.Report)
	}
	return env
}

// WriteDir writes the stage's files under dir, which must exist.
func (s Stage) WriteDir(dir string) error {
	for _, f := range s.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("stage run inputs in %s: %w", dir, err)
		}
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			return fmt.Errorf("stage run inputs in %s: %w", dir, err)
		}
	}
	return nil
}

// Tar returns the stage as an uncompressed tar stream whose entries sit
// under prefix (slash-separated, relative; "" for the top), directories
// included, ready for Docker's CopyToContainer.
func (s Stage) Tar(prefix string) (*bytes.Reader, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	var mkdir func(d string) error
	mkdir = func(d string) error {
		if d == "." || d == "" || d == "/" || dirs[d] {
			return nil
		}
		if err := mkdir(path.Dir(d)); err != nil {
			return err
		}
		dirs[d] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, Format: tar.FormatPAX})
	}
	prefix = strings.Trim(prefix, "/")
	for _, f := range s.Files {
		name := path.Join(prefix, f.Path)
		if err := mkdir(path.Dir(name)); err != nil {
			return nil, fmt.Errorf("tar run inputs: %w", err)
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: int64(f.Mode.Perm()), Size: int64(len(f.Data)), Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("tar run inputs: %w", err)
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, fmt.Errorf("tar run inputs: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("tar run inputs: %w", err)
	}
	return bytes.NewReader(buf.Bytes()), nil
}

// Validate reports what is wrong with a run before any backend touches it.
// These are caller mistakes, not environment failures.
func (r Run) Validate() error {
	var errs []error
	if strings.TrimSpace(r.Command) == "" {
		errs = append(errs, errors.New("the test command is empty: set the run's command"))
	}
	switch spec, err := r.Format.Spec(); {
	case err != nil:
		errs = append(errs, err)
	case spec.ReadsReport() && r.Report == "":
		errs = append(errs, fmt.Errorf("format %q needs the report path the test command writes: set the run's report", r.Format))
	case !spec.ReadsReport() && r.Report != "":
		errs = append(errs, fmt.Errorf("a report path (%q) is set but format %q reads the test output, not a report: drop the report or use format %q", r.Report, r.Format, JUnit))
	}
	if r.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %s is negative: use a positive duration or 0 for the default (%s)", r.Timeout, DefaultTimeout))
	}
	seen := map[string]bool{}
	for i, t := range r.Tests {
		switch {
		case t.ID == "" || strings.ContainsAny(t.ID, "\n\r"):
			errs = append(errs, fmt.Errorf("test patch %d has an empty or multi-line ID %q: give every test patch a one-line ID", i, t.ID))
		case seen[t.ID]:
			errs = append(errs, fmt.Errorf("test patch ID %q is used twice: test patch IDs must be unique", t.ID))
		}
		seen[t.ID] = true
		if strings.TrimSpace(t.Patch) == "" {
			errs = append(errs, fmt.Errorf("test patch %q is empty: drop it or give it a diff", t.ID))
		}
		if len(t.Patch) > MaxPatchBytes {
			errs = append(errs, fmt.Errorf("test patch %q is %d bytes, over the limit of %d bytes (%s) for a patch: split the test artifact or leave it out", t.ID, len(t.Patch), MaxPatchBytes, formatBytes(MaxPatchBytes)))
		}
	}
	for _, p := range r.TestFiles {
		if strings.ContainsAny(p, "\n\r") {
			errs = append(errs, fmt.Errorf("test file pattern %q spans lines: use one pattern per entry", p))
		}
	}
	for k := range r.Env.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			errs = append(errs, fmt.Errorf("environment variable name %q is not valid: names are non-empty and hold no '='", k))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid run: %w", errors.Join(errs...))
	}
	return nil
}
