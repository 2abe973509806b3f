package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
	"github.com/sipscope/sipscope/render"
)

// runExportWAV writes the G.711 audio of one call as WAV: export --format
// wav. It reads the capture files itself, since a database keeps stream
// statistics, not RTP payloads.
func runExportWAV(ctx context.Context, opts *exportOptions, io *streams) error {
	if len(opts.ladder.calls) != 1 || opts.ladder.linked || opts.filter.active() {
		return usagef("--format wav writes one call: give exactly one --call ID (no filters, no --linked)")
	}
	if opts.source.db != "" {
		return usagef("--format wav reads the RTP from capture files: the database (--db %s) keeps stream statistics, not audio", opts.source.db)
	}
	if slices.Contains(opts.source.files, "-") {
		return usagef("--format wav needs capture files, not standard input")
	}
	if opts.out == "-" && io.OutTTY {
		return usagef("not writing a WAV to a terminal: use -o FILE or a pipe")
	}
	if err := checkOutput(opts.out); err != nil {
		return err
	}
	id := opts.ladder.calls[0]
	audio := render.NewAudio(id)
	md := correlate.NewMedia(correlate.MediaOptions{Sink: audio.Packet})
	job := &decodeJob{files: opts.source.files, handler: decode.HandlerFuncs{OnMessage: md.Message, OnDatagram: md.Datagram}}
	res, err := job.run(ctx)
	if err != nil {
		return err
	}
	if !opts.source.quiet {
		printWarnings(io.ErrOut, res.Warnings)
	}
	var mine []correlate.Stream
	var codecs []string
	for _, s := range md.Streams() {
		if s.CallID == id {
			mine = append(mine, s)
			if s.Codec != "" && !slices.Contains(codecs, s.Codec) {
				codecs = append(codecs, s.Codec)
			}
		}
	}
	if len(mine) == 0 {
		return fmt.Errorf("call %s: no RTP stream in %s (no such call, or its RTP was not captured)", id, strings.Join(opts.source.files, ", "))
	}
	w, finish, err := openOutput(opts.out, io)
	if err != nil {
		return err
	}
	if err := audio.WAV(w, mine); err != nil {
		finish(false)
		if errors.Is(err, render.ErrNoAudio) {
			return fmt.Errorf("call %s: %w to write as WAV (its streams carry %s)", id, err, strings.Join(codecs, ", "))
		}
		return err
	}
	if audio.Skipped > 0 && !opts.source.quiet {
		fmt.Fprintf(io.ErrOut, "sipscope: warning: %d G.711 packets left out of the WAV (before their stream's first timestamp, or past %v)\n", audio.Skipped, render.MaxAudio)
	}
	return finish(true)
}

// exportTimelines gives the HTML page's RTP bands their loss/jitter
// charts: a second pass over the capture files with a
// correlate.StreamTimeline, since neither the first pass nor the database
// keep per-second figures. Without files (--db, standard input) the page
// has the streams table only. The pass runs once, when the first ladder
// with media comes: a page without RTP costs no second read, and no ladder
// waits for the pass. The series are kept until the export ends, a
// TimelinePoint per second of every stream of the files, selected or not:
// far less than the ladders, but not nothing for hours of RTP.
type exportTimelines struct {
	src sourceOptions
	tl  *correlate.StreamTimeline // after the pass
}

// add sets the series of the streams of l, reading the files first if no
// ladder needed them before.
func (t *exportTimelines) add(ctx context.Context, l *render.Ladder) error {
	src := t.src
	if len(l.Media) == 0 || src.db != "" || len(src.files) == 0 || slices.Contains(src.files, "-") {
		return nil
	}
	if t.tl == nil {
		tl := correlate.NewStreamTimeline(time.Second)
		md := correlate.NewMedia(correlate.MediaOptions{Sink: tl.Packet})
		job := &decodeJob{files: src.files, handler: decode.HandlerFuncs{OnMessage: md.Message, OnDatagram: md.Datagram}}
		if _, err := job.run(ctx); err != nil {
			return err
		}
		t.tl = tl
	}
	for i := range l.Media {
		s := &l.Media[i].Stream
		l.Media[i].Timeline, _ = t.tl.Series(correlate.StreamKey{Src: s.Src, Dst: s.Dst, SSRC: s.SSRC})
	}
	return nil
}
