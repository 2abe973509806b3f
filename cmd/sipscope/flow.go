package main

import (
	"bufio"
	"context"
	"fmt"
	goio "io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/render"
	"github.com/sipscope/sipscope/store"
)

// ladderOptions choose the calls of a ladder and how its columns are made;
// shared by flow, show and export.
type ladderOptions struct {
	calls      []string
	linked     bool
	mergePorts bool
	noDups     bool
	aliasFile  string
}

func addLadderFlags(cmd *cobra.Command, o *ladderOptions) {
	cmd.Flags().StringArrayVar(&o.calls, "call", nil, "Call-`ID` of a dialog to draw (repeatable: several legs in one ladder)")
	cmd.Flags().BoolVar(&o.linked, "linked", false, "add every leg linked to the --call dialogs (X-Call-ID, B2BUA suffixes)")
	cmd.Flags().BoolVar(&o.mergePorts, "merge-ports", false, "one column per IP address instead of per IP:port")
	cmd.Flags().BoolVar(&o.noDups, "no-duplicates", false, `leave out duplicate frames (one datagram captured twice), drawn "(duplicate frame)" otherwise`)
	cmd.Flags().StringVar(&o.aliasFile, "alias", "", "name the columns from `FILE`, lines of \"ip[:port] name\"")
}

// ladder loads the chosen dialogs and their messages from st and lays them out.
func (o *ladderOptions) ladder(ctx context.Context, st *store.Store, ids []string) (*render.Ladder, error) {
	var aliases render.Aliases
	if o.aliasFile != "" {
		var err error
		if aliases, err = render.LoadAliases(o.aliasFile); err != nil {
			return nil, err
		}
	}
	dialogs, all, err := resolveCalls(ctx, st, ids, o.linked)
	if err != nil {
		return nil, err
	}
	msgs, err := st.Messages(ctx, all)
	if err != nil {
		return nil, err
	}
	streams, err := st.Streams(ctx, all) // the RTP bands below the messages
	if err != nil {
		return nil, err
	}
	return render.Layout(dialogs, msgs, render.LayoutOptions{MergePorts: o.mergePorts, Aliases: aliases, HideDuplicates: o.noDups, Streams: streams}), nil
}

// keepCalls is an importer filter that stores only the dialogs named (and,
// when linked is set, everything, since links are known only at the end).
func keepCalls(ids []string, linked bool) func(*correlate.Dialog, []*correlate.Message) bool {
	if linked {
		return nil
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	return func(d *correlate.Dialog, _ []*correlate.Message) bool { return want[d.CallID] }
}

type flowOptions struct {
	source ladderSource
	ladder ladderOptions
	ascii  bool
	width  int
	color  string
	// noFindings leaves out the findings block above the ladder.
	noFindings bool
}

// ladderSource opens the store for commands that draw chosen calls: with
// capture files only the chosen dialogs are kept.
type ladderSource struct {
	sourceOptions
	// sole, when set, is how the command names a dialog: given none, it
	// draws the source's only one (solecall.go).
	sole *soleUsage
}

func (s *ladderSource) open(ctx context.Context, o *ladderOptions, io *streams) (*store.Store, func(), error) {
	// The findings block's dtmf-mismatch looks for tones in the audio.
	s.inband = true
	if len(o.calls) == 0 && s.sole != nil {
		return s.openSole(ctx, o, io)
	}
	return openSource(ctx, &s.sourceOptions, keepEverything, keepCalls(o.calls, o.linked), io)
}

// load opens the source and lays out the dialogs o names; release frees
// the source once the ladder has been drawn.
func (s *ladderSource) load(ctx context.Context, o *ladderOptions, io *streams) (l *render.Ladder, release func(), err error) {
	st, release, err := s.open(ctx, o, io)
	if err != nil {
		return nil, nil, err
	}
	if l, err = o.ladder(ctx, st, o.calls); err != nil {
		release()
		return nil, nil, err
	}
	warnInvalidUTF8(io.ErrOut, l)
	return l, release, nil
}

// warnInvalidUTF8 says when a ladder drew bytes that are not UTF-8 (a
// damaged capture, or a peer sending Latin-1) as U+FFFD, so that a reader
// does not take the replacement for what was on the wire.
func warnInvalidUTF8(w goio.Writer, l *render.Ladder) {
	if l.InvalidUTF8 > 0 {
		printWarnings(w, []string{fmt.Sprintf("%d message(s) hold bytes that are not UTF-8: drawn as U+FFFD (\"?\" with --ascii, \".\" in raw dumps)", l.InvalidUTF8)})
	}
}

func newFlowCmd(io *streams) *cobra.Command {
	opts := &flowOptions{source: ladderSource{sole: &soleUsage{cmd: "flow", verb: "draw", flag: "--call"}}}
	cmd := &cobra.Command{
		Use:   "flow [--call ID...|--linked] [FILE...|-|--db PATH]",
		Short: "Draw the ladder diagram of a call in the terminal",
		Long: `Draw the call flow of one or more dialogs: one column per endpoint (IP:port, or
IP with --merge-ports, or names from --alias), one arrow per message in capture
order with the method or status and reason, (SDP) with its codecs, time and delta
on the left. Retransmissions are drawn >>>. Several dialogs (legs linked through
a B2BUA, or several --call) share one ladder, one colour per Call-ID. Without
--call, a capture (or database) that holds a single dialog draws it; with more,
the error names some of their Call-IDs.

Labels are never cut: columns widen to fit them. A ladder wider than the
terminal first stacks column names on two lines (address over :port) and drops
the leading address parts the columns share (…17.55 for 10.243.17.55, listed in
full above the ladder); if it is still too wide it opens in $PAGER (less -S) to
scroll sideways. With --width (or when piped) lines never exceed the width:
labels are shortened, and a note says so.`,
		Example: `  sipscope flow one-call.pcap
  sipscope flow --call 85216695-42dcdb1d@192.168.1.2 aaa.pcap
  sipscope flow --db calls.db --call A-LEG-ID --linked --merge-ports
  sipscope flow --call ID --ascii --width 100 trace.pcap > ticket.txt`,
		RunE: func(c *cobra.Command, args []string) error {
			opts.source.files = args
			return runFlow(c.Context(), opts, io)
		},
	}
	addSourceFlags(cmd, &opts.source.sourceOptions)
	addLadderFlags(cmd, &opts.ladder)
	cmd.Flags().BoolVar(&opts.ascii, "ascii", false, "draw with plain ASCII instead of Unicode box drawing")
	cmd.Flags().BoolVar(&opts.noFindings, "no-findings", false, "leave out the findings (why the call failed, as `sipscope diagnose` says) above the ladder")
	cmd.Flags().IntVar(&opts.width, "width", 0, "fit the ladder to `COLUMNS` characters, 40 or more (default: the terminal width, or no limit when piped)")
	cmd.Flags().StringVar(&opts.color, "color", "auto", "colour per Call-ID `WHEN`: auto (on a terminal), always or never")
	return cmd
}

// minWidth is the narrowest --width a ladder of two columns can be drawn
// in: the time column and two lifelines with an arrow between them.
const minWidth = 40

func runFlow(ctx context.Context, opts *flowOptions, io *streams) error {
	if opts.width != 0 && opts.width < minWidth {
		return usagef("--width %d is too narrow: give %d or more (0: the terminal's width)", opts.width, minWidth)
	}
	color, err := useColor(opts.color, io)
	if err != nil {
		return err
	}
	l, release, err := opts.source.load(ctx, &opts.ladder, io)
	if err != nil {
		return err
	}
	defer release()
	var fs map[string][]correlate.Finding
	if !opts.noFindings {
		fs = ladderFindings(l)
	}
	width := opts.width
	topts := render.TextOptions{Width: width, ASCII: opts.ascii, Color: color}
	if width == 0 && io.OutTTY {
		// On a terminal a ladder too wide for it scrolls sideways in a
		// pager, labels whole, instead of wrapping every line or
		// cutting labels; an explicit --width is a hard limit.
		topts.Width = terminalWidth()
		if _, cut := render.TextWidth(l, topts); cut {
			topts.Scroll = true
			if err := page(ctx, io, func(w goio.Writer) error {
				if err := writeFindings(w, l, fs, 0); err != nil {
					return err
				}
				return render.Text(w, l, topts)
			}); err == nil {
				return nil
			}
			topts.Scroll = false
		}
	}
	out := bufio.NewWriter(io.Out)
	if err := writeFindings(out, l, fs, topts.Width); err != nil {
		return err
	}
	if err := render.Text(out, l, topts); err != nil {
		return err
	}
	return out.Flush()
}

// page runs $PAGER (default less, told to scroll sideways, keep colours
// and quit when the text fits: LESS=-SRFX unless set) with write's output
// on its input. It fails without writing anything when the pager cannot
// start, so that the caller can print instead.
func page(ctx context.Context, io *streams, write func(goio.Writer) error) error {
	argv := strings.Fields(os.Getenv("PAGER"))
	if len(argv) == 0 {
		argv = []string{"less"}
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, path, argv[1:]...)
	cmd.Stdout, cmd.Stderr = io.Out, io.ErrOut
	cmd.Env = os.Environ()
	if os.Getenv("LESS") == "" {
		cmd.Env = append(cmd.Env, "LESS=-SRFX")
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	bw := bufio.NewWriter(in)
	werr := write(bw)
	if werr == nil {
		werr = bw.Flush()
	}
	in.Close()
	if err := cmd.Wait(); err != nil && werr == nil {
		// A pager quit early (q) closes the pipe: not an error.
		if _, ok := err.(*exec.ExitError); !ok {
			return err
		}
	}
	return nil
}

func useColor(mode string, io *streams) (bool, error) {
	switch mode {
	case "auto":
		return io.OutTTY && os.Getenv("NO_COLOR") == "", nil
	case "always":
		return true, nil
	case "never":
		return false, nil
	}
	return false, usagef("--color must be auto, always or never, not %q", mode)
}

// terminalWidth reads $COLUMNS, else assumes the classic 80.
func terminalWidth() int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 20 {
		return n
	}
	if w := ttyWidth(); w > 20 {
		return w
	}
	return 80
}
