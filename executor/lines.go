package executor

import "bytes"

// LineSplitter is an io.Writer that cuts a stream into lines and hands each
// to fn without the newline. A line longer than max is cut to its first max
// bytes (truncated is true) and the rest of it is dropped as it arrives, so a
// single 100 MB line costs max bytes of memory, not 100 MB.
type LineSplitter struct {
	max       int
	fn        func(line []byte, truncated bool)
	buf       []byte
	truncated bool
}

// NewLineSplitter returns a LineSplitter handing lines of at most max bytes
// to fn.
func NewLineSplitter(max int, fn func(line []byte, truncated bool)) *LineSplitter {
	return &LineSplitter{max: max, fn: fn}
}

// Write never fails: a stream is always consumed to its end.
func (s *LineSplitter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if room := s.max - len(s.buf); len(chunk) > room {
			s.buf = append(s.buf, chunk[:max(room, 0)]...)
			s.truncated = true
		} else {
			s.buf = append(s.buf, chunk...)
		}
		if i < 0 {
			break
		}
		s.emit()
		p = p[i+1:]
	}
	return n, nil
}

func (s *LineSplitter) emit() {
	line := bytes.TrimSuffix(s.buf, []byte{'\r'})
	s.fn(line, s.truncated)
	s.buf = s.buf[:0]
	s.truncated = false
}

// Close hands over a last line that had no newline.
func (s *LineSplitter) Close() error {
	if len(s.buf) > 0 || s.truncated {
		s.emit()
	}
	return nil
}

// excerpt keeps the first and last bytes of a stream of any size: at most
// headMax+tailMax bytes are held, whatever the stream's length.
type excerpt struct {
	headMax, tailMax int
	head             []byte
	tail             []byte // ring buffer once full
	tailPos          int    // next write position in a full ring
	total            int64
}

func (e *excerpt) Write(p []byte) (int, error) {
	n := len(p)
	e.total += int64(n)
	if room := e.headMax - len(e.head); room > 0 {
		k := min(room, len(p))
		e.head = append(e.head, p[:k]...)
		p = p[k:]
	}
	if len(p) == 0 || e.tailMax == 0 {
		return n, nil
	}
	if len(p) >= e.tailMax {
		e.tail = append(e.tail[:0], p[len(p)-e.tailMax:]...)
		e.tailPos = 0
		return n, nil
	}
	if room := e.tailMax - len(e.tail); room > 0 {
		k := min(room, len(p))
		e.tail = append(e.tail, p[:k]...)
		p = p[k:]
	}
	for len(p) > 0 {
		k := copy(e.tail[e.tailPos:], p)
		p = p[k:]
		e.tailPos = (e.tailPos + k) % e.tailMax
	}
	return n, nil
}

// String returns head, an omission note if bytes were dropped, and tail,
// with invalid UTF-8 replaced so the excerpt is always valid text.
func (e *excerpt) String() string {
	var b bytes.Buffer
	b.Write(e.head)
	kept := int64(len(e.head) + len(e.tail))
	if dropped := e.total - kept; dropped > 0 {
		b.WriteString("\n[... bestpatch: " + formatBytes(dropped) + " of output omitted ...]\n")
	}
	b.Write(e.tail[e.tailPos:])
	b.Write(e.tail[:e.tailPos])
	return toValidUTF8(b.Bytes())
}

// stripANSI drops ANSI escape sequences (colours, cursor moves) and the other
// control characters but tab from a line, in place. Runners colour their
// output when they think a terminal reads it (pytest --color=yes, tox,
// PY_COLORS=1, sympy's bin/test with colours forced).
func stripANSI(line []byte) []byte {
	if bytes.IndexFunc(line, func(r rune) bool { return r < 0x20 && r != '\t' }) < 0 {
		return line
	}
	out := line[:0]
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == 0x1b && i+1 < len(line) && line[i+1] == '[':
			// CSI: parameters and intermediates, then one final byte.
			i += 2
			for i < len(line) && (line[i] < 0x40 || line[i] > 0x7e) {
				i++
			}
		case c == 0x1b:
			i++ // a two-byte escape
		case c < 0x20 && c != '\t':
		default:
			out = append(out, c)
		}
	}
	return out
}
