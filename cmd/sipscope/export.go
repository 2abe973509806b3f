package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sipscope/sipscope/capture"
	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
	"github.com/sipscope/sipscope/render"
	"github.com/sipscope/sipscope/store"
)

var exportFormats = []string{"html", "svg", "mermaid", "plantuml", "txt", "pcap", "pcapng", "json", "wav"}

type exportOptions struct {
	source sourceOptions
	ladder ladderOptions
	rtp    bool // pcap: the calls' RTP and RTCP too (export_rtp.go)
	filter filterOptions
	format string
	out    string
	// keepTLS writes TLS calls' original encrypted frames and their keys
	// (pcapng) instead of the decrypted messages.
	keepTLS bool
}

func newExportCmd(io *streams) *cobra.Command {
	opts := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export (--call ID|FILTERS) --format FORMAT -o OUT [FILE...|-|--db PATH]",
		Short: "Write a call flow as HTML, SVG, Mermaid, PlantUML, text, pcap or JSON",
		Long: `Export one call (--call, several --call or --linked for legs in one ladder) or
every dialog the filters select (the filters of "calls").

Formats:
  html      one self-contained page that works offline: summary, ladder, click or
            arrow keys on an arrow to read the whole message; light and dark; prints.
            With filters: one page with the call list linking to each ladder.
  svg       the ladder as an SVG image
  mermaid   a Mermaid sequenceDiagram
  plantuml  a PlantUML sequence diagram
  txt       every message with time, delta and addresses, raw (for tickets)
  pcap      the original frames that carried the messages (every IP fragment and
            TCP segment), in time order; pcapng when link types differ. Messages
            decrypted from TLS or WSS (--keylog) are written decrypted, as clear
            TCP on the same addresses and ports: readable without the keys; with
            --keep-tls, encrypted as captured (whole connections) plus the keys
  pcapng    the same frames, always pcapng
  json      the dialogs, their transactions and messages
  wav       the call's G.711 audio (PCMU, PCMA) from its RTP: 16-bit 8 kHz, left the
            caller, right the callee, silence where packets were lost (one --call;
            reads capture files, not --db)

The format defaults to the extension of -o (.htm, .puml, .mmd and .pcapng too).
-o - writes to standard output (not for pcap on a terminal). An existing file
keeps its mode; a symlink is written through to its target; a device or FIFO
(/dev/stdout, a named pipe) is written to, not replaced.`,
		Example: `  sipscope export --call 85216695-42dcdb1d@192.168.1.2 --format html -o call.html aaa.pcap
  sipscope export --db calls.db --state rejected --format html -o rejected.html
  sipscope export --db calls.db --call ID --linked --format pcap -o call.pcap
  sipscope export --call ID --rtp -o call-with-audio.pcap trace.pcap
  sipscope export --call ID --format mermaid -o - trace.pcap
  sipscope export --call ID --format wav -o call.wav trace.pcap`,
		RunE: func(c *cobra.Command, args []string) error {
			opts.source.files = args
			return runExport(c.Context(), opts, io)
		},
	}
	addSourceFlags(cmd, &opts.source)
	addLadderFlags(cmd, &opts.ladder)
	addFilterFlags(cmd, &opts.filter)
	cmd.Flags().BoolVar(&opts.rtp, "rtp", false, rtpHelp)
	cmd.Flags().StringVar(&opts.format, "format", "", "output `FORMAT`: "+strings.Join(exportFormats, ", ")+" (default: from the -o extension)")
	cmd.Flags().StringVarP(&opts.out, "output", "o", "", "write to `FILE`, - for standard output (required)")
	cmd.Flags().BoolVar(&opts.keepTLS, "keep-tls", false, "pcap: keep TLS calls encrypted: their connections' original frames and the keys in a pcapng Decryption Secrets Block (needs the capture files)")
	return cmd
}

func runExport(ctx context.Context, opts *exportOptions, io *streams) error {
	if opts.out == "" {
		return usagef("export needs -o OUT (a file, or - for standard output)")
	}
	format, err := exportFormat(opts.format, opts.out)
	if err != nil {
		return err
	}
	opts.format = format
	if opts.format == "wav" {
		return runExportWAV(ctx, opts, io) // export_media.go
	}
	byCall := len(opts.ladder.calls) > 0
	if err := checkRTPExport(opts); err != nil { // export_rtp.go
		return err
	}
	if byCall && opts.filter.active() {
		return usagef("give --call or filters, not both")
	}
	if !byCall && opts.ladder.linked {
		return usagef("--linked goes with --call")
	}
	filter, err := opts.filter.build()
	if err != nil {
		return err
	}
	if opts.keepTLS && !strings.HasPrefix(opts.format, "pcap") {
		return usagef("--keep-tls goes with --format pcap or pcapng")
	}
	if opts.keepTLS {
		opts.format = "pcapng" // the keys need a Decryption Secrets Block
	}
	if opts.out == "-" && strings.HasPrefix(opts.format, "pcap") && io.OutTTY {
		return usagef("not writing a pcap to a terminal: use -o FILE or a pipe")
	}
	// The output's folder and kind are checked before the capture is read,
	// so a typo costs no analysis.
	if err := checkOutput(opts.out); err != nil {
		return err
	}

	var st *store.Store
	var release func()
	if byCall {
		src := &ladderSource{sourceOptions: opts.source}
		st, release, err = src.open(ctx, &opts.ladder, io)
	} else {
		st, release, err = openSource(ctx, &opts.source, keepEverything, nil, io)
	}
	if err != nil {
		return err
	}
	defer release()

	// Which calls: each entry is one ladder (a --call export is one ladder
	// of all the named legs).
	var groups [][]string
	if byCall {
		_, all, err := resolveCalls(ctx, st, opts.ladder.calls, opts.ladder.linked)
		if err != nil {
			return err
		}
		groups = [][]string{all}
	} else {
		for d, err := range st.Dialogs(ctx, filter) {
			if err != nil {
				return err
			}
			groups = append(groups, []string{d.CallID})
		}
		if len(groups) == 0 {
			return fmt.Errorf("no dialogs match the filters: nothing to export")
		}
		if err := checkOneLadder(opts.format, len(groups)); err != nil {
			return err
		}
	}
	return exportFile(ctx, st, opts, groups, io)
}

// exportFormat is the export format: the one given, else the one the
// extension of out names (.htm, .puml, .mmd and .pcapng too). The UI's save
// prompt takes its format from here as well.
func exportFormat(format, out string) (string, error) {
	if format == "" {
		ext := strings.TrimPrefix(filepath.Ext(out), ".")
		format = strings.ToLower(ext)
		switch format {
		case "htm":
			format = "html"
		case "puml":
			format = "plantuml"
		case "mmd":
			format = "mermaid"
		}
		if !slices.Contains(exportFormats, format) {
			if ext == "" {
				if fi, err := os.Stat(out); err == nil && fi.IsDir() {
					return "", fmt.Errorf("-o %s is a folder: name a file in it, e.g. -o %s", out, filepath.Join(out, "call.html"))
				}
				return "", usagef("-o %s has no extension to take the format from: add one (e.g. .html) or use --format %s", out, strings.Join(exportFormats, "|"))
			}
			return "", usagef("unknown format %q from the extension of -o %s; use --format %s", ext, out, strings.Join(exportFormats, "|"))
		}
	}
	if !slices.Contains(exportFormats, format) {
		return "", usagef("unknown --format %q: want one of %s", format, strings.Join(exportFormats, ", "))
	}
	return format, nil
}

// checkOneLadder refuses n ladders in a format that draws one.
func checkOneLadder(format string, n int) error {
	if n > 1 {
		switch format {
		case "svg", "mermaid", "plantuml":
			return usagef("--format %s draws one ladder but %d dialogs match: use --call, narrow the filters, or --format html", format, n)
		}
	}
	return nil
}

// exportFile writes groups (one ladder each) to opts.out in opts.format:
// a file is replaced only once it is whole. Used by export and by the UI's
// save prompt.
func exportFile(ctx context.Context, st *store.Store, opts *exportOptions, groups [][]string, io *streams) error {
	w, finish, err := openOutput(opts.out, io)
	if err != nil {
		return err
	}
	if err := writeExport(ctx, w, io.ErrOut, st, opts, groups); err != nil {
		finish(false)
		return err
	}
	return finish(true)
}

// writeExport writes the chosen dialogs to w; warnings (bytes that are not
// UTF-8) go to errOut.
func writeExport(ctx context.Context, w, errOut io.Writer, st *store.Store, opts *exportOptions, groups [][]string) error {
	lopt := opts.ladder
	lopt.linked = false // already resolved into groups
	// pcap with the calls' RTP (export_rtp.go)
	if opts.rtp {
		var ids []string
		for _, g := range groups {
			ids = append(ids, g...)
		}
		return writePcapRTP(ctx, w, st, opts, ids)
	}
	if opts.format == "pcap" || opts.format == "pcapng" {
		var ids []string
		for _, g := range groups {
			ids = append(ids, g...)
		}
		if opts.keepTLS {
			return writeKeepTLS(ctx, w, errOut, st, ids, opts.source.keylog)
		}
		return writePcap(ctx, w, st, ids, opts.format == "pcapng")
	}
	return writeLadders(ctx, w, opts, groups, func(g []string) (*render.Ladder, error) {
		l, err := lopt.ladder(ctx, st, g)
		if err != nil {
			return nil, err
		}
		warnInvalidUTF8(errOut, l)
		return l, nil
	})
}

// writeLadders writes groups in a format that draws ladders, asking ladder
// for each in turn and dropping it once written: a capture of many calls
// costs the memory of its largest ladder, not of all of them.
func writeLadders(ctx context.Context, w io.Writer, opts *exportOptions, groups [][]string, ladder func([]string) (*render.Ladder, error)) error {
	var draw func(io.Writer, *render.Ladder) error
	sep := "" // between two ladders
	switch opts.format {
	case "html":
		return writeHTMLExport(ctx, w, opts, groups, ladder)
	case "svg": // svg, mermaid, plantuml: one group (checkOneLadder)
		draw = render.SVG
	case "mermaid":
		draw = render.Mermaid
	case "plantuml":
		draw = render.PlantUML
	case "json":
		draw = render.JSON
	case "txt":
		draw = func(w io.Writer, l *render.Ladder) error { return render.Messages(w, l, render.TextOptions{}) }
		sep = "\n"
	default:
		return fmt.Errorf("format %s not handled", opts.format)
	}
	for i, g := range groups {
		l, err := ladder(g)
		if err != nil {
			return err
		}
		if i > 0 {
			if _, err := io.WriteString(w, sep); err != nil {
				return err
			}
		}
		if err := draw(w, l); err != nil {
			return err
		}
	}
	return nil
}

// writeHTMLExport writes the HTML page: one call's page for --call, else
// the page of every dialog with its call list, each call's section laid
// out and written as its ladder is built (render.HTMLPage), the sections
// waiting in a scratch file until the list is complete.
func writeHTMLExport(ctx context.Context, w io.Writer, opts *exportOptions, groups [][]string, ladder func([]string) (*render.Ladder, error)) error {
	tl := &exportTimelines{src: opts.source}
	// Each call's findings above its ladder, as flow draws them.
	page := func(g []string) (render.CallPage, error) {
		l, err := ladder(g)
		if err != nil {
			return render.CallPage{}, err
		}
		if err := tl.add(ctx, l); err != nil { // export_media.go
			return render.CallPage{}, err
		}
		return render.CallPage{Ladder: l, Findings: ladderFindings(l)}, nil
	}
	if len(groups) == 1 && len(opts.ladder.calls) > 0 {
		c, err := page(groups[0])
		if err != nil {
			return err
		}
		return render.HTML(w, c.Ladder, render.HTMLOptions{Findings: c.Findings})
	}
	scratch, err := os.CreateTemp(scratchDir(opts.out), ".sipscope-export-*.html")
	if err != nil {
		return fmt.Errorf("export: scratch file: %w", err)
	}
	defer func() {
		scratch.Close()
		os.Remove(scratch.Name())
	}()
	hp := render.NewHTMLPage(w, scratch, render.HTMLOptions{})
	for _, g := range groups {
		c, err := page(g)
		if err != nil {
			return err
		}
		if err := hp.Add(c); err != nil {
			return err
		}
	}
	return hp.Close()
}

// scratchDir is where an HTML export keeps its calls' sections until the
// page is written: the folder of the output file, which will take as much
// room anyway (the system's temporary folder may be a small tmpfs, held in
// memory), else, for standard output or a device, the temporary folder.
func scratchDir(out string) string {
	if out != "-" {
		if fi, err := os.Stat(out); errors.Is(err, fs.ErrNotExist) || (err == nil && fi.Mode().IsRegular()) {
			return filepath.Dir(out)
		}
	}
	return os.TempDir()
}

// writePcap writes the frames that carried the calls' messages: as pcap
// when they share a link type, else (or when ng is set) as pcapng. The
// messages of SIP over TLS or WSS are written decrypted (see clearTLS).
func writePcap(ctx context.Context, w io.Writer, st *store.Store, ids []string, ng bool) error {
	frames, err := st.Frames(ctx, ids)
	if err != nil {
		return err
	}
	if frames, err = clearTLS(ctx, st, ids, frames); err != nil {
		return err
	}
	return writeFrames(w, frames, ng)
}

// clearTLS replaces the encrypted frames of the messages that came over
// TLS or WSS with frames carrying each decrypted message as clear TCP
// between the same addresses and ports, at the message's time. Why clear
// TCP rather than Wireshark's exported PDUs (link type 252): every reader
// opens it (Wireshark and tshark without keys, sngrep, sipscope itself,
// tcpreplay), the addresses stay in real IP headers, and a TCP stream
// keeps SIP's framing by Content-Length as it was. The original frames
// could not be decrypted on their own anyway: a per-call export holds
// neither the handshake nor the other records of the connection, whose
// sequence numbers the keys need. Wireshark 4 reads the export as SIP
// without help, on port 5061 too (tested in tls.txtar).
func clearTLS(ctx context.Context, st *store.Store, ids []string, frames []decode.FrameRef) ([]decode.FrameRef, error) {
	msgs, err := st.Messages(ctx, ids)
	if err != nil {
		return nil, err
	}
	type ref struct {
		file string
		n    int64
	}
	enc := map[ref]bool{}
	var clear []*correlate.Message
	for _, m := range msgs {
		if m.Transport != decode.TLS && m.Transport != decode.WSS {
			continue
		}
		clear = append(clear, m)
		for _, f := range m.Frames {
			enc[ref{f.File, f.Number}] = true
		}
	}
	if len(clear) == 0 {
		return frames, nil
	}
	out := frames[:0:0]
	for _, f := range frames {
		if !enc[ref{f.File, f.Number}] {
			out = append(out, f)
		}
	}
	synth := capture.NewTCPSynth()
	for _, m := range clear {
		fs, err := synth.Frames(m.Time, m.Src, m.Dst, m.Raw)
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		for _, f := range fs {
			out = append(out, decode.FrameRef{File: m.File, Time: f.Time, Link: uint16(f.Link), Data: f.Data, OrigLen: f.OrigLen})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// writeFrames writes frames to w as pcap, or pcapng when ng is set or their
// link types need it (several in one file). export's pcaps and --rtp's
// share it.
func writeFrames(w io.Writer, frames []decode.FrameRef, ng bool) error {
	return writeFramesWith(w, frames, ng, nil)
}

// writeFramesWith is writeFrames with TLS key log lines written first as a
// pcapng Decryption Secrets Block (--keep-tls), when there are any.
func writeFramesWith(w io.Writer, frames []decode.FrameRef, ng bool, keys []byte) error {
	links := make([]capture.LinkType, 0, 2)
	for _, f := range frames {
		links = append(links, capture.LinkType(f.Link))
	}
	format := capture.FormatFor(links...)
	if ng || len(keys) > 0 {
		format = "pcapng"
	}
	pw, err := capture.NewWriter(w, format)
	if err != nil {
		return err
	}
	if len(keys) > 0 {
		first := capture.LinkEthernet
		if len(frames) > 0 {
			first = capture.LinkType(frames[0].Link)
		}
		if err := pw.WriteTLSSecrets(keys, first); err != nil {
			return err
		}
	}
	for i := range frames {
		f := &frames[i]
		if err := pw.WriteFrame(&capture.Frame{File: f.File, Number: f.Number, Time: f.Time,
			Link: capture.LinkType(f.Link), Data: f.Data, OrigLen: f.OrigLen}); err != nil {
			return err
		}
	}
	return pw.Close()
}
