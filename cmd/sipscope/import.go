package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
	// keylog is the --keylog file of TLS secrets.
	keylog string
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
  sipscope import trunk-tls.pcap --keylog sslkeys.txt --db calls.db
  sipscope calls --db week.db --state rejected`,
		RunE: func(c *cobra.Command, args []string) error {
			opts.files = args
			return runImport(c.Context(), opts, io)
		},
	}
	cmd.Flags().StringVar(&opts.db, "db", "", "database file at `PATH` to create or add to (required)")
	addLinkFlags(cmd, &opts.links)
	cmd.Flags().BoolVarP(&opts.quiet, "quiet", "q", false, "no progress or summary on standard error")
	addKeylogFlag(cmd.Flags(), &opts.keylog)
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
		// heap: collecting at 200% instead of 100% growth. Measured on
		// the SIPp bench captures, three runs each, alternating: the
		// 500,000-call import takes 35.3 s instead of 37.7 s (CPU 45.6
		// against 50.2 s) for a peak of 474 MB instead of 355; the
		// 50,000-call one the same 4.4 s, 360 MB instead of 284.
		defer debug.SetGCPercent(debug.SetGCPercent(200))
	}
	// Everything that can be checked is, before the database is created:
	// a failed import must not leave a new, empty database behind.
	if err := checkInputs(opts.files); err != nil {
		return err
	}
	if err := checkDB(opts.db); err != nil {
		return err
	}
	_, statErr := os.Lstat(opts.db)
	created := errors.Is(statErr, fs.ErrNotExist)
	res, err := importInto(ctx, opts, io)
	if err != nil && store.IsFull(err) {
		return diskFull(opts.db, created)
	}
	if err != nil {
		// A new database that failed holds nothing worth keeping, or a
		// part of a capture that cannot be resumed. An interrupted one
		// keeps what was read: the user stopped it and may query it.
		if created && ctx.Err() == nil {
			removeDB(opts.db)
		}
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

// diskFull is the error of an import that filled the disk. SQLite rolled
// the last batch back, so the database holds whole dialogs, every batch
// committed before: they are kept (a new database that holds none is
// removed, to give the space back), and running the same import again
// once there is room completes it without storing anything twice.
func diskFull(db string, created bool) error {
	n := int64(-1)
	if st, err := store.Open(db, store.Options{ReadOnly: true}); err == nil {
		if c, err := st.Counts(context.Background()); err == nil {
			n = c.Dialogs
		}
		st.Close()
	}
	switch {
	case n == 0 && created:
		removeDB(db)
		return fmt.Errorf("--db %s: the disk is full: nothing was stored (free space and run the import again)", db)
	case n < 0:
		return fmt.Errorf("--db %s: the disk is full: what was stored before is kept; free space and run the same import again to complete it", db)
	}
	return fmt.Errorf("--db %s: the disk is full: the %d dialogs stored before are kept; free space and run the same import again to complete it", db, n)
}

// importInto opens the database and imports the files into it.
func importInto(ctx context.Context, opts *importOptions, io *streams) (importResult, error) {
	// DeferIndexes: nothing reads the database while it is imported
	// into, so a new one gets its dialogs indexes at the end (see store).
	st, err := store.Open(opts.db, store.Options{DeferIndexes: true})
	if err != nil {
		return importResult{}, dbError(opts.db, err)
	}
	defer st.Close()
	imp := &importer{store: st, files: opts.files, io: io, quiet: opts.quiet, keylog: opts.keylog,
		// Early: a dialog's messages go to the database when it ends, not
		// after Grace, so memory does not grow with the capture.
		correlate: opts.links.options(), decode: opts.links.limits.decode(), diagnose: true}
	res, err := imp.run(ctx)
	if err != nil {
		return res, err
	}
	if err := st.Close(); err != nil {
		return res, fmt.Errorf("--db %s: %w", opts.db, err)
	}
	return res, nil
}

// checkDB refuses a --db path whose folder does not exist or that is a
// folder, in words (SQLite says "unable to open database file (14)").
func checkDB(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("--db %s is a folder: name a database file, e.g. --db %s", path, filepath.Join(path, "calls.db"))
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("--db %s: folder %s does not exist", path, dir)
	case err != nil:
		return fmt.Errorf("--db %s: %w", path, pathErr(err))
	case !fi.IsDir():
		return fmt.Errorf("--db %s: %s is not a folder", path, dir)
	}
	return nil
}

// removeDB removes a database this run created, with SQLite's side files.
func removeDB(path string) {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		os.Remove(path + suffix)
	}
}
