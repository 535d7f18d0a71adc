package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor/outcome"
	"github.com/bestpatch/bestpatch/generator"
	"github.com/bestpatch/bestpatch/generator/llmtest"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/swebench"
)

// The SWE-bench stand-in instances (docs/SWEBENCH.md): rows in the public
// schema whose answer columns (patch, test_patch, FAIL_TO_PASS, hints) are
// decoys, predictions from four agents, and instance images built offline
// by testdata/images/build.sh swebench under the names bestpatch derives.
const swebenchData = "../../testdata/swebench"

// swebenchPreds are the agents' predictions files, in the order their
// candidates are numbered (the fix last: it does not win by position).
var swebenchPreds = []string{"agent-wrong.json", "agent-tamper.jsonl", "agent-regression/preds.json", "agent-fix.jsonl"}

func swebenchPredFiles() string {
	files := make([]string, len(swebenchPreds))
	for i, p := range swebenchPreds {
		files[i] = filepath.Join(swebenchData, "preds", p)
	}
	return strings.Join(files, ",")
}

// needSWEbenchImages skips the test when no Docker engine answers, and
// builds the stand-in images (cached) when one of them is missing.
func needSWEbenchImages(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("docker", "version").CombinedOutput(); err != nil {
		t.Skipf("no Docker engine answers, so the SWE-bench end-to-end tests cannot run: %v\n%s", err, out)
	}
	rows, err := swebench.Load(filepath.Join(swebenchData, "dataset.jsonl"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		for _, tag := range []string{"latest", "garbage"} {
			im := swebench.DefaultImages
			im.Tag = tag
			if exec.Command("docker", "image", "inspect", im.ImageName(r.InstanceID)).Run() == nil {
				continue
			}
			t.Logf("image %s is missing: building the SWE-bench stand-ins with testdata/images/build.sh swebench (make images)", im.ImageName(r.InstanceID))
			if out, err := exec.CommandContext(t.Context(), "../../testdata/images/build.sh", "swebench").CombinedOutput(); err != nil {
				t.Fatalf("testdata/images/build.sh swebench: %v\n%s", err, out)
			}
			return
		}
	}
}

// selectJSON is select --json's output.
type selectJSON struct {
	selector.Report
	Chosen *struct {
		ID    string `json:"id"`
		Patch string `json:"model_patch"`
	} `json:"chosen_candidate"`
}

// swebenchCase is one stand-in instance, what the model is scripted to
// write for it, and the outcome of every case in every run.
type swebenchCase struct {
	instance string
	// genPath and genBody are the test the scripted model writes.
	genPath, genBody string
	// related is the note that says which original tests ran.
	related string
	// cases are the outcomes by row (base or candidate), artifact, case.
	cases map[string]map[string]map[string]outcome.Outcome
}

const (
	pass = outcome.Pass
	fail = outcome.Fail
	skip = outcome.Skip
)

// outcomes builds a row's cases: original ones, then the generated test's.
func outcomes(original, generated map[string]outcome.Outcome) map[string]map[string]outcome.Outcome {
	return map[string]map[string]outcome.Outcome{selector.OriginalArtifact: original, "gen-1": generated}
}

func sympyCase() swebenchCase {
	const f = "sympy/ntheory/tests/test_digits.py::"
	const g = "sympy/ntheory/tests/test_digits_padding.py::test_digits_padding"
	orig := func(digits, palindromic outcome.Outcome) map[string]outcome.Outcome {
		return map[string]outcome.Outcome{f + "test_digits": digits, f + "test_count_digits": pass, f + "test_is_palindromic": palindromic}
	}
	wrong := outcomes(orig(fail, pass), map[string]outcome.Outcome{g: fail})
	return swebenchCase{
		instance: "sympy__sympy-bestpatch1",
		genPath:  "sympy/ntheory/tests/test_digits_padding.py",
		genBody:  "from sympy.ntheory.digits import digits\n\n\ndef test_digits_padding():\n    assert digits(35, 10, 2) == [10, 3, 5]\n    assert digits(35, 10, 3) == [10, 0, 3, 5]\n    assert digits(-7, 2, 5) == [-2, 0, 0, 1, 1, 1]\n",
		related:  "sympy/ntheory/digits.py -> sympy/ntheory/tests/test_digits.py",
		cases: map[string]map[string]map[string]outcome.Outcome{
			"base":               outcomes(orig(fail, pass), map[string]outcome.Outcome{g: fail}),
			"3/agent-fix":        outcomes(orig(pass, pass), map[string]outcome.Outcome{g: pass}),
			"0/agent-wrong":      wrong,
			"1/agent-tamper":     wrong, // its edits of test_digits.py undone
			"2/agent-regression": outcomes(orig(pass, fail), map[string]outcome.Outcome{g: pass}),
		},
	}
}

func djangoCase() swebenchCase {
	d := func(m string) string { return m + " (utils_tests.test_text.TestUtilsText." + m + ")" }
	g := func(m string) string { return m + " (utils_tests.test_slugify_edges.SlugifyEdgeTests." + m + ")" }
	// test_slugify_strip has a docstring: the runner, and SWE-bench, name it
	// by its first line.
	const strip = "slugify() strips leading and trailing dashes and underscores."
	orig := func(capfirst, stripped outcome.Outcome) map[string]outcome.Outcome {
		return map[string]outcome.Outcome{
			d("test_capfirst"):                   capfirst, // ERROR in the regression: a failure
			d("test_get_text_list"):              pass,
			d("test_normalize_newlines"):         pass,
			d("test_normalize_newlines_windows"): skip,
			d("test_phone2numeric"):              pass, // its status printed after its output
			d("test_slugify"):                    pass, // subtests
			strip:                                stripped,
			d("test_slugify_transliterates"):     pass, // expected failure
		}
	}
	gen := func(strips outcome.Outcome) map[string]outcome.Outcome {
		return map[string]outcome.Outcome{g("test_strips_dashes_and_underscores"): strips, g("test_keeps_inner_underscores"): pass}
	}
	wrong := outcomes(orig(pass, fail), gen(fail))
	return swebenchCase{
		instance: "django__django-bestpatch1",
		genPath:  "tests/utils_tests/test_slugify_edges.py",
		genBody:  "from django.test import SimpleTestCase\nfrom django.utils.text import slugify\n\n\nclass SlugifyEdgeTests(SimpleTestCase):\n    def test_strips_dashes_and_underscores(self):\n        self.assertEqual(slugify(\"___This is a test ---\"), \"this-is-a-test\")\n\n    def test_keeps_inner_underscores(self):\n        self.assertEqual(slugify(\"snake_case value\"), \"snake_case-value\")\n",
		related:  "django/utils/text.py -> utils_tests.test_text",
		cases: map[string]map[string]map[string]outcome.Outcome{
			"base":               outcomes(orig(pass, fail), gen(fail)),
			"3/agent-fix":        outcomes(orig(pass, pass), gen(pass)),
			"0/agent-wrong":      wrong,
			"1/agent-tamper":     wrong, // its edits of test_text.py undone
			"2/agent-regression": outcomes(orig(fail, pass), gen(pass)),
		},
	}
}

// TestSWEbenchSelect runs `bestpatch select --dataset` on a SWE-bench row
// with real runners in the stand-in images (sympy's bin/test, Django's
// runner), with related regression tests and a test written by a scripted
// model: every case of every run is parsed as the runner printed it, the
// fix is chosen over a wrong fix (also submitted with weakened tests) and a
// fix that breaks a related test, and nothing of the row's hidden answer
// (decoys here) reaches the job. Every candidate runs (--execution all):
// the test checks each one's cases.
func TestSWEbenchSelect(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the SWE-bench stand-in images")
	}
	needSWEbenchImages(t)
	for _, c := range []swebenchCase{sympyCase(), djangoCase()} {
		t.Run(c.instance, func(t *testing.T) {
			model := llmtest.NewServer(t, func(_ int, _ generator.ChatRequest) llmtest.Reply {
				return llmtest.Reply{Content: "File: " + c.genPath + "\n```python\n" + c.genBody + "```\n"}
			})
			chosenFile := filepath.Join(t.TempDir(), "chosen.jsonl")
			out, stderr, err := run(t, "select", "--dataset", filepath.Join(swebenchData, "dataset.jsonl"), "--instance-ids", c.instance,
				"--regression-tests", "related", "--executor", "docker", "--no-cache", "--json", "--out", chosenFile, "--execution", "all",
				"--generate-tests", "1", "--llm-url", model.URL(), "--llm-model", llmtest.Model, "--preds", swebenchPredFiles())
			if err != nil {
				t.Fatalf("select: %v\n%s", err, stderr)
			}
			var rep selectJSON
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("--json output is not a report: %v\n%s", err, out)
			}
			for _, r := range rep.Runs {
				t.Logf("run %s: %s in %v", r.ID, r.Status, r.Duration)
			}
			v := rep.Verdict
			if v.Chosen != "3/agent-fix" || rep.Chosen == nil || rep.Chosen.ID != v.Chosen {
				t.Fatalf("chose %q (%+v), want 3/agent-fix\n%s", v.Chosen, rep.Chosen, out)
			}

			// The generated test reproduced the bug and was kept.
			if g := rep.Generation; g == nil || !reflect.DeepEqual(g.Kept, []string{"gen-1"}) || len(g.Dropped) > 0 {
				t.Errorf("generation %+v, want gen-1 kept", rep.Generation)
			}
			if n := len(model.Requests()); n != 1 {
				t.Errorf("the model got %d requests, want 1", n)
			}

			// Every case, parsed case by case, in every row of the matrix.
			got := map[string]map[string]map[string]outcome.Outcome{"base": rep.Matrix.Base.Cases}
			for id, row := range rep.Matrix.Candidates {
				got[id] = row.Cases
			}
			for row, want := range c.cases {
				if !reflect.DeepEqual(got[row], want) {
					t.Errorf("%s: cases\n%v\nwant\n%v", row, got[row], want)
				}
			}
			if len(got) != len(c.cases) {
				t.Errorf("matrix rows %v, want %d", reflect.ValueOf(got).MapKeys(), len(c.cases))
			}

			// What the choice rests on: the regression filtered out, the
			// tests edited by a candidate flagged, the related tests named.
			ranks := map[string]scoring.Ranked{}
			for _, r := range v.Ranking {
				ranks[r.ID] = r
			}
			regressions := func(r scoring.Ranked) int {
				if r.Signals.Regressions == nil {
					return -1
				}
				return *r.Signals.Regressions
			}
			if r := ranks["2/agent-regression"]; regressions(r) != 1 || !strings.Contains(r.Out, "regressions") {
				t.Errorf("the regression: regressions %d, out %q; want 1, filtered by regressions", regressions(r), r.Out)
			}
			if r := ranks["1/agent-tamper"]; !slices.Contains(r.Signals.Flags, scoring.FlagTouchesTests) {
				t.Errorf("the tampering candidate's flags %v lack %s", r.Signals.Flags, scoring.FlagTouchesTests)
			}
			if r := ranks["3/agent-fix"]; r.Rank != 1 || regressions(r) != 0 {
				t.Errorf("the fix ranks %d with %d regressions", r.Rank, regressions(r))
			}
			// Every candidate's run completed: full execution evidence, and
			// the generated test's FP/PP put the fix first.
			if v.Basis.Execution != scoring.EvidenceFull || !strings.Contains(v.Basis.DecidedBy, "fppp") || !slices.Contains(v.Basis.Tampering, "1/agent-tamper") {
				t.Errorf("the verdict's basis %+v: want full execution evidence, decided by fppp, 1/agent-tamper tampering", v.Basis)
			}
			if !strings.Contains(strings.Join(v.Notes, "\n"), c.related) {
				t.Errorf("the notes do not say which original tests ran (%q):\n%s", c.related, strings.Join(v.Notes, "\n"))
			}

			// The row's answer columns are decoys named so: none of them
			// reached a run, a case or the report.
			if strings.Contains(strings.ToLower(out), "decoy") {
				t.Errorf("the report holds a decoy from the row's answer columns:\n%s", out)
			}

			// --out: the harness's predictions line with the fix.
			written := readPredictions(t, chosenFile)
			if len(written) != 1 || written[0].InstanceID != c.instance || written[0].Patch != rep.Chosen.Patch || !strings.Contains(written[0].Patch, "diff --git") {
				t.Errorf("--out wrote %+v", written)
			}
		})
	}
}

// TestSWEbenchSelectUnreadableOutput runs the same rows in images whose test
// runner prints noise (tag garbage, with --dataset-tag): no run gives a test
// result, so select abstains (exit status 3) and says why: each run names
// the format it could not read, the verdict says it rests on no execution
// evidence, and nothing is written for the harness.
func TestSWEbenchSelectUnreadableOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the SWE-bench stand-in images")
	}
	needSWEbenchImages(t)
	for _, c := range []struct{ instance, format string }{
		{"sympy__sympy-bestpatch1", "sympy"},
		{"django__django-bestpatch1", "django"},
	} {
		t.Run(c.instance, func(t *testing.T) {
			chosenFile := filepath.Join(t.TempDir(), "chosen.jsonl")
			preds := filepath.Join(swebenchData, "preds", "agent-wrong.json") + "," + filepath.Join(swebenchData, "preds", "agent-fix.jsonl")
			out, stderr, err := run(t, "select", "--dataset", filepath.Join(swebenchData, "dataset.jsonl"), "--instance-ids", c.instance,
				"--dataset-tag", "garbage", "--executor", "docker", "--no-cache", "--base-runs", "1", "--json", "--out", chosenFile, "--preds", preds)
			var code exitCode
			if !errors.As(err, &code) || code != 3 {
				t.Fatalf("select on unreadable output: err %v, want exit status 3 (abstained)\n%s\n%s", err, out, stderr)
			}
			var rep selectJSON
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("--json output is not a report: %v\n%s\n%s", err, out, stderr)
			}
			v := rep.Verdict
			if v.Chosen != "" || rep.Chosen != nil || v.Abstained == "" || v.Basis.Execution != scoring.EvidenceNone {
				t.Errorf("verdict on output no parser can read: chosen %q, abstained %q, basis %q; want no choice, abstained, no evidence\n%s", v.Chosen, v.Abstained, v.Basis.Execution, out)
			}
			if len(rep.Matrix.Base.Cases) > 0 {
				t.Errorf("base cases %v from noise", rep.Matrix.Base.Cases)
			}
			for _, r := range rep.Runs {
				if r.ID != selector.ListRunID && !strings.Contains(r.Reason, "("+c.format+")") {
					t.Errorf("run %s: %s %q does not name the format %s", r.ID, r.Status, r.Reason, c.format)
				}
			}
			if _, err := os.Stat(chosenFile); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("--out wrote %s although nothing was chosen (%v)", chosenFile, err)
			}
		})
	}
}
