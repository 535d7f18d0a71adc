package main

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/swebench"
)

// datasetFlags read tasks from a SWE-bench dataset instead of a task file.
type datasetFlags struct {
	file   string
	ids    []string
	images swebench.Images
	mode   string
}

func (d *datasetFlags) register(f *pflag.FlagSet) {
	f.StringVar(&d.file, "dataset", "", "SWE-bench dataset (Parquet as published, JSON list or JSONL rows): derive the tasks from its rows (see docs/FORMATS.md)")
	f.StringSliceVar(&d.ids, "instance-ids", nil, "with --dataset: only these instance IDs (comma-separated; repeatable)")
	f.StringVar(&d.images.Namespace, "dataset-namespace", swebench.DefaultImages.Namespace, `with --dataset: instance image namespace ("none" for images the harness built locally)`)
	f.StringVar(&d.images.Arch, "dataset-arch", swebench.DefaultImages.Arch, "with --dataset: instance image architecture (x86_64 or arm64)")
	f.StringVar(&d.images.Tag, "dataset-tag", swebench.DefaultImages.Tag, "with --dataset: instance image tag")
	f.StringVar(&d.mode, "regression-tests", "", "with --dataset: original tests to run: related (default: the existing tests of the modules the candidates change), p2p (the files of the row's PASS_TO_PASS run, and only the cases it names count) or all (the whole suite)")
}

// tasks returns the tasks of the dataset, or of the task file when no
// dataset is given. Rows whose task cannot be derived are reported on warn
// when skip is set (a batch goes on without them: they end as failed
// instances) and are errors otherwise.
func (d *datasetFlags) tasks(taskFile, taskFlag string, skip bool, warn io.Writer) ([]selector.Task, string, error) {
	switch {
	case d.file != "" && taskFile != "":
		return nil, "", fmt.Errorf("give either --dataset or %s, not both", taskFlag)
	case d.file == "":
		if len(d.ids) > 0 {
			return nil, "", fmt.Errorf("--instance-ids needs --dataset")
		}
		if taskFile == "" {
			return nil, "", nil
		}
		tasks, err := selector.LoadTasks(taskFile)
		return tasks, taskFile, err
	}
	mode, err := swebench.ParseMode(d.mode)
	if err != nil {
		return nil, "", fmt.Errorf("--regression-tests: %w", err)
	}
	if err := d.images.Validate(); err != nil {
		return nil, "", err
	}
	rows, err := swebench.Load(d.file, d.ids)
	if err != nil {
		return nil, "", err
	}
	opts := swebench.Options{Images: d.images, Mode: mode}
	var tasks []selector.Task
	for _, r := range rows {
		t, err := opts.Task(r)
		if err != nil {
			if !skip {
				return nil, "", err
			}
			fmt.Fprintf(warn, "bestpatch: skipping %s: %v\n", r.InstanceID, err)
			continue
		}
		tasks = append(tasks, t)
	}
	if len(tasks) == 0 {
		return nil, "", fmt.Errorf("no task could be derived from %s", d.file)
	}
	return tasks, d.file, nil
}
