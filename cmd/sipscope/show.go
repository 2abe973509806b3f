package main

import (
	"bufio"
	"context"

	"github.com/spf13/cobra"

	"github.com/sipscope/sipscope/render"
)

type showOptions struct {
	source ladderSource
	ladder ladderOptions
	raw    bool
}

func newShowCmd(io *streams) *cobra.Command {
	opts := &showOptions{source: ladderSource{sole: &soleUsage{cmd: "show", verb: "show"}}}
	cmd := &cobra.Command{
		Use:   "show [CALL-ID] [FILE...|-|--db PATH]",
		Short: "Print every message of a dialog, raw, with time, delta and addresses",
		Long: `Print every SIP message of the dialog exactly as it was on the wire, each headed by
its time, the delta since the previous message, source and destination and
transport: the text to paste into a ticket. --linked adds the linked legs.
Without a CALL-ID (the first argument is a capture file, or -), a capture that
holds a single dialog shows it; with more, the error names some of their Call-IDs.

On a terminal the messages are shown sanitised: line ends as LF, and control
characters a crafted message could use to drive the terminal (ESC, BEL, backspace,
a CR in mid line, C1) shown escaped, as \x1b. Piped or redirected to a file, or
with --raw, the bytes are written exactly as captured (CRLF included).`,
		Example: `  sipscope show one-call.pcap > ticket.txt
  sipscope show 85216695-42dcdb1d@192.168.1.2 aaa.pcap
  sipscope show --db calls.db --linked A-LEG-ID > ticket.txt`,
		RunE: func(c *cobra.Command, args []string) error {
			switch {
			case len(args) == 1 && !namesCapture(args[0]) && opts.source.db == "":
				return usagef("show %s: no capture files or --db PATH after the CALL-ID (if %s is meant as a capture file, it does not exist)", args[0], args[0])
			case len(args) > 0 && !namesCapture(args[0]):
				opts.ladder.calls = []string{args[0]}
				opts.source.files = args[1:]
			case len(args) == 0 && opts.source.db == "":
				return usagef("show needs a CALL-ID and capture files or --db PATH (list the Call-IDs with `sipscope calls FILE`)")
			default:
				// No CALL-ID: the first argument is a capture (it
				// exists, or is -), and its only dialog is shown.
				opts.source.files = args
			}
			return runShow(c.Context(), opts, io)
		},
	}
	addSourceFlags(cmd, &opts.source.sourceOptions)
	cmd.Flags().BoolVar(&opts.ladder.linked, "linked", false, "add every leg linked to the dialog")
	cmd.Flags().BoolVar(&opts.raw, "raw", false, "write the messages' bytes as captured even on a terminal (control characters included)")
	return cmd
}

func runShow(ctx context.Context, opts *showOptions, io *streams) error {
	l, release, err := opts.source.load(ctx, &opts.ladder, io)
	if err != nil {
		return err
	}
	defer release()
	out := bufio.NewWriter(io.Out)
	// Raw bytes go to files and pipes, where nothing interprets them; a
	// terminal gets them sanitised unless --raw insists.
	if err := render.Messages(out, l, render.TextOptions{Raw: opts.raw || !io.OutTTY}); err != nil {
		return err
	}
	return out.Flush()
}
