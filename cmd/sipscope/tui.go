package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/render/tui"
	"github.com/sipscope/sipscope/store"
)

type tuiOptions struct {
	source sourceOptions
	// live, with -i or --hep-listen, captures live instead of reading
	// files: the same runCapture as `sipscope capture`.
	live captureOptions
}

func newTUICmd(io *streams) *cobra.Command {
	opts := &tuiOptions{}
	cmd := &cobra.Command{
		Use:   "tui [FILE...|-|--db PATH]",
		Short: "Browse calls interactively: call list, ladder, raw messages",
		Long: `Open the interactive terminal UI (sngrep's workflow). The call list fills in while
the capture loads; Enter shows the selected dialog's ladder (the same one
"sipscope flow" prints) with the raw text of the selected message below it;
Enter again shows the whole message. / searches (Call-ID, users, any header),
f opens the filter line, h lists every key, q goes back and quits.

The filter line speaks the same language everywhere:
  state=busy,rejected from~alice status>=400 kind=call sort=-duration

"sipscope FILE..." on a terminal opens this UI too; piped, it prints "calls".
NO_COLOR turns colours off.`,
		Example: `  sipscope tui trace.pcap
  sipscope trace.pcap
  sipscope tui --db week.db
  tcpdump -i any -w - port 5060 | sipscope tui -`,
		RunE: func(c *cobra.Command, args []string) error {
			opts.source.files = args
			return runTUI(c.Context(), opts, io)
		},
	}
	addSourceFlags(cmd, &opts.source)
	// -i and --hep-listen: a live capture instead of files.
	addLiveFlags(cmd.Flags(), &opts.live)
	return cmd
}

// tuiFeed fills st while the UI shows it, telling progress how far it has
// come (done of total bytes, 0 total when unknown; messages and dialogs
// stored). The store is readable while its Writer writes: it commits every
// BatchInterval, and the UI re-queries on each progress call.
//
// The file feed is the only one today. A live capture (`sipscope tui -i
// IFACE`) and a HEP listener (`--hep-listen ADDR`) plug in here as two more
// tuiFeed values that run the same importer over their frame source until
// ctx ends; runTUI does not change.
type tuiFeed func(ctx context.Context, st *store.Store, progress func(done, total, msgs, dialogs int64)) error

// captureFeed captures live (interfaces, HEP listeners) until the UI quits,
// storing each dialog as it ends; the UI shows messages and dialogs so far.
func captureFeed(o *captureOptions) tuiFeed {
	return func(ctx context.Context, st *store.Store, progress func(done, total, msgs, dialogs int64)) error {
		_, err := runCapture(ctx, o, st, func(s captureStatus) {
			progress(0, 0, s.Messages, s.Dialogs)
		})
		return err
	}
}

// fileFeed imports capture files, quietly: the UI owns the terminal, so
// warnings and progress go to the UI, never to standard error.
func fileFeed(o *sourceOptions, in io.Reader) tuiFeed {
	return func(ctx context.Context, st *store.Store, progress func(done, total, msgs, dialogs int64)) error {
		imp := &importer{
			store: st, files: o.files, quiet: true,
			io:        &streams{In: in, Out: io.Discard, ErrOut: io.Discard},
			correlate: o.links.summaries(false),
			progress:  progress,
			keylog:    o.keylog,
		}
		_, err := imp.run(ctx)
		return err
	}
}

func runTUI(ctx context.Context, opts *tuiOptions, ios *streams) error {
	o := &opts.source
	var st *store.Store
	var feed tuiFeed
	live := len(opts.live.ifaces) > 0 || len(opts.live.hep.listen) > 0
	switch {
	case live && (o.db != "" || len(o.files) > 0):
		return usagef("give -i/--hep-listen or capture files or --db, not several")
	case live:
		if _, err := opts.live.check(); err != nil {
			return err
		}
		opts.live.links = o.links
		opts.live.keylog = o.keylog
		var err error
		if st, err = store.OpenTemp("", store.Options{}); err != nil {
			return err
		}
		defer st.Close()
		feed = captureFeed(&opts.live)
		o.files = append(o.files, "live: "+strings.Join(append(slices.Clone(opts.live.ifaces), opts.live.hep.listen...), ","))
	case o.db != "" && len(o.files) > 0:
		return usagef("give capture files or --db, not both")
	case o.db != "":
		var release func()
		var err error
		if st, release, err = openSource(ctx, o, keepEverything, nil, ios); err != nil {
			return err
		}
		defer release()
	case len(o.files) == 0:
		return usagef("no capture file given: name capture files (- for standard input) or --db PATH")
	default:
		for _, f := range o.files {
			if f == "-" {
				continue
			}
			if _, err := os.Stat(f); err != nil {
				return fmt.Errorf("open %s: %w", f, errors.Unwrap(err))
			}
		}
		var err error
		if st, err = store.OpenTemp("", store.Options{}); err != nil {
			return err
		}
		defer st.Close()
		feed = fileFeed(o, ios.In)
	}
	title := o.db
	if title == "" {
		title = strings.Join(o.files, " ")
	}
	app := tui.New(&storeSource{st: st}, tui.Options{NoColor: os.Getenv("NO_COLOR") != "", Title: title})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	if feed != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last time.Time
			var prog tui.Progress
			err := feed(ctx, st, func(done, total, msgs, dialogs int64) {
				prog = tui.Progress{Done: done, Total: total, Messages: msgs, Dialogs: dialogs}
				// A few redraws a second: each one re-queries the store.
				if now := time.Now(); now.Sub(last) >= 250*time.Millisecond {
					last = now
					app.Progress(prog)
				}
			})
			prog.Finished = true
			if err != nil && ctx.Err() == nil {
				prog.Err = err
			}
			app.Progress(prog)
		}()
	} else {
		app.Progress(tui.Progress{Finished: true})
	}
	err := app.RunTerminal(ctx)
	cancel()
	wg.Wait() // the importer's Writer is closed before the store is
	return err
}

// storeSource is the UI's view of a store: it parses the filter line with
// store.ParseFilter (the one parser of that language) and pages through
// the store's own queries.
type storeSource struct{ st *store.Store }

func (s *storeSource) filter(q tui.Query) (store.Filter, error) {
	f, err := store.ParseFilter(q.Filter)
	if err != nil {
		return f, err
	}
	if q.Sort != "" && f.Sort == "" {
		f.Sort = q.Sort
	}
	if q.Search != "" {
		// The search matches the raw text of any message: Call-ID, users
		// and every header, case-insensitive. It replaces a grep~ term.
		f.Grep = regexp.MustCompile("(?i)" + regexp.QuoteMeta(q.Search))
	}
	return f, nil
}

func (s *storeSource) Count(ctx context.Context, q tui.Query) (int, error) {
	f, err := s.filter(q)
	if err != nil {
		return 0, err
	}
	n, err := s.st.Count(ctx, f)
	return int(n), err
}

func (s *storeSource) Dialogs(ctx context.Context, q tui.Query, offset, limit int) ([]*correlate.Dialog, error) {
	f, err := s.filter(q)
	if err != nil {
		return nil, err
	}
	return s.st.Page(ctx, f, offset, limit)
}

func (s *storeSource) Messages(ctx context.Context, callIDs []string) ([]*correlate.Message, error) {
	return s.st.Messages(ctx, callIDs)
}
