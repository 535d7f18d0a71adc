package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
)

func newTasksCmd() *cobra.Command {
	var ds datasetFlags
	cmd := &cobra.Command{
		Use:   "tasks --dataset DATASET [--instance-ids ID,...]",
		Short: "Print the task files derived from SWE-bench dataset rows",
		Long: `tasks derives a task from every row of a SWE-bench dataset (Parquet, JSON list
or JSONL, in the public schema) exactly as select and batch do with --dataset,
and prints them as JSONL, one task a line: a file that --task (select) and
--tasks (batch) load, to see or edit what will run.

The derivation reads instance_id, repo, version and problem_statement, and
PASS_TO_PASS only with --regression-tests p2p; it never reads test_patch, patch
or FAIL_TO_PASS (the hidden answer). docs/FORMATS.md shows it for every
repository.`,
		Example: `  bestpatch tasks --dataset test-00000-of-00001.parquet --instance-ids django__django-11099 > tasks.jsonl
  bestpatch select --task tasks.jsonl --preds preds.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if ds.file == "" {
				return fmt.Errorf("tasks needs --dataset FILE (see bestpatch tasks --help)")
			}
			tasks, _, err := ds.tasks("", "", false, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetEscapeHTML(false)
			for _, t := range tasks {
				if err := enc.Encode(t); err != nil {
					return err
				}
			}
			return nil
		},
	}
	ds.register(cmd.Flags())
	return cmd
}
