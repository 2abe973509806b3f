package main

import (
	"bufio"
	"context"
	"os"
	"strconv"

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
	aliasFile  string
}

func addLadderFlags(cmd *cobra.Command, o *ladderOptions) {
	cmd.Flags().StringArrayVar(&o.calls, "call", nil, "Call-`ID` of a dialog to draw (repeatable: several legs in one ladder)")
	cmd.Flags().BoolVar(&o.linked, "linked", false, "add every leg linked to the --call dialogs (X-Call-ID, B2BUA suffixes)")
	cmd.Flags().BoolVar(&o.mergePorts, "merge-ports", false, "one column per IP address instead of per IP:port")
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
	return render.Layout(dialogs, msgs, render.LayoutOptions{MergePorts: o.mergePorts, Aliases: aliases}), nil
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
}

// ladderSource opens the store for commands that draw chosen calls: with
// capture files only the chosen dialogs are kept.
type ladderSource struct{ sourceOptions }

func (s *ladderSource) open(ctx context.Context, o *ladderOptions, io *streams) (*store.Store, func(), error) {
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
	return l, release, nil
}

func newFlowCmd(io *streams) *cobra.Command {
	opts := &flowOptions{}
	cmd := &cobra.Command{
		Use:   "flow --call ID [--call ID...|--linked] [FILE...|-|--db PATH]",
		Short: "Draw the ladder diagram of a call in the terminal",
		Long: `Draw the call flow of one or more dialogs: one column per endpoint (IP:port, or
IP with --merge-ports, or names from --alias), one arrow per message in capture
order with the method or status and reason, (SDP) with its codecs, time and delta
on the left. Retransmissions are drawn >>>. Several dialogs (legs linked through
a B2BUA, or several --call) share one ladder, one colour per Call-ID.

Labels are never cut: columns widen to fit them; only a ladder wider than the
terminal (or --width) shortens labels, and says so.`,
		Example: `  sipscope flow --call 85216695-42dcdb1d@192.168.1.2 aaa.pcap
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
	cmd.Flags().IntVar(&opts.width, "width", 0, "fit the ladder to `COLUMNS` characters, 40 or more (default: the terminal width, or no limit when piped)")
	cmd.Flags().StringVar(&opts.color, "color", "auto", "colour per Call-ID `WHEN`: auto (on a terminal), always or never")
	return cmd
}

// minWidth is the narrowest --width a ladder of two columns can be drawn
// in: the time column and two lifelines with an arrow between them.
const minWidth = 40

func runFlow(ctx context.Context, opts *flowOptions, io *streams) error {
	if len(opts.ladder.calls) == 0 {
		return usagef("flow needs --call ID (list Call-IDs with `sipscope calls`)")
	}
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
	width := opts.width
	if width == 0 && io.OutTTY {
		width = terminalWidth()
	}
	out := bufio.NewWriter(io.Out)
	if err := render.Text(out, l, render.TextOptions{Width: width, ASCII: opts.ascii, Color: color}); err != nil {
		return err
	}
	return out.Flush()
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
