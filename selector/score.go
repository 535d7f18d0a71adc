package selector

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/bluekeyes/go-gitdiff/gitdiff"

	"github.com/bestpatch/bestpatch/scoring"
)

// scoreMatrix ranks a job's candidates on its matrix (nil: nothing ran)
// under its policy, parsed when the job was validated. The matrix already
// holds only the original cases that count (Task.OriginalTests).
func scoreMatrix(job Job, pol scoring.Policy, m *scoring.Matrix) (scoring.Verdict, error) {
	return scoring.Score(scoring.Input{Candidates: job.Candidates, Matrix: m, TestFiles: job.Task.TestFileMatcher()}, pol)
}

func jsonMarshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return buf.Bytes(), err
}

// dedupeKey is the key by which candidates share a run: the same
// normalized change (whitespace, comments, index lines do not matter) AND
// the same old side (context and removed lines, per file), because the old
// side is what decides whether a patch applies. Two patches making the same
// change from different context must not share a run: one of them may not
// apply, and it must never inherit the other's passing tests. A patch that
// does not parse is keyed by its text; it still runs, so that the
// executor's apply step is what rejects it.
func dedupeKey(patch string) (key string, empty bool) {
	if strings.TrimSpace(patch) == "" {
		return "", true
	}
	n, err := scoring.Normalize(patch, nil)
	files, _, perr := gitdiff.Parse(strings.NewReader(patch))
	if err != nil || perr != nil {
		sum := sha256.Sum256([]byte(patch))
		return hex.EncodeToString(sum[:]), false
	}
	if n.Empty() {
		return "", true
	}
	h := sha256.New()
	h.Write([]byte(n.Key))
	for _, f := range files {
		fmt.Fprintf(h, "\x00%s\x00%s\x00%v\x00", f.OldName, f.NewName, f.IsDelete)
		for _, frag := range f.TextFragments {
			for _, l := range frag.Lines {
				if l.Op != gitdiff.OpAdd {
					h.Write([]byte(strings.TrimRight(l.Line, " \t\r\n")))
					h.Write([]byte{'\n'})
				}
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), false
}
