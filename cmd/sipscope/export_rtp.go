package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
	"github.com/sipscope/sipscope/store"
)

// rtpHelp is the --rtp flag's help.
const rtpHelp = "pcap: add the calls' RTP and RTCP frames, as captured, in time order with the SIP (reads the capture files again; with --db, the files the database was imported from)"

// checkRTPExport refuses --rtp where it cannot work, before any analysis.
func checkRTPExport(opts *exportOptions) error {
	if !opts.rtp {
		return nil
	}
	if !strings.HasPrefix(opts.format, "pcap") {
		return usagef("--rtp goes with --format pcap or pcapng")
	}
	if slices.Contains(opts.source.files, "-") {
		return usagef("--rtp reads the capture files a second time for the RTP: name files, not standard input")
	}
	return nil
}

// writePcapRTP is export --format pcap --rtp: the frames of the calls'
// SIP messages (from the store) and of their RTP and RTCP (from a second
// pass over the capture files with a media tracker, which ties each
// datagram to its call through the SDP as `media` does), merged in time
// order. The store keeps stream statistics, not RTP packets: with --db
// the capture files named in its files table are read again, when they
// are still where they were imported from and unchanged.
func writePcapRTP(ctx context.Context, w io.Writer, st *store.Store, opts *exportOptions, ids []string) error {
	files := opts.source.files
	if opts.source.db != "" {
		var err error
		if files, err = importedFiles(ctx, st, opts.source.db); err != nil {
			return err
		}
	}
	frames, err := st.Frames(ctx, ids)
	if err != nil {
		return err
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	md := correlate.NewMedia(correlate.MediaOptions{Handoff: func(*correlate.Stream) {}})
	job := &decodeJob{files: files, handler: decode.HandlerFuncs{
		OnMessage: md.Message,
		OnDatagram: func(dg *decode.Datagram) {
			md.Datagram(dg)
			if id := md.DatagramCall(); id == "" || !want[id] {
				return
			}
			for _, f := range dg.Frames {
				f.Data = slices.Clone(f.Data) // aliases the decoder's buffers
				frames = append(frames, f)
			}
		},
	}}
	if _, err := job.run(ctx); err != nil {
		return err
	}
	// Capture order: by time, the SIP frames (stored in message order)
	// and the RTP ones (read in capture order) interleaved.
	slices.SortStableFunc(frames, func(a, b decode.FrameRef) int { return a.Time.Compare(b.Time) })
	return writeFrames(w, frames, opts.format == "pcapng")
}

// importedFiles returns the paths of the capture files a database was
// imported from, each checked to be there and unchanged (same
// fingerprint), or a one-line error saying why the RTP cannot be had.
func importedFiles(ctx context.Context, st *store.Store, db string) ([]string, error) {
	stored, err := st.Files(ctx)
	if err != nil {
		return nil, err
	}
	const why = "the database keeps RTP stream statistics, not RTP packets"
	if len(stored) == 0 {
		return nil, fmt.Errorf("--rtp --db %s: %s, and it records no capture file to read them from (a live capture: keep one with capture -w FILE)", db, why)
	}
	var paths []string
	for _, f := range stored {
		if f.Path == "" {
			return nil, fmt.Errorf("--rtp --db %s: %s, and %s was imported from standard input: export from the capture file instead", db, why, f.Name)
		}
		fp, _, err := store.Fingerprint(f.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("--rtp --db %s: %s, and %s (imported from there) is gone: export from the capture file instead", db, why, f.Path)
		case err != nil:
			return nil, fmt.Errorf("--rtp --db %s: read %s: %w", db, f.Path, pathErr(err))
		case f.Fingerprint != "" && fp != f.Fingerprint:
			return nil, fmt.Errorf("--rtp --db %s: %s, and %s changed since it was imported: export from the capture file instead", db, why, f.Path)
		}
		paths = append(paths, f.Path)
	}
	return paths, nil
}
