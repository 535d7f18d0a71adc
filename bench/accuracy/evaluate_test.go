package accuracy

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/scoring"
)

func TestSplit(t *testing.T) {
	// sha256 prefixes: astropy__astropy-12907 56bd, y a1fc, a ca97, b 3e23.
	for id, want := range map[string]string{
		"astropy__astropy-12907": SplitDev,
		"y":                      SplitTest,
		"a":                      SplitTest,
		"b":                      SplitDev,
	} {
		if got := Split(id); got != want {
			t.Errorf("Split(%q) = %s, want %s", id, got, want)
		}
	}
}

func patch(value string) string {
	return fmt.Sprintf("diff --git a/pkg/mod.py b/pkg/mod.py\n--- a/pkg/mod.py\n+++ b/pkg/mod.py\n@@ -1,2 +1,2 @@\n def f(x):\n-    return x\n+    return %s\n", value)
}

// instances: in "b" (dev), three candidates agree on a right fix and one
// wrong outlier disagrees; in "y" (test), the only resolved candidate is the
// odd one out, and a lone-candidate instance "a" (test) is unresolved.
func instances() []Instance {
	return []Instance{
		{ID: "b", Candidates: []Candidate{
			{System: "s1", Patch: patch("x + 1"), Resolved: true},
			{System: "s2", Patch: patch("x  +  1"), Resolved: true},
			{System: "s3", Patch: patch("x + 1  # off by one"), Resolved: true},
			{System: "s4", Patch: patch("[] if x is None else sorted(x, reverse=True)"), Resolved: false},
		}},
		{ID: "y", Candidates: []Candidate{
			{System: "s1", Patch: patch("x * 2"), Resolved: false},
			{System: "s2", Patch: patch("x * 2"), Resolved: false},
			{System: "s3", Patch: patch("abs(x)"), Resolved: true},
		}},
		{ID: "a", Candidates: []Candidate{
			{System: "s1", Patch: patch("None"), Resolved: false},
		}},
	}
}

func writeGz(t *testing.T, insts []Instance) string {
	t.Helper()
	var raw bytes.Buffer
	enc := json.NewEncoder(&raw)
	for _, in := range insts {
		if err := enc.Encode(in); err != nil {
			t.Fatal(err)
		}
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(raw.Bytes())
	w.Close()
	path := filepath.Join(t.TempDir(), "set.jsonl.gz")
	if err := os.WriteFile(path, gz.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadFile(t *testing.T) {
	path := writeGz(t, instances())
	got, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].ID != "b" || len(got[0].Candidates) != 4 || !got[0].Candidates[0].Resolved {
		t.Errorf("loaded %+v", got)
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "missing.jsonl")); err == nil {
		t.Error("a missing file loaded")
	}
	if _, err := Load(strings.NewReader("{\"candidates\": []}\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("an instance without an ID: %v", err)
	}
}

func TestEvaluate(t *testing.T) {
	var policies []scoring.Policy
	for _, name := range scoring.PolicyNames() {
		p, err := scoring.ParsePolicy(name)
		if err != nil {
			t.Fatal(err)
		}
		policies = append(policies, p)
	}
	tables, err := Evaluate(context.Background(), "toy", instances(), policies)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 2 || tables[0].Split != SplitDev || tables[1].Split != SplitTest {
		t.Fatalf("tables %+v", tables)
	}
	acc := func(tb SplitTable, method string) float64 {
		r, ok := tb.Row(method)
		if !ok {
			t.Fatalf("no row %q in %+v", method, tb.Rows)
		}
		return r.Accuracy
	}
	dev, test := tables[0], tables[1]
	if dev.Pools != 1 || test.Pools != 2 || dev.Contested != 1 || test.Contested != 1 {
		t.Errorf("instances dev %d/%d test %d/%d", dev.Pools, dev.Contested, test.Pools, test.Contested)
	}
	want := []struct {
		tb     SplitTable
		method string
		v      float64
	}{
		{dev, "random pick", 0.75},
		{dev, "oracle", 1},
		{dev, "policy auto", 1},      // the cluster of three twins wins
		{dev, "policy consensus", 1}, // same
		// Three cosmetic twins make one change.
		{dev, "majority vote", 1},
		// Test: instance y (1/3 random, 0 by vote), instance a (0).
		{test, "random pick", (1.0 / 3) / 2},
		{test, "majority vote", 0},
		{test, "oracle", 0.5},
		// s3 is right on y; on dev s1, s2 and s3 tie (each resolves b).
		{test, "best single system", 0.5},
		{test, "best system on dev", (0 + 0 + 1.0) / 3 / 2},
	}
	for _, w := range want {
		if got := acc(w.tb, w.method); math.Abs(got-w.v) > 1e-9 {
			t.Errorf("%s %s: %v, want %v", w.tb.Split, w.method, got, w.v)
		}
	}
	var out bytes.Buffer
	if err := WriteSplitTable(&out, dev); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"toy — dev split: 1 instances", "policy auto", "100.0%", "similarity"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, out.String())
		}
	}
}

func TestEvaluateStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Evaluate(ctx, "toy", instances(), nil); err == nil {
		t.Error("a cancelled evaluation returned no error")
	}
}

func TestTuneReadsDevOnly(t *testing.T) {
	grid := map[scoring.Signal][]float64{
		scoring.SignalSimilarity: {1},
		scoring.SignalSize:       {0, 1},
	}
	ws, err := Tune(context.Background(), []DataSet{{Name: "toy", Instances: instances()}}, grid)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 {
		t.Fatalf("%d weightings, want 2", len(ws))
	}
	// Dev holds instance b only, where the agreeing cluster is right: both
	// weightings score 1 there and the simpler one comes first. Test
	// (instance y, where consensus is wrong) must not lower either.
	if ws[0].Dev["toy"] != 1 || ws[1].Dev["toy"] != 1 || len(ws[0].Weights) != 1 {
		t.Errorf("weightings %+v", ws)
	}
	var out bytes.Buffer
	if err := WriteWeightings(&out, ws); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "1·similarity") || !strings.Contains(out.String(), "100.0%") {
		t.Errorf("weightings table:\n%s", out.String())
	}
}
