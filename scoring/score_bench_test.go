package scoring

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor/outcome"
)

// benchJob is a job of n candidates (a dozen families of related fixes of
// 5-40 lines in two files), n generated tests of 3 cases each, and an
// original suite of 200 cases.
func benchJob(n int) Input {
	var cands []Candidate
	m := &Matrix{Base: Row{Status: RunOK, Cases: map[string]map[string]outcome.Outcome{}}, Candidates: map[string]Row{}}
	m.Artifacts = append(m.Artifacts, Artifact{ID: "suite"})
	suite := map[string]outcome.Outcome{}
	for c := 0; c < 200; c++ {
		suite[fmt.Sprintf("TestSuite/%d", c)] = outcome.Pass
	}
	m.Base.Cases["suite"] = suite
	for j := 0; j < n; j++ {
		id := fmt.Sprintf("gen%02d", j)
		m.Artifacts = append(m.Artifacts, Artifact{ID: id, Generated: true})
		m.Base.Cases[id] = map[string]outcome.Outcome{"a": outcome.Fail, "b": outcome.Pass, "c": outcome.Fail}
	}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("cand%02d", i)
		family, size := i%12, 5+(i*7)%36
		var b strings.Builder
		for _, file := range []string{"pkg/core.py", "pkg/util.py"} {
			fmt.Fprintf(&b, "diff --git a/%s b/%s\n--- a/%s\n+++ b/%s\n@@ -10,3 +10,%d @@ def handler(request):\n", file, file, file, file, size+3)
			b.WriteString("     value = request.get('x')\n     if value is None:\n         return None\n")
			for l := 0; l < size; l++ {
				fmt.Fprintf(&b, "+    value_%d = transform(value, %d)  # family %d\n", l, (l*family)%5, family)
			}
		}
		cands = append(cands, Candidate{ID: id, Patch: b.String()})
		row := Row{Status: RunOK, Cases: map[string]map[string]outcome.Outcome{"suite": {}}}
		for c := range suite {
			row.Cases["suite"][c] = outcome.Pass
		}
		for j := 0; j < n; j++ {
			o := outcome.Fail
			if (i+j)%3 == 0 {
				o = outcome.Pass
			}
			row.Cases[fmt.Sprintf("gen%02d", j)] = map[string]outcome.Outcome{"a": o, "b": outcome.Pass, "c": o}
		}
		m.Candidates[id] = row
	}
	return Input{Candidates: cands, Matrix: m}
}

func BenchmarkScore(b *testing.B) {
	in := benchJob(40)
	p := mustPolicy(b, PolicyAuto)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Score(in, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSettle: one Settle of the 40-candidate job with half of the runs
// in (the plan asks after every run), policy auto.
func BenchmarkSettle(b *testing.B) {
	in := benchJob(40)
	ad, err := NewAdaptive(Input{Candidates: in.Candidates}, mustPolicy(b, PolicyAuto), nil)
	if err != nil {
		b.Fatal(err)
	}
	half := *in.Matrix
	half.Candidates = map[string]Row{}
	for i, id := range ad.Order() {
		if i%2 == 0 {
			half.Candidates[id] = in.Matrix.Candidates[id]
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		ad.Settle(&half)
	}
}

// BenchmarkNewAdaptive: preparing the same job once (the policy's order,
// every pair's similarity).
func BenchmarkNewAdaptive(b *testing.B) {
	in := benchJob(40)
	p := mustPolicy(b, PolicyAuto)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewAdaptive(Input{Candidates: in.Candidates}, p, nil); err != nil {
			b.Fatal(err)
		}
	}
}
