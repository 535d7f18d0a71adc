package docker

import (
	"bytes"
	"errors"
	"testing"
)

// A stream of a reused container passes on exactly what came between a
// run's marks, however the bytes were cut into writes, and counts what came
// outside them.
func TestRunStream(t *testing.T) {
	m := newRunMarks()
	mark := func(code, left string) string { return string(m.end) + code + ":" + left + ":0\n" }
	dirtyMark := string(m.end) + "0:0:1\n"
	other := newRunMarks()
	tests := []struct {
		name      string
		stream    string
		want      string
		wantEnd   runEnd
		wantStray int
	}{
		{name: "plain", stream: string(m.start) + "out\n" + mark("0", "0"), want: "out\n"},
		{name: "no final newline", stream: string(m.start) + "out" + mark("1", "0"), want: "out", wantEnd: runEnd{code: 1}},
		{name: "empty", stream: string(m.start) + mark("0", "0"), want: ""},
		{name: "stray around", stream: "left\n" + string(m.start) + "out\n" + mark("0", "2") + "late", want: "out\n", wantEnd: runEnd{left: 2}, wantStray: 9},
		{name: "tree not reset", stream: string(m.start) + "out\n" + dirtyMark, want: "out\n", wantEnd: runEnd{dirty: true}},
		{name: "another run's marks", stream: string(m.start) + string(other.start) + string(other.end) + "0:0\nout\n" + mark("3", "0"), want: string(other.start) + string(other.end) + "0:0\nout\n", wantEnd: runEnd{code: 3}},
	}
	for _, tt := range tests {
		// Every cut of the stream in two writes, and one byte a write.
		cuts := [][]int{{}}
		for i := 1; i < len(tt.stream); i++ {
			cuts = append(cuts, []int{i})
		}
		ones := make([]int, 0, len(tt.stream))
		for i := 1; i < len(tt.stream); i++ {
			ones = append(ones, i)
		}
		cuts = append(cuts, ones)
		for _, cut := range cuts {
			s := &runStream{}
			var got bytes.Buffer
			done := s.begin(m, &got)
			prev := 0
			for _, c := range append(cut, len(tt.stream)) {
				if n, err := s.Write([]byte(tt.stream[prev:c])); n != c-prev || err != nil {
					t.Fatalf("%s: Write = %d, %v", tt.name, n, err)
				}
				prev = c
			}
			select {
			case end := <-done:
				if end != tt.wantEnd {
					t.Errorf("%s cut %v: end %+v, want %+v", tt.name, cut, end, tt.wantEnd)
				}
			default:
				t.Fatalf("%s cut %v: no end", tt.name, cut)
			}
			if got.String() != tt.want {
				t.Errorf("%s cut %v: passed on %q, want %q", tt.name, cut, got.String(), tt.want)
			}
			if s.strays() != tt.wantStray {
				t.Errorf("%s cut %v: %d stray bytes, want %d", tt.name, cut, s.strays(), tt.wantStray)
			}
		}
	}
}

// A stream that ends during a run gives the run what it printed and
// errKeeperGone; a run begun after that ends at once.
func TestRunStreamGone(t *testing.T) {
	m := newRunMarks()
	s := &runStream{}
	var got bytes.Buffer
	done := s.begin(m, &got)
	_, _ = s.Write([]byte(string(m.start) + "partial out"))
	s.end(nil)
	if end := <-done; !errors.Is(end.err, errKeeperGone) {
		t.Errorf("end %+v, want errKeeperGone", end)
	}
	if got.String() != "partial out" {
		t.Errorf("passed on %q, want %q", got.String(), "partial out")
	}
	if end := <-s.begin(newRunMarks(), &got); !errors.Is(end.err, errKeeperGone) {
		t.Errorf("a run begun after the end: %+v, want errKeeperGone", end)
	}
}

// An end mark holds the status, the processes left and whether the tree
// was reset; anything else is an error, not a clean end.
func TestParseRunEnd(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    runEnd
		wantErr bool
	}{
		{in: "0:0:0", want: runEnd{}},
		{in: "3:2:1", want: runEnd{code: 3, left: 2, dirty: true}},
		{in: "0:0", wantErr: true},
		{in: "0:x:0", wantErr: true},
		{in: "", wantErr: true},
	} {
		got := parseRunEnd(tt.in)
		if (got.err != nil) != tt.wantErr {
			t.Errorf("parseRunEnd(%q) error %v, want error %v", tt.in, got.err, tt.wantErr)
			continue
		}
		if got.err == nil && got != tt.want {
			t.Errorf("parseRunEnd(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// A complete line of the run passes on when it arrives, before the run's
// end: a measured run's step marks are timed by their arrival
// (RunTiming). Only a trailing part that may begin the end mark waits.
func TestRunStreamPassesLines(t *testing.T) {
	m := newRunMarks()
	s := &runStream{}
	var got bytes.Buffer
	done := s.begin(m, &got)
	for _, step := range []struct{ write, want string }{
		{string(m.start) + "bestpatch:t=command\n", "bestpatch:t=command\n"},
		{"out", "bestpatch:t=command\nout"},
		{"\n" + string(m.end[:5]), "bestpatch:t=command\nout\n"},
		{string(m.end[5:]) + "0:0:0\n", "bestpatch:t=command\nout\n"},
	} {
		_, _ = s.Write([]byte(step.write))
		if got.String() != step.want {
			t.Errorf("after %q: passed on %q, want %q", step.write, got.String(), step.want)
		}
	}
	if end := <-done; end != (runEnd{}) {
		t.Errorf("end %+v, want a clean one", end)
	}
}
