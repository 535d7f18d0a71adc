package executor

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Size caps of a collector. Whatever a run prints, a collector holds at most
// about MaxLine + 2*ExcerptHalf bytes of it, plus the parsed cases.
const (
	// MaxLine is the longest output line handed to a parser; the rest of a
	// longer line is dropped (it still counts in the excerpt's size).
	MaxLine = 1 << 20
	// ExcerptHalf is the size of both the head and the tail of the output
	// kept in Result.Output.
	ExcerptHalf = 32 << 10
	// scriptLogHalf is the same for the script's own stderr lines (git's
	// complaints), quoted in a failed run's Reason.
	scriptLogHalf = 2 << 10
)

// outputParser reads one test-output format incrementally.
type outputParser interface {
	// line takes one output line without its newline; truncated says the
	// line was longer than MaxLine and was cut.
	line(line []byte, truncated bool)
	// finish returns the cases and broken units once the output has ended.
	// An error says the output was not read in full (the runner reported
	// more tests than the parser found): the cases are not evidence then.
	// It names the format and what to change.
	finish() (cases []Case, broken []string, err error)
}

// fileNamer is a parser that can tell which source files the errors of
// broken units name (Result.BrokenFiles).
type fileNamer interface {
	brokenFiles() []string
}

// noOutputParser is the stdout parser of a format whose results come from a
// report file.
type noOutputParser struct{}

func (noOutputParser) line([]byte, bool)                 {}
func (noOutputParser) finish() ([]Case, []string, error) { return nil, nil, nil }

// Collector turns the streams of one run of run.sh into a Result: its stdout
// (test output, parsed as it arrives), its stderr ("bestpatch:" markers and
// git's messages) and, for a format that reads a report (junit), the report file. Memory stays
// bounded whatever the size of the streams.
//
// Write the streams through Stdout and Stderr (each from at most one
// goroutine at a time; the two may be written concurrently), pass the report
// to ReadReport if the format reads a report, then call Result once.
type Collector struct {
	format  *FormatSpec
	timeout string // the script's limit, for the reason of a timeout
	report  string
	undone  []string // test files dropped from the candidate (Result.Restored)

	// stdout side
	output    excerpt
	outLines  *LineSplitter
	parser    outputParser
	outWriter io.Writer

	// stderr side
	errLines  *LineSplitter
	scriptLog excerpt
	marks     markers

	// report side
	reportRead  bool
	reportCases []Case
	reportErr   error
}

// markers are the "bestpatch:" lines run.sh wrote on stderr.
type markers struct {
	infra         string
	applied       string
	applyFailed   bool
	refused       string
	empty         bool
	tree          string
	testsApplied  map[string]bool
	timedOut      bool
	exitSeen      bool
	exitCode      int
	reportMissing bool
	// stamps are when each phase's end mark arrived, when the script was
	// asked for them (BP_TIMES).
	stamps map[string]time.Time
}

// NewCollector returns a collector for a run of stage st in format f.
func NewCollector(f Format, st Stage) (*Collector, error) {
	spec, err := f.Spec()
	if err != nil {
		return nil, err
	}
	c := &Collector{
		format:    spec,
		timeout:   st.Timeout.String(),
		report:    st.Report,
		undone:    st.Undone,
		output:    excerpt{headMax: ExcerptHalf, tailMax: ExcerptHalf},
		scriptLog: excerpt{headMax: scriptLogHalf, tailMax: scriptLogHalf},
	}
	c.parser = noOutputParser{}
	if !spec.ReadsReport() {
		c.parser = spec.newParser()
	}
	c.outLines = NewLineSplitter(MaxLine, c.parser.line)
	c.outWriter = io.MultiWriter(&c.output, c.outLines)
	c.errLines = NewLineSplitter(MaxLine, c.markerLine)
	return c, nil
}

// Stdout is where the script's stdout goes. Writes never fail.
func (c *Collector) Stdout() io.Writer { return c.outWriter }

// Stderr is where the script's stderr goes. Writes never fail.
func (c *Collector) Stderr() io.Writer { return c.errLines }

// ReadReport parses the report (JUnit XML) the script copied to ReportFile. A
// report that cannot be read or parsed makes the run Infra.
func (c *Collector) ReadReport(r io.Reader) {
	c.reportRead = true
	c.reportCases, c.reportErr = parseJUnit(r, MaxReportSize)
}

func (c *Collector) markerLine(line []byte, _ bool) {
	s, ok := strings.CutPrefix(toValidUTF8(line), "bestpatch:")
	if !ok {
		c.scriptLog.Write(line)
		c.scriptLog.Write([]byte{'\n'})
		return
	}
	key, val, _ := strings.Cut(s, "=")
	m := &c.marks
	switch key {
	case "infra":
		m.infra = val
	case "apply":
		if val == "failed" {
			m.applyFailed = true
		} else {
			m.applied = applyMethods[val]
			if m.applied == "" {
				m.applied = val
			}
		}
	case "refused":
		m.refused = val
	case "empty":
		m.empty = true
	case "tree":
		m.tree = val
	case "test-apply":
		state, id, _ := strings.Cut(val, " ")
		if m.testsApplied == nil {
			m.testsApplied = map[string]bool{}
		}
		m.testsApplied[id] = state == "ok"
	case "timeout":
		m.timedOut = true
	case "exit":
		if n, err := strconv.Atoi(val); err == nil {
			m.exitSeen, m.exitCode = true, n
		}
	case "report":
		m.reportMissing = strings.HasPrefix(val, "missing")
	case "t":
		if m.stamps == nil {
			m.stamps = map[string]time.Time{}
		}
		m.stamps[val] = time.Now()
	}
}

// applyMethods names run.sh's apply methods the way Result.Applied reports them.
var applyMethods = map[string]string{
	"git-apply":         "git apply",
	"git-apply-recount": "git apply --recount",
	"patch-fuzz":        "patch --fuzz",
}

// Stamps are when the end mark of each phase the script marked (only when
// asked to: BP_TIMES) arrived, by phase; nil if none. The marks come on
// the script's stderr as it runs, so a phase's time is the gap between two
// of them. Valid once Result was called.
func (c *Collector) Stamps() map[string]time.Time { return c.marks.stamps }

// Result ends the streams and classifies the run. Duration is left to the
// backend.
func (c *Collector) Result() Result {
	c.outLines.Close()
	c.errLines.Close()
	m := c.marks
	res := Result{
		Status:       Completed,
		Applied:      m.applied,
		Tree:         m.tree,
		TestsApplied: m.testsApplied,
		Restored:     c.undone,
		ExitCode:     m.exitCode,
		Output:       c.output.String(),
	}
	var parseErr error
	res.Cases, res.Broken, parseErr = c.parser.finish()
	if n, ok := c.parser.(fileNamer); ok && len(res.Broken) > 0 {
		res.BrokenFiles = n.brokenFiles()
	}
	if c.format.ReadsReport() {
		res.Cases = c.reportCases
	}
	log := strings.TrimSpace(c.scriptLog.String())
	withLog := func(s string) string {
		if log == "" {
			return s
		}
		return s + "\n" + log
	}
	switch {
	case m.infra != "":
		res.Status, res.Reason = Infra, withLog("the run script failed: "+m.infra)
	case m.refused != "":
		res.Status, res.Reason = ApplyFailed, "the patch was refused before it was applied: "+m.refused
	case m.applyFailed:
		res.Status, res.Reason = ApplyFailed, withLog("the patch does not apply (tried git apply, git apply --recount --ignore-whitespace, patch --fuzz=5):")
	case m.empty:
		res.Status, res.Reason = EmptyPatch, "the patch applies but changes nothing"
	case m.timedOut:
		res.Status, res.Reason = TimedOut, "the test command ran past the run's timeout ("+c.timeout+") and was killed"
	case !m.exitSeen:
		res.Status, res.Reason = Infra, withLog("the run script stopped before the test command finished (killed, out of memory, or the sandbox died)")
	case c.format.ReadsReport() && m.reportMissing:
		res.Status, res.Reason = Infra, fmt.Sprintf("the test command wrote no JUnit report at %s: check test_command and junit_report", c.report)
	case c.format.ReadsReport() && !c.reportRead:
		res.Status, res.Reason = Infra, "the JUnit report was not collected from the sandbox"
	case c.format.ReadsReport() && c.reportErr != nil:
		res.Status, res.Reason = Infra, "the JUnit report at "+c.report+" cannot be read: "+c.reportErr.Error()
	case parseErr != nil:
		res.Status, res.Reason = Infra, parseErr.Error()
	case len(res.Cases) == 0 && len(res.Broken) == 0:
		res.Status, res.Reason = Infra, fmt.Sprintf("no test results in the output: check test_command and test_format (%s); the command exited with status %d", c.format.Name, m.exitCode)
	}
	return res
}

// toValidUTF8 turns bytes of any encoding into valid text.
func toValidUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// formatBytes writes a byte count for humans.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
