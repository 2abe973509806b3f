package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipscope/sipscope/store"
)

type importOptions struct {
	files []string
	db    string
	links linkOptions
	quiet bool
}

func newImportCmd(io *streams) *cobra.Command {
	opts := &importOptions{}
	cmd := &cobra.Command{
		Use:   "import FILE... --db PATH",
		Short: "Analyse captures into a SQLite database for later queries",
		Long: `Decode and correlate the captures and keep everything in a SQLite database:
the files, every SIP message with its raw bytes and the frames that carried it,
dialogs, transactions and links between legs. Query it later with --db on calls,
show, flow and export; other programs can read it with any SQLite client.

Importing the same capture twice does not duplicate it: it is recognised by its
content and skipped. Several files are merged by timestamp. On a terminal a
progress line shows bytes, messages, dialogs, rate and time left.`,
		Example: `  sipscope import trace.pcap --db calls.db
  sipscope import day1/*.pcap.gz --db week.db
  sipscope calls --db week.db --state rejected`,
		RunE: func(c *cobra.Command, args []string) error {
			opts.files = args
			return runImport(c.Context(), opts, io)
		},
	}
	cmd.Flags().StringVar(&opts.db, "db", "", "database file to create or add to (required)")
	addLinkFlags(cmd, &opts.links)
	cmd.Flags().BoolVarP(&opts.quiet, "quiet", "q", false, "no progress or summary on standard error")
	return cmd
}

func runImport(ctx context.Context, opts *importOptions, io *streams) error {
	if opts.db == "" {
		return usagef("import needs --db PATH: the database to write")
	}
	if len(opts.files) == 0 {
		return usagef("import needs capture files (- for standard input)")
	}
	start := time.Now()
	if os.Getenv("GOGC") == "" {
		// An import allocates a lot of short-lived memory (every message
		// is decoded, correlated and bound to SQL) over a small live
		// heap: collecting at 200% instead of 100% growth takes ~0.6 s of
		// CPU off an import of 50k calls (~5.0 -> ~4.4 s) for ~100 MB
		// more at the peak.
		defer debug.SetGCPercent(debug.SetGCPercent(200))
	}
	st, err := store.Open(opts.db, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	imp := &importer{store: st, files: opts.files, io: io, quiet: opts.quiet,
		// Early: a dialog's messages go to the database when it ends, not
		// after Grace, so memory does not grow with the capture.
		correlate: opts.links.options()}
	res, err := imp.run(ctx)
	if err != nil {
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	if !opts.quiet {
		fmt.Fprintf(io.ErrOut, "%s: %d frames, %d SIP messages, %d dialogs from %d file(s) in %s\n",
			opts.db, res.decode.Stats.Frames, res.writer.Messages, res.writer.Dialogs-res.writer.Merged,
			len(opts.files)-len(res.skipped), time.Since(start).Round(time.Millisecond))
		if n := res.writer.Overlaps; n > 0 {
			fmt.Fprintf(io.ErrOut, "%s: %d messages were stored already (same time, addresses and bytes, from another file): not stored again\n", opts.db, n)
		}
	}
	return nil
}
