package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/executor/outcome"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/batch"
	"github.com/bestpatch/bestpatch/selector/batch/report"
)

const fixPatch = "diff --git a/x.go b/x.go\n--- a/x.go\n+++ b/x.go\n@@ -1,1 +1,1 @@\n-x := 1\n+x := 2\n"

// sample is a batch of three instances: one selected (a matrix with a
// flaky case, a candidate whose patch did not apply), one where nothing
// could be chosen, one failed.
func sample(t *testing.T) (*batch.Result, *batch.Summary, *batch.Labels) {
	t.Helper()
	P, F, E, S := outcome.Pass, outcome.Fail, outcome.Error, outcome.Skip
	cands := []scoring.Candidate{
		{ID: "0/a", Model: "a", Patch: fixPatch},
		{ID: "1/b", Model: "b", Sample: 1, Patch: strings.Replace(fixPatch, "x := 2", "x := 3", 1)},
		{ID: "2/c", Model: "c", Sample: 2, Patch: "diff --git a/y.go b/y.go\n--- a/y.go\n+++ b/y.go\n@@ -9,1 +9,1 @@\n-nope\n+still nope\n"},
	}
	m := scoring.Matrix{
		Artifacts: []scoring.Artifact{{ID: "original"}, {ID: "repro", Generated: true}},
		Base: scoring.Row{Status: scoring.RunOK, Cases: map[string]map[string]outcome.Outcome{
			"original": {"m::TestA": P, "m::TestB": P, "m::TestC": S},
			"repro":    {"m::TestRepro": F},
		}},
		Flaky: map[string][]string{"original": {"m::TestB"}},
		Candidates: map[string]scoring.Row{
			"0/a": {Status: scoring.RunOK, Cases: map[string]map[string]outcome.Outcome{
				"original": {"m::TestA": P, "m::TestB": P, "m::TestC": S}, "repro": {"m::TestRepro": P}}},
			"1/b": {Status: scoring.RunOK, Cases: map[string]map[string]outcome.Outcome{
				"original": {"m::TestA": F, "m::TestB": E, "m::TestC": S}, "repro": {"m::TestRepro": P}}},
			"2/c": {Status: scoring.RunApplyFailed, Reason: "the patch does not apply"},
		},
	}
	v, err := scoring.Score(scoring.Input{Candidates: cands, Matrix: &m}, mustPolicy(t, "auto"))
	if err != nil {
		t.Fatal(err)
	}
	conf := 0.7
	v.Confidence = &conf
	res := &batch.Result{Runs: 9, Cached: 2, Duration: 95 * time.Second, Instances: []batch.Instance{
		{ID: "o__r-1", Repo: "o__r", Status: batch.Selected, Candidates: cands, Report: &selector.Report{
			Verdict: v, Matrix: m, Distinct: 3, Runs: make([]selector.RunRecord, 5), Duration: 12 * time.Second}},
		{ID: "o__r-2", Repo: "o__r", Status: batch.NoneChosen, Candidates: cands[2:], Report: &selector.Report{
			Verdict: scoring.Verdict{Policy: "auto", Why: "no candidate can be chosen"},
			Matrix:  scoring.Matrix{Artifacts: []scoring.Artifact{{ID: "original"}}, Candidates: map[string]scoring.Row{"2/c": {Status: scoring.RunApplyFailed}}}}},
		{ID: "p__q-7", Repo: "p__q", Status: batch.Failed, Candidates: cands[:1], Error: "repository /nowhere does not exist"},
	}}
	lf := filepath.Join(t.TempDir(), "labels.jsonl")
	os.WriteFile(lf, []byte(`{"instance_id": "o__r-1", "model_name_or_path": "a", "resolved": true}
{"instance_id": "o__r-1", "model_name_or_path": "b", "resolved": false}
{"instance_id": "o__r-2", "model_name_or_path": "c", "resolved": false}
`), 0o644)
	labels, err := batch.LoadLabels(batch.Runs{}, lf)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := batch.Summarize(res, labels, "auto")
	if err != nil {
		t.Fatal(err)
	}
	return res, sum, labels
}

func mustPolicy(t *testing.T, name string) scoring.Policy {
	p, err := scoring.ParsePolicy(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBuild(t *testing.T) {
	res, sum, labels := sample(t)
	d := report.Build("t", "auto", res, sum, labels)
	if d.Totals != (report.Totals{Instances: 3, Selected: 1, NoneChosen: 1, Failed: 1, Runs: 9, Cached: 2, Seconds: 95}) {
		t.Errorf("totals %+v", d.Totals)
	}
	in := d.Instances[0]
	if in.Chosen != "0/a" || in.ChosenPatch != fixPatch || in.Resolved == nil || !*in.Resolved {
		t.Errorf("chosen %q resolved %v", in.Chosen, in.Resolved)
	}
	h := in.Heatmap
	wantCases := []string{"m::TestA", "m::TestB", "m::TestC", "m::TestRepro"}
	if strings.Join(h.Cases, ",") != strings.Join(wantCases, ",") {
		t.Errorf("columns %v, want %v (artifact by artifact, sorted)", h.Cases, wantCases)
	}
	if len(h.Artifacts) != 2 || h.Artifacts[0].Cases != 3 || h.Artifacts[1].Cases != 1 || !h.Artifacts[1].Generated {
		t.Errorf("artifacts %+v", h.Artifacts)
	}
	if len(h.Flaky) != 1 || h.Flaky[0] != 1 {
		t.Errorf("flaky columns %v, want [1]", h.Flaky)
	}
	// Base on top, then the candidates in ranking order.
	var rows []string
	for _, r := range h.Rows {
		rows = append(rows, r.Name+"="+r.Cells+":"+string(r.Status))
	}
	want := []string{"base=PPSF:ok", "0/a=PPSP:ok", "1/b=FESP:ok", "2/c=----:apply_failed"}
	if strings.Join(rows, " ") != strings.Join(want, " ") {
		t.Errorf("rows %v, want %v", rows, want)
	}
	if c := in.Candidates[len(in.Candidates)-1]; c.ID != "2/c" || c.Out == "" || c.Resolved != nil {
		t.Errorf("last candidate %+v: want 2/c, out, unlabelled", c)
	}
	if f := d.Instances[2]; f.Status != batch.Failed || f.Heatmap != nil || f.Error == "" || len(f.Candidates) != 1 {
		t.Errorf("failed instance %+v", f)
	}
}

func TestWriteSelfContained(t *testing.T) {
	res, sum, labels := sample(t)
	dir := filepath.Join(t.TempDir(), "report")
	d := report.Build("bestpatch batch <test>", "auto", res, sum, labels)
	if err := report.Write(dir, d); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(filepath.Join(dir, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	// Nothing is fetched: no link, no src, no URL but the SVG namespace.
	urls := regexp.MustCompile(`https?://[^"' )]+`).FindAllString(string(html), -1)
	for _, u := range urls {
		if u != "http://www.w3.org/2000/svg" {
			t.Errorf("the page refers to %s: it must be self-contained", u)
		}
	}
	for _, bad := range []string{"<link", " src=", "@import"} {
		if bytes.Contains(html, []byte(bad)) {
			t.Errorf("the page contains %q", bad)
		}
	}
	if !bytes.Contains(html, []byte("bestpatch batch &lt;test&gt;")) {
		t.Error("the title is not escaped")
	}
	// report.json is the data, whole.
	raw, err := os.ReadFile(filepath.Join(dir, report.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	var back report.Data
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if back.Totals != d.Totals || len(back.Instances) != 3 || back.Summary == nil || len(back.Summary.Rows) != len(d.Summary.Rows) ||
		back.Instances[0].Heatmap.Rows[2].Cells != "FESP" {
		t.Errorf("report.json does not hold the report's data: %+v", back.Totals)
	}
}

// chromium returns the headless browser, or skips.
func chromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a browser")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium: apt-get install -y chromium")
	return ""
}

// browse loads a page in headless Chromium and returns the DOM after its
// scripts ran and the page's console messages (Chromium logs them as
// INFO:CONSOLE lines on stderr with --enable-logging=stderr --v=0).
func browse(t *testing.T, bin, page string, extra ...string) (dom string, console []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}, extra...)
	args = append(args, "file://"+page)
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, ":CONSOLE") {
			console = append(console, line)
		}
	}
	return stdout.String(), console
}

// TestReportInBrowser opens the report in headless Chromium: the summary
// table, the chart and one heat map per instance that has a matrix are in
// the DOM the page's script built, with one cell per row and case, and the
// page logs nothing but its own line (no script error).
func TestReportInBrowser(t *testing.T) {
	bin := chromium(t)
	res, sum, labels := sample(t)
	dir := t.TempDir()
	if err := report.Write(dir, report.Build("browser test", "auto", res, sum, labels)); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, report.HTMLFile)
	dom, console := browse(t, bin, page, "--dump-dom")

	for _, want := range []string{
		`id="summary-table"`, `<td>selected (policy auto)</td>`, `id="chart"`,
		`data-rendered="ok"`, `data-heatmaps="2"`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered page lacks %s", want)
		}
	}
	// Two heat maps: o__r-1 (4 rows x 4 cases) and o__r-2 (2 rows, no case:
	// drawn as a note). The failed instance has none.
	if n := strings.Count(dom, `class="heatmap-svg"`); n != 1 {
		t.Errorf("%d heat map SVGs, want 1", n)
	}
	if n := strings.Count(dom, `class="cell c-`); n != 16 {
		t.Errorf("%d heat map cells, want 16 (4 rows x 4 cases)", n)
	}
	for name, want := range map[string]int{"PASS": 6, "FAIL": 2, "ERROR": 1, "SKIP": 3, "missing": 4} {
		if n := strings.Count(dom, `data-outcome="`+name+`"`); n != want {
			t.Errorf("%d %s cells, want %d", n, name, want)
		}
	}
	if !strings.Contains(dom, `class="flaky"`) || !strings.Contains(dom, "no test case ran") {
		t.Error("the flaky column or the empty heat map's note is missing")
	}
	want := `"bestpatch report: drew 2 heat maps"`
	if len(console) != 1 || !strings.Contains(console[0], want) {
		t.Errorf("console: %q; want only the page's own line %s", console, want)
	}

	shot := filepath.Join(t.TempDir(), "report.png")
	browse(t, bin, page, "--hide-scrollbars", "--window-size=1280,1800", "--screenshot="+shot)
	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 20_000 {
		t.Errorf("screenshot: %d bytes, not a rendered PNG", len(png))
	}
}

// TestBrowserReportsScriptErrors checks the check: a page whose script
// throws shows up on the console as browse captures it.
func TestBrowserReportsScriptErrors(t *testing.T) {
	bin := chromium(t)
	page := filepath.Join(t.TempDir(), "broken.html")
	os.WriteFile(page, []byte(`<!DOCTYPE html><html><body><script>undefinedFunction();</script></body></html>`), 0o644)
	_, console := browse(t, bin, page, "--dump-dom")
	if len(console) != 1 || !strings.Contains(console[0], "Uncaught ReferenceError") {
		t.Errorf("console %q: want the uncaught error", console)
	}
}

func TestChartAndPatchLines(t *testing.T) {
	res, sum, labels := sample(t)
	html, err := report.HTML(report.Build("t", "auto", res, sum, labels))
	if err != nil {
		t.Fatal(err)
	}
	s := string(html)
	// One bar per method but the signals; random and oracle as lines too.
	bars := strings.Count(s, `<g class="bar kind-`)
	if want := 3 + len(scoring.PolicyNames()) + 2; bars != want {
		t.Errorf("%d bars, want %d (selected, random, majority, the policies, best single system, oracle)", bars, want)
	}
	if n := strings.Count(s, `<line class="ref ref-`); n != 2 {
		t.Errorf("%d reference lines, want 2 (random pick, oracle)", n)
	}
	for _, want := range []string{`<span class="del">-x := 1</span>`, `<span class="add">&#43;x := 2</span>`, `<span class="hunk">@@ -1,1 &#43;1,1 @@</span>`} {
		if !strings.Contains(s, want) {
			t.Errorf("the chosen patch lacks %s", want)
		}
	}
}

// TestReliabilityDiagram: a summary whose verdicts carry confidences gets a
// reliability diagram: one bin with a verdict, the diagonal, the scores.
func TestReliabilityDiagram(t *testing.T) {
	res, sum, labels := sample(t)
	if sum.Calibration == nil || sum.Calibration.Verdicts != 1 {
		t.Fatalf("calibration %+v", sum.Calibration)
	}
	html, err := report.HTML(report.Build("t", "auto", res, sum, labels))
	if err != nil {
		t.Fatal(err)
	}
	s := string(html)
	for _, want := range []string{`id="reliability"`, `class="diagonal"`, "Brier score <b>0.0900</b>", "Confidence:</b> 70.0%", `class="count" x="265" y="34" text-anchor="middle">1`} {
		if !strings.Contains(s, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if n := strings.Count(s, `<g class="bin">`); n != 1 {
		t.Errorf("%d bins drawn, want 1 (confidence 0.7, resolved)", n)
	}
	// Without confidences, no diagram.
	sum.Calibration = nil
	if html, err = report.HTML(report.Build("t", "auto", res, sum, labels)); err != nil || strings.Contains(string(html), `id="reliability"`) {
		t.Errorf("a diagram without confidences (err %v)", err)
	}
}
