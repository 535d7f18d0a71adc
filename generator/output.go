package generator

import (
	"bufio"
	"encoding/json"
	"strings"

	"github.com/bestpatch/bestpatch/executor"
)

// maxFeedback bounds the build output fed back in a repair request.
const maxFeedback = 4000

// failureOutput is the part of a run's output that explains why a test did
// not build or run: for go test -json, the build output and the failing
// package's own lines; otherwise the output from the first mention of the
// test's file.
func failureOutput(res executor.Result, t Test) string {
	if t.Language == Go {
		if s := goBuildOutput(res.Output, t); s != "" {
			return clip(s, maxFeedback)
		}
	}
	out := res.Output
	if i := strings.Index(out, t.Path); i >= 0 {
		start := strings.LastIndexByte(out[:i], '\n') + 1
		out = out[start:]
	}
	return clip(out, maxFeedback)
}

// goBuildOutput collects a go test -json stream's build-output events, and
// the package-level output lines of the test's package.
func goBuildOutput(stream string, t Test) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(stream))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "{") {
			// Plain compiler output interleaved with the JSON (older go).
			if strings.Contains(line, t.Path) || strings.HasPrefix(line, "#") {
				b.WriteString(line + "\n")
			}
			continue
		}
		var ev struct {
			Action, Package, Test, Output, ImportPath string
		}
		if json.Unmarshal([]byte(line), &ev) != nil {
			continue
		}
		switch {
		case ev.Action == "build-output":
			b.WriteString(ev.Output)
		case ev.Action == "output" && ev.Test == "" && t.ownsPackage(ev.Package) && !strings.HasPrefix(ev.Output, "FAIL") && !strings.HasPrefix(ev.Output, "ok"):
			b.WriteString(ev.Output)
		}
	}
	return strings.TrimSpace(b.String())
}
