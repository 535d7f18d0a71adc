package executor

import (
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

	"github.com/bestpatch/bestpatch/executor/testfile"
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
		v, err := vetPatch(withNewline(run.Patch), testfile.NewMatcher(run.TestFiles...).Match)
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

// Script returns a POSIX sh script that writes the stage's files under
// dir (made if missing; files of an earlier stage are not removed), byte
// for byte: each file's content is one quoted
// printf %b argument with only backslashes, NUL bytes and single quotes
// escaped. A file that cannot be written stops the script with an infra
// marker. The Docker backend sends it on a container's stdin.
func (s Stage) Script(dir string) []byte {
	var b bytes.Buffer
	q := ShellQuote
	fmt.Fprintf(&b, "fail() { printf 'bestpatch:infra=%%s\\n' %s >&2; exit 3; }\n", q("cannot write the run's inputs in "+dir+": the directory must be writable by the run's user"))
	b.WriteString("command -v mkdir >/dev/null 2>&1 || { printf 'bestpatch:infra=%s\\n' 'missing tools: mkdir: the run'\\''s inputs are written with mkdir; install coreutils in the image' >&2; exit 3; }\n")
	fmt.Fprintf(&b, "umask 022\nmkdir -p %s || fail\n", q(dir))
	made := map[string]bool{".": true}
	for _, f := range s.Files {
		if d := path.Dir(f.Path); !made[d] {
			made[d] = true
			fmt.Fprintf(&b, "mkdir -p %s || fail\n", q(path.Join(dir, d)))
		}
		name := q(path.Join(dir, f.Path))
		b.WriteString("printf %b '")
		for _, c := range f.Data {
			switch c {
			case '\\':
				b.WriteString(`\\`)
			case 0:
				b.WriteString(`\0000`)
			case '\'':
				b.WriteString(`'\''`)
			default:
				b.WriteByte(c)
			}
		}
		fmt.Fprintf(&b, "' >%s || fail\n", name)
		if f.Mode.Perm()&0o111 != 0 {
			fmt.Fprintf(&b, "chmod %o %s || fail\n", f.Mode.Perm(), name)
		}
	}
	return b.Bytes()
}

// ShellQuote quotes s for POSIX sh.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
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
