package executor

import (
	"bytes"
	"encoding/json"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/bestpatch/bestpatch/executor/outcome"
)

// GoJSON is the output of `go test -json`.
const GoJSON Format = "go-json"

// goJSONFormat is `go test -json`: test2json events on stdout.
var goJSONFormat = FormatSpec{
	Name:      GoJSON,
	Language:  "go",
	Runner:    "go test -json ./...",
	CaseID:    "importpath::TestName/sub",
	Doc:       "test2json events; a package that does not build or dies before any case ends is a broken unit",
	TestFiles: []string{"*_test.go", "testdata/*", "*/testdata/*"},
	newParser: func() outputParser { return newGoTestParser() },
	testFunc:  goTestFunc,
	owns:      goOwns,
	directive: func(file string) (string, error) {
		c, err := cleanFile(file)
		if err != nil {
			return "", err
		}
		if dir := path.Dir(c); dir != "." {
			return "./" + dir, nil
		}
		return ".", nil
	},
}

// goOwns: a Go case belongs to a generated test file when its top-level
// test is one of the file's functions and its package (an import path) is
// the file's directory. A file at the repository root matches any package's
// test of that name: the module path is not known here.
func goOwns(caseID string, src TestSource) bool {
	pkg, name, ok := strings.Cut(caseID, "::")
	if !ok {
		return false
	}
	top, _, _ := strings.Cut(name, "/")
	if !slices.Contains(src.Funcs, top) {
		return false
	}
	dir := path.Dir(src.Path)
	return dir == "." || pkg == dir || strings.HasSuffix(pkg, "/"+dir)
}

// goTestParser reads `go test -json` output (test2json events) line by line.
//
// Cases are "importpath::TestName/sub", subtests included. A package that
// does not build (Go 1.24+: a fail event with FailedBuild; before, and with
// GODEBUG=gotestjsonbuildtext=1: a "FAIL pkg [build failed]" output line,
// JSON or plain text) or that fails before any case reports (setup failure,
// TestMain exit, init panic) is broken. When a package fails with tests still
// running, the test binary died under them (a panic, go's own -timeout): the
// running tests fail; tests that had not started, or were paused waiting for
// a parallel slot, did not run and are left out. Lines that are not JSON
// (build errors on stderr, anything else the command prints) are ignored.
type goTestParser struct {
	cases  caseSet
	broken unitSet
	pkgs   map[string]*goPackage
	// files are the source files build errors point at: build-output
	// events (Go 1.24+) and plain lines (go's stderr), never a test's own
	// output, whose t.Log lines look the same.
	files unitSet
}

type goPackage struct {
	running     map[string]bool // tests that run now (run or cont, no end yet)
	reported    bool            // some case of this package ended
	buildFailed bool            // a "[build failed]" or "[setup failed]" line was seen
}

// goEvent is the part of a test2json event the parser needs.
type goEvent struct {
	Action      string
	Package     string
	Test        string
	Output      string
	FailedBuild string
}

// goFailedBuild matches go's summary line for a package that did not build.
var goFailedBuild = regexp.MustCompile(`^FAIL\s+(\S+)\s+\[(?:build|setup) failed\]`)

// goErrorFile matches a compiler or vet error's position: file.go:line:col:.
var goErrorFile = regexp.MustCompile(`^(?:vet: )?(\S+\.go):\d+(?::\d+)?: `)

func newGoTestParser() *goTestParser {
	return &goTestParser{broken: unitSet{}, pkgs: map[string]*goPackage{}, files: unitSet{}}
}

var goOutcomes = map[string]outcome.Outcome{"pass": outcome.Pass, "fail": outcome.Fail, "skip": outcome.Skip}

var (
	outputAction = []byte(`"Action":"output"`)
	failedMark   = []byte(`failed]`)
)

func (p *goTestParser) line(line []byte, truncated bool) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	if line[0] != '{' {
		if truncated {
			return // over MaxLine: no compiler line is that long, and matching it costs seconds
		}
		if m := goFailedBuild.FindSubmatch(line); m != nil {
			p.broken[toValidUTF8(m[1])] = true
		}
		p.errorFile(toValidUTF8(line))
		return
	}
	// Most events are output lines that say nothing about outcomes; skip
	// decoding them. Only "FAIL pkg [build failed]" output matters.
	if bytes.Contains(line, outputAction) && !bytes.Contains(line, failedMark) {
		return
	}
	if truncated {
		return // a cut JSON object does not decode
	}
	var ev goEvent
	if json.Unmarshal(line, &ev) != nil {
		return
	}
	if ev.Action == "build-output" {
		p.errorFile(strings.TrimSpace(ev.Output))
		return
	}
	if ev.Package == "" {
		return
	}
	pkg := p.pkgs[ev.Package]
	if pkg == nil {
		pkg = &goPackage{running: map[string]bool{}}
		p.pkgs[ev.Package] = pkg
	}
	if ev.Test == "" {
		p.packageEvent(ev, pkg)
		return
	}
	id := ev.Package + "::" + ev.Test
	switch ev.Action {
	case "run", "cont":
		pkg.running[ev.Test] = true
	case "pause":
		delete(pkg.running, ev.Test)
	case "pass", "fail", "skip":
		delete(pkg.running, ev.Test)
		pkg.reported = true
		p.cases.add(id, goOutcomes[ev.Action])
	}
}

func (p *goTestParser) packageEvent(ev goEvent, pkg *goPackage) {
	switch ev.Action {
	case "output":
		if m := goFailedBuild.FindStringSubmatch(ev.Output); m != nil {
			pkg.buildFailed = true
		}
	case "fail":
		switch {
		case ev.FailedBuild != "" || pkg.buildFailed:
			p.broken[ev.Package] = true
		case len(pkg.running) > 0:
			running := make([]string, 0, len(pkg.running))
			for t := range pkg.running {
				running = append(running, t)
			}
			sort.Strings(running)
			for _, t := range running {
				p.cases.add(ev.Package+"::"+t, outcome.Fail)
			}
			pkg.reported = true
		case !pkg.reported:
			p.broken[ev.Package] = true
		}
		delete(p.pkgs, ev.Package)
	case "pass", "skip":
		delete(p.pkgs, ev.Package)
	}
}

// errorFile records the file a build error line points at.
func (p *goTestParser) errorFile(line string) {
	if m := goErrorFile.FindStringSubmatch(line); m != nil {
		if f, err := cleanFile(strings.TrimPrefix(m[1], "./")); err == nil {
			p.files[f] = true
		}
	}
}

// brokenFiles are the files the build errors point at.
func (p *goTestParser) brokenFiles() []string { return p.files.sorted() }

func (p *goTestParser) finish() ([]Case, []string, error) {
	return p.cases.cases, p.broken.sorted(), nil
}
