package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bestpatch/bestpatch/scoring"
)

// streamRun runs select --stream in-process, its standard input a pipe
// that the test writes to; the lines it prints come on a channel.
func streamRun(t *testing.T, args ...string) (in *io.PipeWriter, lines <-chan string, done <-chan error) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	root := newRootCmd()
	root.SetArgs(append([]string{"select", "--stream", "--executor", "local", "--task", filepath.Join(example, "task.json")}, args...))
	root.SetIn(inR)
	root.SetOut(outW)
	root.SetErr(io.Discard)
	ch := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(outR)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			ch <- sc.Text()
		}
		close(ch)
	}()
	errc := make(chan error, 1)
	go func() {
		err := root.ExecuteContext(context.Background())
		outW.Close()
		inR.Close()
		errc <- err
	}()
	return inW, ch, errc
}

// exampleLines are the example's predictions, one JSONL line each, in
// sample order.
func exampleLines(t *testing.T) []string {
	var out []string
	for _, f := range examplePreds(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.TrimSpace(string(b)))
	}
	return out
}

// nextStanding waits for the next standing verdict printed as JSON.
func nextStanding(t *testing.T, lines <-chan string) scoring.Standing {
	t.Helper()
	timeout := time.After(5 * time.Minute)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the output ended before a standing verdict")
			}
			var v struct {
				Standing *scoring.Standing `json:"standing"`
			}
			if json.Unmarshal([]byte(l), &v) == nil && v.Standing != nil {
				return *v.Standing
			}
		case <-timeout:
			t.Fatal("no standing verdict")
		}
	}
}

// TestSelectStream streams the example's predictions into select --stream
// one at a time: with a tests-scope confidence model, the second line
// settles the choice and --until-stop closes the job after two lines; with
// a target no verdict reaches, the rule abstains at the budget (exit
// status 4).
func TestSelectStream(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	lines := exampleLines(t)
	cache := t.TempDir()
	model := filepath.Join(t.TempDir(), "tests-model.json")
	if err := os.WriteFile(model, []byte(`{"scope": "tests", "intercept": -3, "weights": {"fppp": 4, "no_regressions": 2}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	in, out, done := streamRun(t, "--json", "--cache-dir", cache, "--confidence-model", model, "--target-confidence", "0.9", "--until-stop")
	for i, want := range []string{scoring.RecommendContinue, scoring.RecommendStop} {
		if _, err := io.WriteString(in, lines[i]+"\n"); err != nil {
			t.Fatal(err)
		}
		st := nextStanding(t, out)
		if st.Samples != i+1 || st.Recommendation != want || st.Choice != "0/agent-a" {
			t.Fatalf("after line %d: %+v, want %s with the fix chosen", i+1, st, want)
		}
	}
	// --until-stop: the job is closed without reading further.
	var final struct {
		Verdict scoring.Verdict   `json:"verdict"`
		Stand   *scoring.Standing `json:"standing"`
		Runs    []json.RawMessage `json:"runs"`
	}
	for l := range out {
		if json.Unmarshal([]byte(l), &final) == nil && final.Verdict.Policy != "" {
			break
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if final.Verdict.Chosen != "0/agent-a" || final.Stand == nil || final.Stand.Recommendation != scoring.RecommendStop {
		t.Errorf("report: chose %q, standing %+v", final.Verdict.Chosen, final.Stand)
	}
	if len(final.Runs) != 4 {
		t.Errorf("%d runs, want 4: three base runs (the broken generated test screened out) and one for the fix and its twin", len(final.Runs))
	}

	// A target no verdict reaches: no stop, and abstain at the budget.
	in, out, done = streamRun(t, "--json", "--cache-dir", cache, "--max-samples", "2", "--target-confidence", "1")
	go func() {
		for _, l := range lines[:2] {
			io.WriteString(in, l+"\n")
		}
		in.Close()
	}()
	var last scoring.Standing
	for l := range out {
		var v struct {
			Standing *scoring.Standing `json:"standing"`
		}
		if json.Unmarshal([]byte(l), &v) == nil && v.Standing != nil {
			last = *v.Standing
		}
	}
	var code exitCode
	if err := <-done; !errors.As(err, &code) || code != 4 {
		t.Errorf("exit: %v, want status 4", err)
	}
	if last.Samples != 2 || last.Recommendation != scoring.RecommendAbstain || !strings.Contains(last.Why, "below the target of 100.0%; the budget of 2 samples is spent") {
		t.Errorf("last standing verdict %+v, want abstain below the target at the budget", last)
	}
}
