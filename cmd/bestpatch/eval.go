package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/bestpatch/bestpatch/bench/accuracy"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/spf13/cobra"
)

func newEvalCmd() *cobra.Command {
	var data, policies []string
	var tune, tunePriors int
	var fitPriors, fitOn, fitConfidence, term string
	var stream bool
	cmd := &cobra.Command{
		Use:   "eval --data FILE.jsonl.gz [--data FILE ...]",
		Short: "Measure every selection policy on labelled candidate sets",
		Long: `eval runs every policy on labelled candidate sets (one JSON line per
instance: {"instance_id", "candidates": [{"system", "patch", "resolved"}]})
and prints, per data set and split (dev: sha256(instance_id) starts with 0-7;
test: the rest), the tie-aware accuracy of random pick, majority vote,
best-system-on-dev (the system that resolved the most dev instances), each
policy, each signal alone, the best single system (chosen with the labels
scored: a reference) and the oracle, with their mixed ties, and each
signal's AUC: the one accuracy table (docs/SCORING.md).
Only execution-free signals apply: the data carries no tests.

Candidates carry reliability priors (per model and repository) fitted on
the dev split only: out of fold for dev instances. Policy auto weighs them;
policy consensus is auto without them.

--tune N instead grid-searches the weights of the consensus key on the dev
splits only and prints the N best weightings. --tune-priors N does the same
for the priors' strengths and weight (priors fitted out of fold on dev).

--term SIGNAL measures what one more signal adds to auto's execution-free
key, at a few weights, on the dev splits only (with and without priors).

--fit-priors FILE writes reliability priors fitted on the labelled
candidates of --fit-on (dev, the default, or all) of every data set, for
select and batch --priors.

After the tables, eval fits the confidence of policy auto's verdicts
(P(the chosen candidate is correct)) on the dev splits and prints its
Brier score and expected calibration error on every split;
--fit-confidence FILE writes that model into FILE, keeping a model of
another scope already there (scoring/confidence_default.json is refitted
so; its tests-scope model comes from bench accuracy --fit-confidence).

--stream then replays streaming jobs: each instance's candidates arrive one
at a time (in the data set's order, and in random orders), and the stop
rule says after each whether to sample more; it prints the samples used and
the accuracy where sampling stopped against always drawing all N, at each
target confidence (docs/SCORING.md, "When to stop sampling").`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(data) == 0 {
				return fmt.Errorf("no data set given: pass --data FILE.jsonl.gz")
			}
			var ps []scoring.Policy
			for _, spec := range policies {
				p, err := scoring.ParsePolicy(spec)
				if err != nil {
					return err
				}
				ps = append(ps, p)
			}
			var sets []accuracy.DataSet
			for _, path := range data {
				insts, err := accuracy.LoadFile(path)
				if err != nil {
					return err
				}
				name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(path), ".gz"), ".jsonl")
				sets = append(sets, accuracy.DataSet{Name: name, Instances: insts})
			}
			out := cmd.OutOrStdout()
			if fitPriors != "" {
				return writePriors(out, fitPriors, fitOn, sets)
			}
			if term != "" {
				rs, err := accuracy.MeasureTerm(cmd.Context(), sets, scoring.Signal(term))
				if err != nil {
					return err
				}
				return accuracy.WriteTermResults(out, rs)
			}
			if tunePriors > 0 {
				ss, err := accuracy.TunePriors(cmd.Context(), sets)
				if err != nil {
					return err
				}
				return accuracy.WritePriorSettings(out, ss[:min(tunePriors, len(ss))])
			}
			if tune > 0 {
				ws, err := accuracy.Tune(cmd.Context(), sets, accuracy.TuneGrid())
				if err != nil {
					return err
				}
				return accuracy.WriteWeightings(out, ws[:min(tune, len(ws))])
			}
			for _, ds := range sets {
				tables, err := accuracy.Evaluate(cmd.Context(), ds.Name, ds.Instances, ps)
				if err != nil {
					return err
				}
				for _, t := range tables {
					if err := accuracy.WriteSplitTable(out, t); err != nil {
						return err
					}
				}
			}
			cal, err := accuracy.CalibrateSets(cmd.Context(), sets)
			if err != nil {
				return err
			}
			if err := accuracy.WriteCalibration(out, cal); err != nil {
				return err
			}
			if fitConfidence != "" {
				fitted := scoring.ConfidenceModels{cal.Model}
				kept, err := writeConfidenceModels(fitConfidence, fitted)
				if err != nil {
					return fmt.Errorf("--fit-confidence: %w", err)
				}
				reportConfidenceWritten(out, fitConfidence, fitted, kept)
			}
			if stream {
				fmt.Fprintln(out)
				cs, err := accuracy.StreamSets(cmd.Context(), sets)
				if err != nil {
					return err
				}
				return accuracy.WriteSetCurves(out, cs)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&data, "data", nil, "labelled candidate set, JSON lines (gzip when .gz); repeatable")
	cmd.Flags().StringArrayVar(&policies, "policy", scoring.PolicyNames(), "policy name or JSON spec to measure; repeatable")
	cmd.Flags().IntVar(&tune, "tune", 0, "grid-search the consensus weights on the dev splits and print the N best")
	cmd.Flags().IntVar(&tunePriors, "tune-priors", 0, "grid-search the priors' strengths and weight on the dev splits (priors out of fold) and print the N best")
	cmd.Flags().StringVar(&fitPriors, "fit-priors", "", "write reliability priors fitted on the data sets' labelled candidates to this JSON file")
	cmd.Flags().StringVar(&fitOn, "fit-on", accuracy.SplitDev, "which instances --fit-priors fits on: dev or all")
	cmd.Flags().StringVar(&fitConfidence, "fit-confidence", "", "write the execution-free confidence model fitted on the dev splits into this JSON file (models of other scopes in it are kept)")
	cmd.Flags().StringVar(&term, "term", "", "measure auto's key plus this signal at a few weights on the dev splits")
	cmd.Flags().BoolVar(&stream, "stream", false, "also replay streaming jobs: samples used and accuracy of the stop rule at each target confidence, against all N")
	return cmd
}

// writePriors fits priors on the sets' instances of one split (or all) and
// writes them as JSON.
func writePriors(out io.Writer, path, fitOn string, sets []accuracy.DataSet) error {
	split := ""
	switch fitOn {
	case accuracy.SplitDev:
		split = accuracy.SplitDev
	case "all":
	default:
		return fmt.Errorf("--fit-on %q: want dev or all", fitOn)
	}
	var insts []accuracy.Instance
	var names []string
	for _, ds := range sets {
		insts = append(insts, ds.Instances...)
		names = append(names, ds.Name)
	}
	p := accuracy.FitPriors(insts, split)
	p.Source = fmt.Sprintf("%s (%s)", strings.Join(names, ", "), fitOn)
	if err := p.Validate(); err != nil {
		return err
	}
	if err := writeJSONFile(path, p); err != nil {
		return fmt.Errorf("--fit-priors: %w", err)
	}
	_, err := fmt.Fprintf(out, "priors: %d models, %d labelled candidates (%d correct) of %s -> %s\n", len(p.Models), p.Overall.Total, p.Overall.Correct, p.Source, path)
	return err
}

// writeJSONFile writes v as indented JSON.
func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
