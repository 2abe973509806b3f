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

	"github.com/sipscope/sipscope/capture"
	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/render"
	"github.com/sipscope/sipscope/render/tui"
	"github.com/sipscope/sipscope/store"
)

type tuiOptions struct {
	source sourceOptions
	// live, with -i or --hep-listen, captures live instead of reading
	// files: the same runCapture as `sipscope capture`.
	live captureOptions
	// columns are the call list's columns (--columns).
	columns string
	// mergePorts and aliasFile shape the flow's columns, as in flow.
	mergePorts bool
	aliasFile  string
}

func newTUICmd(io *streams) *cobra.Command {
	opts := &tuiOptions{}
	cmd := &cobra.Command{
		Use:   "tui [FILE...|-|--db PATH]",
		Short: "Browse calls interactively: call list, ladder, raw messages",
		Long: `Open the interactive terminal UI (sngrep's workflow). The call list fills in while
the capture loads; Enter shows the selected dialog's ladder (the same one
"sipscope flow" prints) with the raw text of the selected message below it;
Enter again shows the whole message. / searches as you type (Call-ID, From/To
users and URIs, User-Agent, addresses); Tab in its prompt searches every
message instead (any header, the body: slower, on Enter, Esc stops it).
f opens the filter line, h lists every key, q goes back and quits.
m in a flow merges its columns by IP (--merge-ports); --alias names them.
Space marks dialogs, x shows the marked ones (or one call and its linked
legs) in one ladder, s saves the current, marked or filtered dialogs in any
format of "sipscope export" (the file name's extension picks it).

--columns chooses the call list's columns: the fields
  start date kind state final status from to src dst transport msgs retrans
  pdd answer duration mos ua callid (mos: the worst RTP stream's E-model MOS)
and any SIP header name (read from the dialog's first request); c changes
them in the UI, o sorts by the next column, O reverses (User-Agent is the ua
field and sorts; other header columns do not).

The filter line speaks the same language everywhere:
  state=busy,rejected from~alice status>=400 kind=call sort=-duration

"sipscope FILE..." on a terminal opens this UI too; piped, it prints "calls".
NO_COLOR turns colours off.`,
		Example: `  sipscope tui trace.pcap
  sipscope trace.pcap
  sipscope tui --db week.db
  sipscope tui --alias hosts.txt --merge-ports trace.pcap
  sipscope tui --columns start,state,final,from,to,pdd,duration,User-Agent,X-Account trace.pcap
  tcpdump -i any -w - port 5060 | sipscope tui -`,
		RunE: func(c *cobra.Command, args []string) error {
			opts.source.files = args
			return runTUI(c.Context(), opts, io)
		},
	}
	addSourceFlags(cmd, &opts.source)
	// -i and --hep-listen: a live capture instead of files.
	addLiveFlags(cmd.Flags(), &opts.live)
	cmd.Flags().BoolVar(&opts.mergePorts, "merge-ports", false, "flows with one column per IP address instead of per IP:port (m in a flow toggles it)")
	cmd.Flags().StringVar(&opts.aliasFile, "alias", "", "name the flows' columns from `FILE`, lines of \"ip[:port] name\"")
	cmd.Flags().StringVar(&opts.columns, "columns", tui.DefaultColumns, "call list `COLUMNS`, comma-separated: fields (start, state, final, pdd, duration, msgs, retrans...) or SIP header names")
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
type tuiFeed func(ctx context.Context, st *store.Store, progress func(tui.Progress)) error

// captureFeed captures live (interfaces, HEP listeners) until the UI quits,
// storing each dialog as it ends; the status line shows the capture's own
// counters, those of `sipscope capture`'s status line (a capture has no
// bytes of a file to count).
func captureFeed(o *captureOptions) tuiFeed {
	return func(ctx context.Context, st *store.Store, progress func(tui.Progress)) error {
		_, err := runCapture(ctx, o, st, func(s captureStatus) {
			progress(liveProgress(s))
		})
		return err
	}
}

// liveProgress is the UI's view of a capture's status.
func liveProgress(s captureStatus) tui.Progress {
	return tui.Progress{Messages: s.Messages, Dialogs: s.Dialogs, Live: &tui.LiveProgress{
		Packets: s.Packets + s.HEPPackets, SIP: s.Messages, Dialogs: s.Dialogs, InProgress: int64(s.Open),
		Drops: s.KernelDrops, HEPDropped: s.HEPDropped,
	}}
}

// fileFeed imports capture files, quietly: the UI owns the terminal, so
// warnings and progress go to the UI, never to standard error.
func fileFeed(o *sourceOptions, in io.Reader) tuiFeed {
	return func(ctx context.Context, st *store.Store, progress func(tui.Progress)) error {
		imp := &importer{
			store: st, files: o.files, quiet: true,
			io:        &streams{In: in, Out: io.Discard, ErrOut: io.Discard},
			correlate: o.links.summaries(false),
			decode:    o.links.limits.decode(),
			progress: func(done, total, msgs, dialogs int64) {
				progress(tui.Progress{Done: done, Total: total, Messages: msgs, Dialogs: dialogs})
			},
			keylog: o.keylog,
		}
		_, err := imp.run(ctx)
		return err
	}
}

func runTUI(ctx context.Context, opts *tuiOptions, ios *streams) error {
	o := &opts.source
	if opts.columns == "" { // `sipscope FILE` has no flags
		opts.columns = tui.DefaultColumns
	}
	columns, err := tui.ParseColumns(opts.columns)
	if err != nil {
		return usagef("--columns: %v", err)
	}
	var aliases render.Aliases
	if opts.aliasFile != "" {
		if aliases, err = render.LoadAliases(opts.aliasFile); err != nil {
			return err
		}
	}
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
		if st, err = store.OpenTemp("", store.Options{ReadWhileWriting: true}); err != nil {
			return err
		}
		defer st.Close()
		// The list pages through the store while it fills: keep the
		// sort indexes a scratch store leaves out.
		if err := st.AddPageIndexes(ctx); err != nil {
			return err
		}
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
		// A file that is missing, a folder, empty or not a capture fails
		// here, on the shell, naming it, rather than as an empty list.
		if err := checkInputs(o.files); err != nil {
			return err
		}
		for _, f := range o.files {
			if f == "-" {
				continue
			}
			src, err := capture.Open([]string{f}, capture.Options{})
			if err != nil {
				return err
			}
			src.Close()
		}
		var err error
		if st, err = store.OpenTemp("", store.Options{ReadWhileWriting: true}); err != nil {
			return err
		}
		defer st.Close()
		// The list pages through the store while it fills: keep the
		// sort indexes a scratch store leaves out.
		if err := st.AddPageIndexes(ctx); err != nil {
			return err
		}
		feed = fileFeed(o, ios.In)
	}
	title := o.db
	if title == "" {
		title = strings.Join(o.files, " ")
	}
	src := &storeSource{st: st, aliasFile: opts.aliasFile}
	// The search lines, read ahead so that the first / key is as quick
	// as the next (about a second at 100,000 dialogs).
	go st.PrepareSearch(ctx) //nolint:errcheck // a failure shows at the search
	app := tui.New(src, tui.Options{NoColor: os.Getenv("NO_COLOR") != "", Title: title,
		Columns: columns, Save: src.save, SaveFormats: exportFormats,
		Aliases: aliases, MergePorts: opts.mergePorts})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	if feed != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last time.Time
			var prog tui.Progress
			err := feed(ctx, st, func(p tui.Progress) {
				prog = p
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
	err = tuiRun(ctx, app)
	cancel()
	wg.Wait() // the importer's Writer is closed before the store is
	return err
}

// tuiRun shows the UI: on the terminal, or, in tests, on a simulation
// screen.
var tuiRun = func(ctx context.Context, app *tui.App) error { return app.RunTerminal(ctx) }

// storeSource is the UI's view of a store: it parses the filter line with
// store.ParseFilter (the one parser of that language) and pages through
// the store's own queries.
type storeSource struct {
	st        *store.Store
	aliasFile string // --alias: saved ladders name their columns as the flow does
}

func (s *storeSource) filter(q tui.Query) (store.Filter, error) {
	f, err := store.ParseFilter(q.Filter)
	if err != nil {
		return f, err
	}
	if q.Sort != "" {
		// o and O in the UI: the order chosen last (the UI drops it when
		// a filter brings its own sort=).
		f.Sort = q.Sort
	}
	switch {
	case q.Search != "" && q.Deep:
		// The deep search matches the raw text of any message (every
		// header, the body), case-insensitive. It replaces a grep~ term.
		f.Grep = regexp.MustCompile("(?i)" + regexp.QuoteMeta(q.Search))
	case q.Search != "":
		// Call-ID, users, URIs, User-Agent, addresses: matched in the
		// store's memory, milliseconds.
		f.Search = q.Search
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

// storeSource readies a header column's sort index in the background
// (the UI calls it for each header column it shows).
var _ tui.SortPreparer = (*storeSource)(nil)

func (s *storeSource) PrepareSort(ctx context.Context, header string) error {
	return s.st.PrepareHeaderSort(ctx, header)
}

// storeSource gives the TUI the calls' streams: bands, media findings, mos.
var _ tui.MediaSource = (*storeSource)(nil)

func (s *storeSource) Streams(ctx context.Context, callIDs []string) ([]correlate.Stream, error) {
	return s.st.Streams(ctx, callIDs)
}

func (s *storeSource) Messages(ctx context.Context, callIDs []string) ([]*correlate.Message, error) {
	return s.st.Messages(ctx, callIDs)
}

func (s *storeSource) Tally(ctx context.Context, q tui.Query) (tui.Tally, error) {
	f, err := s.filter(q)
	if err != nil {
		return tui.Tally{}, err
	}
	t, err := s.st.Tally(ctx, f)
	return tui.Tally{Dialogs: t.Dialogs, Messages: t.Messages, States: t.States, Kinds: t.Kinds,
		Methods: t.Methods, Statuses: t.Statuses}, err
}

// save is the UI's save prompt: `sipscope export`'s code (format from
// the extension, the same writers, a file replaced only once whole), for
// the dialogs the UI names or, without groups, every dialog its query
// selects.
func (s *storeSource) save(ctx context.Context, r tui.SaveRequest) (int, string, error) {
	if r.Path == "-" {
		return 0, "", errors.New("name a file: the UI owns the terminal")
	}
	format, err := exportFormat("", r.Path)
	if err != nil {
		return 0, "", fmt.Errorf("%s: the extension names the format: .%s", r.Path, strings.Join(exportFormats, " ."))
	}
	groups := r.Groups
	if groups == nil {
		f, err := s.filter(r.Query)
		if err != nil {
			return 0, "", err
		}
		for d, err := range s.st.Dialogs(ctx, f) {
			if err != nil {
				return 0, "", err
			}
			groups = append(groups, []string{d.CallID})
		}
	}
	if len(groups) == 0 {
		return 0, "", errors.New("no dialogs to save")
	}
	if n := len(groups); n > 1 {
		switch format {
		case "svg", "mermaid", "plantuml":
			return 0, "", fmt.Errorf("%s draws one ladder but %d dialogs are chosen: save one (Tab: current) or use .html", format, n)
		}
	}
	if err := checkOutput(r.Path); err != nil {
		return 0, "", err
	}
	opts := &exportOptions{format: format, out: r.Path}
	opts.ladder.mergePorts, opts.ladder.aliasFile = r.MergePorts, s.aliasFile
	if r.Groups != nil && len(groups) == 1 {
		opts.ladder.calls = groups[0] // one ladder: a single-call page
	}
	n := 0
	for _, g := range groups {
		n += len(g)
	}
	quiet := &streams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}
	return n, format, exportFile(ctx, s.st, opts, groups, quiet)
}
