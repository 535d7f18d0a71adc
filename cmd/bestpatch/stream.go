package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
)

// streamFlags are select's flags for an open job fed from standard input.
type streamFlags struct {
	on         bool
	target     float64
	maxSamples int
	untilStop  bool
}

func (f *streamFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&f.on, "stream", false, "read predictions (JSONL) from standard input as they come into an open job: after each batch, print the standing verdict (stop, continue or abstain); at the end of the input, close the job and print its verdict")
	fs.Float64Var(&f.target, "target-confidence", 0, fmt.Sprintf("with --stream: the confidence the stop rule asks of the choice (default %g)", scoring.DefaultTargetConfidence))
	fs.IntVar(&f.maxSamples, "max-samples", 0, "with --stream: the sampling budget: from this many candidates on, the rule says stop or abstain, never continue (0: none)")
	fs.BoolVar(&f.untilStop, "until-stop", false, "with --stream: close the job as soon as the rule says stop or abstain, without reading further")
}

// rule is the stop rule the flags ask for.
func (f *streamFlags) rule() (*scoring.StopRule, error) {
	r := &scoring.StopRule{Target: f.target, MaxSamples: f.maxSamples}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("--target-confidence, --max-samples: %w", err)
	}
	return r, nil
}

// streamLine is one line of the input, read.
type streamLine struct {
	n   int
	raw []byte
	err error // the input failed
}

// readLines sends the input's non-blank lines as they come, then closes
// the channel. It holds up to a thousand lines the job has not taken yet,
// so that an agent writing predictions is not held up by the runs.
func readLines(in io.Reader) <-chan streamLine {
	ch := make(chan streamLine, selector.MaxCandidates)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 0, 1<<20), selector.MaxJobPatchBytes)
		n := 0
		for sc.Scan() {
			n++
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			ch <- streamLine{n: n, raw: append([]byte(nil), sc.Bytes()...)}
		}
		if err := sc.Err(); err != nil {
			ch <- streamLine{n: n + 1, err: err}
		}
	}()
	return ch
}

// streamSelect runs an open job fed by the predictions lines of in: each
// batch of lines that came while the job was busy is one append, after
// which the standing verdict is printed (a line of text, or with asJSON a
// JSON line {"standing": ...}). At the end of the input (or, with
// untilStop, at the first stop or abstain), the job is closed; its report
// and candidates are returned.
func streamSelect(ctx context.Context, out io.Writer, in io.Reader, sel *selector.Selector, job selector.Job, priors *scoring.Priors,
	untilStop, asJSON bool) (selector.Report, []scoring.Candidate, error) {
	st, err := sel.Open(ctx, job)
	if err != nil {
		return selector.Report{}, nil, err
	}
	lines := readLines(in)
	var all []scoring.Candidate
	sample := 0
	for eof := false; !eof; {
		var batch []scoring.Candidate
		take := func(l streamLine) error {
			if l.err != nil {
				return fmt.Errorf("standard input, line %d: %w", l.n, l.err)
			}
			id, c, err := selector.ReadPredictionLine("standard input", l.n, l.raw, sample)
			if err != nil {
				return err
			}
			if id != job.Task.ID {
				return fmt.Errorf("standard input, line %d: instance_id %q, but the task is %q: --stream takes the predictions of one task", l.n, id, job.Task.ID)
			}
			sample++
			if priors != nil {
				c = priors.Apply([]scoring.Candidate{c}, scoring.RepoOf(id))[0]
			}
			batch = append(batch, c)
			return nil
		}
		// Wait for one line, then take every line that came meanwhile.
		select {
		case l, ok := <-lines:
			if !ok {
				eof = true
				break
			}
			if err := take(l); err != nil {
				return selector.Report{}, nil, err
			}
		drain:
			for {
				select {
				case l, ok := <-lines:
					if !ok {
						eof = true
						break drain
					}
					if err := take(l); err != nil {
						return selector.Report{}, nil, err
					}
				default:
					break drain
				}
			}
		case <-ctx.Done():
			return selector.Report{}, nil, ctx.Err()
		}
		if len(batch) == 0 {
			continue
		}
		all = append(all, batch...)
		rep, err := st.Append(ctx, batch...)
		if err != nil {
			return selector.Report{}, nil, err
		}
		if err := printStanding(out, *rep.Standing, asJSON); err != nil {
			return selector.Report{}, nil, err
		}
		if untilStop && rep.Standing.Recommendation != scoring.RecommendContinue {
			break
		}
	}
	rep, err := st.Close(ctx)
	return rep, all, err
}

// printStanding prints a standing verdict: one line of text, or of JSON.
func printStanding(out io.Writer, s scoring.Standing, asJSON bool) error {
	if !asJSON {
		_, err := fmt.Fprintln(out, "Standing", selector.StandingLine(s))
		return err
	}
	b, err := json.Marshal(struct {
		Standing scoring.Standing `json:"standing"`
	}{s})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s\n", b)
	return err
}
