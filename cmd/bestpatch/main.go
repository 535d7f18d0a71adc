// Command bestpatch picks the best of N candidate patches for a software issue.
//
// It is thin on purpose: flags and wiring only. The work lives in packages
// selector, executor, scoring and generator.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		var ec exitCode
		if asExitCode(err, &ec) {
			os.Exit(int(ec))
		}
		fmt.Fprintln(os.Stderr, "bestpatch:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "bestpatch",
		Short: "Pick the best of N candidate patches for a software issue",
		Long: `bestpatch runs every distinct candidate patch against generated and original
tests (locally or in Docker containers), scores them (FP/PP self-play score,
regressions, consensus, verifier), and reports the chosen patch with its evidence.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		// Subcommands register here, one line each.
		newSelectCmd(),
		newEvalCmd(),
		newBenchCmd(),
		newBatchCmd(),
		newServeCmd(),
		newTasksCmd(),
	)
	return root
}
