package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/bestpatch/bestpatch/accuracy"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/spf13/cobra"
)

func newEvalCmd() *cobra.Command {
	var data, policies []string
	var tune int
	cmd := &cobra.Command{
		Use:   "eval --data FILE.jsonl.gz [--data FILE ...]",
		Short: "Measure every selection policy on labelled candidate sets",
		Long: `eval runs every policy on labelled candidate sets (one JSON line per
instance: {"instance_id", "candidates": [{"system", "patch", "resolved"}]})
and prints, per data set and split (dev: sha256(instance_id) starts with 0-7;
test: the rest), the tie-aware accuracy of random pick, majority vote, each
policy, the best single system and the oracle, and each signal's AUC.
Only execution-free signals apply: the data carries no tests.

--tune N instead grid-searches the weights of the consensus key on the dev
splits only and prints the N best weightings.`,
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
			if tune > 0 {
				ws, err := accuracy.Tune(cmd.Context(), sets, accuracy.TuneGrid)
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
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&data, "data", nil, "labelled candidate set, JSON lines (gzip when .gz); repeatable")
	cmd.Flags().StringArrayVar(&policies, "policy", scoring.PolicyNames(), "policy name or JSON spec to measure; repeatable")
	cmd.Flags().IntVar(&tune, "tune", 0, "grid-search the consensus weights on the dev splits and print the N best")
	return cmd
}
