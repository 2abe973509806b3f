package main

import (
	"os"
	"strings"

	"github.com/spf13/cobra"
)

func newRootCmd(io *streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "sipscope",
		Short: "SIP capture and call-flow analyzer",
		Long: `sipscope reads SIP from packet captures (pcap, pcapng, gzip, HEP), follows every
message through its dialog and transaction, and shows why a call went the way it did.

Captures may be given as files or "-" for standard input; several files are merged
by timestamp. Analyses can be kept in a SQLite database with "import" and queried
later with --db.`,
		Example: `  sipscope messages call.pcap
  sipscope calls --state rejected call.pcap
  sipscope import *.pcap --db calls.db && sipscope calls --db calls.db --kind call
  sipscope flow --call 85216695-42dcdb1d@192.168.1.2 aaa.pcap
  sipscope export --call ID --format html -o call.html aaa.pcap`,
		// `sipscope FILE...` opens the TUI on a terminal, as `sngrep -I`
		// does, and prints `calls` when piped.
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return c.Help()
			}
			// A mistyped command ("sipscope cals x.pcap") is not a file.
			if _, err := os.Stat(args[0]); err != nil && args[0] != "-" && !strings.ContainsAny(args[0], "./") {
				return usagef("unknown command %q for \"sipscope\", and no file of that name (see sipscope --help)", args[0])
			}
			if io.OutTTY && isTerminal(os.Stdin) {
				return runTUI(c.Context(), &tuiOptions{source: sourceOptions{files: args}}, io)
			}
			return runCalls(c.Context(), &callsOptions{source: sourceOptions{files: args}, format: "table"}, io)
		},
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.SetVersionTemplate("sipscope {{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{msg: flagError(err) + " (see " + c.CommandPath() + " --help)"}
	})
	root.AddCommand(
		newMessagesCmd(io),
		newCallsCmd(io),
		newMediaCmd(io),
		newImportCmd(io),
		newShowCmd(io),
		newFlowCmd(io),
		newExportCmd(io),
		newDiagnoseCmd(io),
		newStatsCmd(io),
		newCaptureCmd(io),
		newTUICmd(io),
	)
	return root
}
