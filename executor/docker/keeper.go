package docker

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/bestpatch/bestpatch/executor"
)

// A reused container (Config.Reuse) is kept by its PID 1, a shell that
// reads runs from its stdin: each run is a block of script sent on the one
// attach connection the container has for its life. A run then costs the
// engine nothing, where a `docker exec` cost about 80 ms of the engine's
// CPU and 66 ms before the script's first line. The run's output comes on
// the container's own streams between two marks the keeper prints on
// stdout and on stderr, each holding a nonce of the run's: a start mark
// before the run, and after it an end mark with the run's exit status,
// printed once every other process in the container is gone.
//
// The nonce guards against output that happens to look like a mark, not
// against a hostile run: one that reads the keeper's memory or input
// (/proc/1, the same user's) can forge its end. Reused containers are for
// trusted candidates (docs/DOCKER.md).

// keeperCommand is a reused container's command: the shell that reads its
// runs on stdin, and exits (ending the container) when the connection
// closes.
var keeperCommand = []string{"/bin/sh", "-s"}

// keeperReap is what the keeper does after a run: kill every process but
// itself (PID 1, which the kernel spares), then wait until they are gone,
// reaping them (each external sleep makes the shell wait for children) for
// at most 2 s, so that nothing a run left behind writes after the end
// mark. $bp_left is how many were still there.
const keeperReap = `bp_code=$?
kill -9 -1 2>/dev/null
bp_n=0
while :; do
	bp_left=0
	for bp_p in /proc/[0-9]*; do [ "$bp_p" = /proc/1 ] || bp_left=$((bp_left + 1)); done
	if [ "$bp_left" = 0 ] || [ "$bp_n" -ge 200 ]; then break; fi
	bp_n=$((bp_n + 1))
	kill -9 -1 2>/dev/null
	sleep 0.01 2>/dev/null
done
`

// keeperInit is what a reused container's keeper reads first: the commit
// its work tree starts from, which every reset returns to (a run that
// commits or checks out moves HEAD, and a reset to HEAD would keep that),
// then the reset itself, as a fresh container's boot does (sandboxBoot):
// the container is made before its first run is known, so its first run
// skips run.sh's reset too. A failure here only leaves BP_CLEAN unset:
// run.sh then resets, and says what is wrong.
const keeperInit = "bp_base=$(git -c safe.directory='*' rev-parse --verify -q HEAD 2>/dev/null)\n" + keeperReset

// keeperReset is what the keeper does after a run, once its processes are
// gone: reset the work tree to the container's first commit and clean it,
// as run.sh's first step would, and export BP_CLEAN so that the next
// run's run.sh skips that step. $bp_dirty is 1 when it could not (a run
// left a stale index lock, say): that container serves no other run,
// which would otherwise fail for what this one left.
const keeperReset = `bp_dirty=1
unset BP_CLEAN
if [ -n "${bp_base:-}" ] \
	&& git -c safe.directory='*' reset -q --hard "$bp_base" >/dev/null 2>&1 \
	&& git -c safe.directory='*' clean -qfd >/dev/null 2>&1; then
	BP_CLEAN=1
	export BP_CLEAN
	bp_dirty=0
fi
`

// runMarks are the marks of one run in a reused container. The end mark
// starts with an ASCII record separator rather than a newline, so that it
// needs no line of its own (the run's last line may lack its newline) and
// a stream holds back only a trailing part that may begin it: a complete
// line of the run passes on when it arrives, which the step marks of a
// measured run rely on (RunTiming).
type runMarks struct {
	start []byte // a line
	end   []byte // the end mark's prefix, then "<status>:<processes left>:<dirty>\n"
}

// endMarkLead begins an end mark (runMarks).
const endMarkLead = "\x1e"

func newRunMarks() runMarks {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	nonce := hex.EncodeToString(b[:])
	return runMarks{
		start: []byte("bestpatch:run-start:" + nonce + "\n"),
		end:   []byte(endMarkLead + "bestpatch:run-end:" + nonce + ":"),
	}
}

// keeperRun is the script a reused container's keeper reads for one run:
// the start marks, then in a subshell with stdin closed (the tests never
// read the keeper's input, and the stage's own failures exit only the
// subshell) /tmp emptied (wholly when it is the container's own tmpfs, else
// the stage), the stage written and the container script run; then every
// process left killed, the work tree reset for the next run and the end
// marks.
func keeperRun(st executor.Stage, tmpfs bool, m runMarks) []byte {
	var b strings.Builder
	start := executor.ShellQuote(strings.TrimSuffix(string(m.start), "\n"))
	fmt.Fprintf(&b, "printf '%%s\\n' %s; printf '%%s\\n' %s >&2\n(\n", start, start)
	if tmpfs {
		b.WriteString("rm -rf " + tmpDir + "/* " + tmpDir + "/.[!.]* " + tmpDir + "/..?* 2>/dev/null\n")
	} else {
		b.WriteString("rm -rf " + executor.ShellQuote(stageDir) + "\n")
	}
	b.Write(stageScript(st))
	fmt.Fprintf(&b, "exec /bin/sh %s\n) </dev/null\n", executor.ShellQuote(stageDir+"/"+containerFile))
	b.WriteString(keeperReap)
	b.WriteString(keeperReset)
	end := executor.ShellQuote(string(m.end))
	fmt.Fprintf(&b, "printf '%%s%%s:%%s:%%s\\n' %s \"$bp_code\" \"$bp_left\" \"$bp_dirty\"; printf '%%s%%s:%%s:%%s\\n' %s \"$bp_code\" \"$bp_left\" \"$bp_dirty\" >&2\n", end, end)
	return []byte(b.String())
}

// runEnd is what a stream's end mark said, or why there was none.
type runEnd struct {
	code int // the container script's exit status
	left int // processes still there after the kill
	// dirty: the work tree could not be reset after the run.
	dirty bool
	err   error
}

// errKeeperGone is a reused container's streams ending before a run's end
// mark: its keeper exited or the container was killed.
var errKeeperGone = errors.New("the container's output ended before the run's end mark")

// runStream is one of a reused container's output streams (stdout or
// stderr), shared by the runs it serves one after another: it passes on to
// the current run's sink what the keeper printed between that run's marks,
// and counts the bytes outside any run (stray: a process left by a run that
// wrote after its end).
type runStream struct {
	mu      sync.Mutex
	pending []byte // bytes not yet passed on: they may start a mark
	cur     *streamRun
	stray   int
	gone    error // set when the stream ended
}

type streamRun struct {
	marks   runMarks
	sink    io.Writer
	started bool
	done    chan runEnd // buffered: one value
}

// begin makes the stream's next run the one marked by m, its output going
// to sink; the returned channel has its end.
func (s *runStream) begin(m runMarks, sink io.Writer) <-chan runEnd {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &streamRun{marks: m, sink: sink, done: make(chan runEnd, 1)}
	if s.gone != nil {
		r.done <- runEnd{err: s.gone}
		return r.done
	}
	s.cur = r
	return r.done
}

// strays returns the bytes seen outside any run so far.
func (s *runStream) strays() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stray
}

// Write takes the stream's next bytes; it never fails, so that the copy of
// a container's streams goes on whatever a run's sink does.
func (s *runStream) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = append(s.pending, p...)
	for {
		r := s.cur
		switch {
		case r == nil:
			s.stray += len(s.pending)
			s.pending = s.pending[:0]
			return len(p), nil
		case !r.started:
			i := bytes.Index(s.pending, r.marks.start)
			if i < 0 {
				// Keep what may be the start of the mark.
				keep := min(len(s.pending), len(r.marks.start)-1)
				s.stray += len(s.pending) - keep
				s.pending = append(s.pending[:0], s.pending[len(s.pending)-keep:]...)
				return len(p), nil
			}
			s.stray += i
			s.pending = append(s.pending[:0], s.pending[i+len(r.marks.start):]...)
			r.started = true
		default:
			i := bytes.Index(s.pending, r.marks.end)
			if i < 0 {
				if n := len(s.pending) - markBegun(s.pending, r.marks.end); n > 0 {
					_, _ = r.sink.Write(s.pending[:n])
					s.pending = append(s.pending[:0], s.pending[n:]...)
				}
				return len(p), nil
			}
			_, _ = r.sink.Write(s.pending[:i])
			s.pending = append(s.pending[:0], s.pending[i:]...)
			rest := s.pending[len(r.marks.end):]
			nl := bytes.IndexByte(rest, '\n')
			if nl < 0 {
				return len(p), nil // the rest of the mark is still to come
			}
			r.done <- parseRunEnd(string(rest[:nl]))
			s.cur = nil
			s.pending = append(s.pending[:0], rest[nl+1:]...)
		}
	}
}

// markBegun returns the length of the longest end of p that begins mark
// (short of all of it): what a stream must hold back until it knows.
func markBegun(p, mark []byte) int {
	for i := max(0, len(p)-(len(mark)-1)); i < len(p); i++ {
		if p[i] == mark[0] && bytes.HasPrefix(mark, p[i:]) {
			return len(p) - i
		}
	}
	return 0
}

// end records that the stream ended (err nil at EOF): the current run, if
// any, gets what it had printed and errKeeperGone.
func (s *runStream) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		err = errKeeperGone
	} else {
		err = fmt.Errorf("%w: %w", errKeeperGone, err)
	}
	s.gone = err
	if r := s.cur; r != nil {
		if r.started {
			_, _ = r.sink.Write(s.pending)
		}
		r.done <- runEnd{err: err}
		s.cur = nil
	}
	s.pending = nil
}

// parseRunEnd reads an end mark's "<status>:<processes left>:<dirty>".
func parseRunEnd(s string) runEnd {
	code, rest, _ := strings.Cut(s, ":")
	left, dirty, _ := strings.Cut(rest, ":")
	c, err1 := strconv.Atoi(code)
	l, err2 := strconv.Atoi(left)
	d, err3 := strconv.Atoi(dirty)
	if err := errors.Join(err1, err2, err3); err != nil {
		return runEnd{err: fmt.Errorf("a reused container's end mark %q: %w", s, err)}
	}
	return runEnd{code: c, left: l, dirty: d != 0}
}
