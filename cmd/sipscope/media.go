package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/store"
)

type mediaOptions struct {
	source sourceOptions
	filter filterOptions
	call   string
	format string
}

func newMediaCmd(io *streams) *cobra.Command {
	opts := &mediaOptions{}
	cmd := &cobra.Command{
		Use:   "media [FILE...|-|--db PATH]",
		Short: "List RTP streams with their call, codec, loss, jitter and MOS",
		Long: `List the RTP streams of the captures or of a database, one line per stream
(a stream is one SSRC from one address and port to another): its call, codec,
packets, loss, jitter and the RTCP reports about it.

Streams are tied to calls by the SDP offers and answers (re-INVITEs and UPDATEs
that move media included, RTCP on port+1, a=rtcp or rtcp-mux, the signalling's
source address as a NAT hint). RTP that no SDP announced is found by its header,
as tshark -o rtp.heuristic_rtp:TRUE does, and listed with no call.

Loss follows RFC 3550 A.3 (expected - received: negative when packets came
twice); jitter is the A.8 interarrival jitter, its mean and maximum over the
stream, in milliseconds. Without a filter or --call every stream is listed,
those without a call too; with them, the streams of the matching calls.

Formats:
  table  for people (default)
  jsonl  one JSON object per stream; fields: call_id, src, dst, ssrc
         ("0x%08X"), payload_type, codec, packets, expected, lost, lost_pct,
         out_of_order, duplicates, jitter_mean_ms, jitter_max_ms, max_delta_ms,
         start, end, r_factor (ITU-T G.107, the narrowband scale: at most
         93.2 here), mos (G.107 Annex B, 1 to 4.5; both null when not scored:
         a codec with no cited G.113 Ie/Bpl, G.722 and Opus among them, whose
         wideband R would sit on G.107.1's other scale), dtmf, rtcp (null
         without RTCP; else the peer's reports: rr, sr, xr, fraction_lost_pct,
         cumulative_lost, jitter_ms, max_fraction_lost_pct, max_jitter_ms,
         rtt_ms), and also direction, link, clock_rate, payload_types, bytes,
         dtmf_events (digit, start, duration_ms), info_dtmf (the digits the
         stream's sender sent in SIP INFO during the call)
  csv    the same fields with a header line (rtcp as its loss and jitter)

Streams are stored as they end (their call ended and they went quiet for 2 s),
so on a database a live capture fills, the media of ended calls is there while
the capture runs.`,
		Example: `  sipscope media call.pcap
  sipscope media --call 1-4242@10.0.0.1 call.pcap
  sipscope media --db calls.db --state completed --format jsonl
  sipscope media --format csv call.pcap > streams.csv`,
		RunE: func(c *cobra.Command, args []string) error {
			opts.source.files = args
			return runMedia(c.Context(), opts, io)
		},
	}
	addSourceFlags(cmd, &opts.source)
	addFilterFlags(cmd, &opts.filter)
	cmd.Flags().StringVar(&opts.call, "call", "", "only the streams of the call with this `CALL-ID`")
	cmd.Flags().StringVar(&opts.format, "format", "table", "output `FORMAT`: table, jsonl or csv")
	return cmd
}

func runMedia(ctx context.Context, opts *mediaOptions, io *streams) error {
	filter, mode, err := listingFilter(opts.format, &opts.filter)
	if err != nil {
		return err
	}
	// dtmf_events lists tones found in G.711 audio as an import stores
	// them: a stream listed from the file and from its database says the
	// same.
	opts.source.inband = true
	st, release, err := openSource(ctx, &opts.source, mode, nil, io)
	if err != nil {
		return err
	}
	defer release()
	var ids []string // nil: every stream
	switch {
	case opts.call != "":
		// A Call-ID that is not there is a mistake (as export and flow
		// say); one that is there without RTP is an answer.
		if _, err := st.Dialog(ctx, opts.call); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("call %q not found (list Call-IDs with `sipscope calls`)", opts.call)
		} else if err != nil {
			return err
		}
		ids = []string{opts.call}
	case opts.filter.active():
		ids = []string{}
		if err := eachDialog(ctx, st, filter, func(d *correlate.Dialog) error {
			ids = append(ids, d.CallID)
			return nil
		}); err != nil {
			return err
		}
	}
	streams, err := st.Streams(ctx, ids)
	if err != nil {
		return err
	}
	infos, err := st.InfoDTMF(ctx, ids)
	if err != nil {
		return err
	}
	// The INFO digits of each call and direction, for the streams the same
	// party sent.
	type callDir struct {
		call string
		dir  correlate.Direction
	}
	info := make(map[callDir]string, len(infos))
	for _, s := range infos {
		info[callDir{s.CallID, s.Direction}] += s.DTMF
	}
	record := func(s *correlate.Stream) *mediaRecord {
		r := streamRecord(s)
		if s.CallID != "" && s.Direction != correlate.DirectionUnknown {
			r.InfoDTMF = info[callDir{s.CallID, s.Direction}]
		}
		return r
	}
	out := bufio.NewWriterSize(io.Out, 64<<10)
	defer out.Flush()
	switch opts.format {
	case "jsonl":
		enc := json.NewEncoder(out)
		enc.SetEscapeHTML(false)
		for i := range streams {
			if err := enc.Encode(record(&streams[i])); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
		}
	case "csv":
		cw := csv.NewWriter(out)
		cw.Write(streamCSVHeader)
		for i := range streams {
			cw.Write(streamCSV(record(&streams[i])))
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	default:
		writeStreamTable(out, streams)
		if len(streams) == 0 && !opts.source.quiet {
			fmt.Fprintln(io.ErrOut, noStreamsNote(opts))
		}
	}
	return out.Flush()
}

func noStreamsNote(opts *mediaOptions) string {
	in := opts.source.db
	if in == "" {
		in = strings.Join(opts.source.files, ", ")
	}
	switch {
	case opts.call != "":
		return fmt.Sprintf("no RTP streams of call %s in %s", opts.call, in)
	case opts.filter.active():
		return "no RTP streams of the calls in " + in + " that match the filters"
	}
	return "no RTP streams in " + in + " (a capture filter may have left RTP out)"
}

// mediaRecord is one line of `media --format jsonl`: the contract of
// issue 11 (add fields, never rename or drop them).
type mediaRecord struct {
	CallID      string  `json:"call_id"`
	Src         string  `json:"src"`
	Dst         string  `json:"dst"`
	SSRC        string  `json:"ssrc"`
	PayloadType int     `json:"payload_type"`
	Codec       string  `json:"codec"`
	Packets     int     `json:"packets"`
	Expected    int     `json:"expected"`
	Lost        int     `json:"lost"`
	LostPct     float64 `json:"lost_pct"`
	OutOfOrder  int     `json:"out_of_order"`
	Duplicates  int     `json:"duplicates"`
	// Missing counts sequence numbers never received (lost, with
	// duplicates not counted as received: correlate.Stream.Missing).
	Missing      int         `json:"missing"`
	MissingPct   float64     `json:"missing_pct"`
	JitterMeanMs float64     `json:"jitter_mean_ms"`
	JitterMaxMs  float64     `json:"jitter_max_ms"`
	MaxDeltaMs   float64     `json:"max_delta_ms"`
	Start        string      `json:"start"`
	End          string      `json:"end"`
	RFactor      *float64    `json:"r_factor"`
	MOS          *float64    `json:"mos"`
	DTMF         string      `json:"dtmf"`
	RTCP         *rtcpRecord `json:"rtcp"`
	Direction    string      `json:"direction"`
	Link         string      `json:"link"`
	ClockRate    int         `json:"clock_rate"`
	PayloadTypes []int       `json:"payload_types"`
	Bytes        int         `json:"bytes"`
	DTMFEvents   []dtmfEvent `json:"dtmf_events"`
	// InfoDTMF is the digits the party sending this stream sent in SIP
	// INFO requests during the call (correlate.InfoDigits): DTMF out of
	// band, not carried in the stream.
	InfoDTMF string `json:"info_dtmf"`
}

// dtmfEvent is one RFC 4733 digit of a stream, with its time.
type dtmfEvent struct {
	Digit      string  `json:"digit"`
	Start      string  `json:"start"`
	DurationMs float64 `json:"duration_ms"`
}

// rtcpRecord is what RTCP said about a stream (correlate.RTCPStats).
type rtcpRecord struct {
	SR                 int           `json:"sr"`
	RR                 int           `json:"rr"`
	XR                 int           `json:"xr"`
	FractionLostPct    float64       `json:"fraction_lost_pct"`
	CumulativeLost     int           `json:"cumulative_lost"`
	JitterMs           float64       `json:"jitter_ms"`
	MaxFractionLostPct float64       `json:"max_fraction_lost_pct"`
	MaxJitterMs        float64       `json:"max_jitter_ms"`
	RTTMs              *float64      `json:"rtt_ms"`
	XRVoIP             *xrVoIPRecord `json:"xr_voip,omitempty"`
}

type xrVoIPRecord struct {
	LossRatePct    float64 `json:"loss_rate_pct"`
	DiscardRatePct float64 `json:"discard_rate_pct"`
	RoundTripMs    int     `json:"round_trip_ms"`
	EndSystemMs    int     `json:"end_system_ms"`
	RFactor        int     `json:"r_factor"`
	MOSLQ          float64 `json:"mos_lq"`
	MOSCQ          float64 `json:"mos_cq"`
	JitterBufMs    int     `json:"jitter_buffer_ms"`
}

// round3 keeps three decimals (µs in ms), as tshark prints them.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

func round3p(p *float64) *float64 {
	if p == nil {
		return nil
	}
	v := round3(*p)
	return &v
}

func streamRecord(s *correlate.Stream) *mediaRecord {
	r := &mediaRecord{
		CallID: s.CallID, Src: s.Src.String(), Dst: s.Dst.String(), SSRC: fmt.Sprintf("0x%08X", s.SSRC),
		PayloadType: s.PayloadType, Codec: s.Codec, Packets: s.Packets, Expected: s.Expected, Lost: s.Lost,
		LostPct: round3(s.LostPct()), OutOfOrder: s.OutOfOrder, Duplicates: s.Duplicates,
		Missing: s.Missing(), MissingPct: round3(s.MissingPct()),
		JitterMeanMs: round3(s.JitterMeanMs), JitterMaxMs: round3(s.JitterMaxMs), MaxDeltaMs: round3(s.MaxDeltaMs),
		Start: correlate.FormatTime(s.Start), End: correlate.FormatTime(s.End),
		RFactor: round3p(s.RFactor), MOS: round3p(s.MOS), DTMF: s.DTMF,
		Direction: string(s.Direction), Link: string(s.Link), ClockRate: s.ClockRate,
		PayloadTypes: s.PayloadTypes, Bytes: s.Bytes,
	}
	if r.PayloadTypes == nil {
		r.PayloadTypes = []int{}
	}
	r.DTMFEvents = make([]dtmfEvent, 0, len(s.DTMFEvents))
	for _, e := range s.DTMFEvents {
		r.DTMFEvents = append(r.DTMFEvents, dtmfEvent{Digit: e.Digit, Start: correlate.FormatTime(e.Start),
			DurationMs: float64(e.Duration.Microseconds()) / 1e3})
	}
	if c := s.RTCP; c != nil {
		r.RTCP = &rtcpRecord{
			SR: c.SR, RR: c.RR, XR: c.XR, FractionLostPct: round3(c.FractionLostPct), CumulativeLost: c.CumulativeLost,
			JitterMs: round3(c.JitterMs), MaxFractionLostPct: round3(c.MaxFractionLostPct), MaxJitterMs: round3(c.MaxJitterMs),
			RTTMs: round3p(c.RTTMs),
		}
		if x := c.XRVoIP; x != nil {
			r.RTCP.XRVoIP = &xrVoIPRecord{
				LossRatePct: round3(x.LossRatePct), DiscardRatePct: round3(x.DiscardRatePct), RoundTripMs: x.RoundTripMs,
				EndSystemMs: x.EndSystemMs, RFactor: x.RFactor, MOSLQ: x.MOSLQ, MOSCQ: x.MOSCQ, JitterBufMs: x.JitterBufMs,
			}
		}
	}
	return r
}

var streamCSVHeader = []string{"call_id", "src", "dst", "ssrc", "payload_type", "codec", "packets", "expected", "lost",
	"lost_pct", "out_of_order", "duplicates", "jitter_mean_ms", "jitter_max_ms", "max_delta_ms", "start", "end",
	"r_factor", "mos", "dtmf", "rtcp_fraction_lost_pct", "rtcp_jitter_ms", "direction", "link", "clock_rate",
	"payload_types", "bytes", "info_dtmf", "missing", "missing_pct"}

func streamCSV(r *mediaRecord) []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	opt := func(p *float64) string {
		if p == nil {
			return ""
		}
		return f(*p)
	}
	var rl, rj string
	if r.RTCP != nil {
		rl, rj = f(r.RTCP.FractionLostPct), f(r.RTCP.JitterMs)
	}
	pts := make([]string, len(r.PayloadTypes))
	for i, pt := range r.PayloadTypes {
		pts[i] = strconv.Itoa(pt)
	}
	return []string{r.CallID, r.Src, r.Dst, r.SSRC, strconv.Itoa(r.PayloadType), r.Codec, strconv.Itoa(r.Packets),
		strconv.Itoa(r.Expected), strconv.Itoa(r.Lost), f(r.LostPct), strconv.Itoa(r.OutOfOrder), strconv.Itoa(r.Duplicates),
		f(r.JitterMeanMs), f(r.JitterMaxMs), f(r.MaxDeltaMs), r.Start, r.End, opt(r.RFactor), opt(r.MOS), r.DTMF,
		rl, rj, r.Direction, r.Link, strconv.Itoa(r.ClockRate), strings.Join(pts, " "), strconv.Itoa(r.Bytes), r.InfoDTMF,
		strconv.Itoa(r.Missing), f(r.MissingPct)}
}

// writeStreamTable writes the human table of `media`.
func writeStreamTable(w io.Writer, streams []correlate.Stream) {
	if len(streams) == 0 {
		return
	}
	fmt.Fprintf(w, "%-3s %-12s %-21s %-21s %-10s %-6s %7s %6s %6s %8s %8s %8s %4s  %s\n",
		"#", "START", "SRC", "DST", "SSRC", "CODEC", "PKTS", "LOST", "LOST%", "JITTER", "MAXJIT", "MAXDELTA", "MOS", "CALL-ID")
	for i := range streams {
		s := &streams[i]
		codec := s.Codec
		if codec == "" {
			codec = "pt" + strconv.Itoa(s.PayloadType)
		}
		mos := "-"
		if s.MOS != nil {
			mos = strconv.FormatFloat(*s.MOS, 'f', 2, 64)
		}
		call := s.CallID
		if call == "" {
			call = "(no SDP: " + string(s.Link) + ")"
		}
		fmt.Fprintf(w, "%-3d %-12s %-21s %-21s 0x%08X %-6s %7d %6d %6.1f %8.3f %8.3f %8.1f %4s  %s\n",
			i+1, s.Start.UTC().Format("15:04:05.000"), clip(s.Src.String(), 21), clip(s.Dst.String(), 21), s.SSRC,
			clip(codec, 6), s.Packets, s.Missing(), s.MissingPct(), s.JitterMeanMs, s.JitterMaxMs, s.MaxDeltaMs, mos, call)
	}
}

// streamsByCall loads the stored streams and groups them by Call-ID, for
// the media and mos fields of `calls`; the call's SIP INFO digits come
// with them (correlate.LinkInfo rows, for info_dtmf).
func streamsByCall(ctx context.Context, st *store.Store) (map[string][]correlate.Stream, error) {
	all, err := st.Streams(ctx, nil)
	if err != nil {
		return nil, err
	}
	infos, err := st.InfoDTMF(ctx, nil)
	if err != nil {
		return nil, err
	}
	all = append(all, infos...)
	by := make(map[string][]correlate.Stream)
	for _, s := range all {
		if s.CallID != "" {
			by[s.CallID] = append(by[s.CallID], s)
		}
	}
	return by, nil
}

// callMedia is a stream as `calls` lists it in its media field.
type callMedia struct {
	Src          string   `json:"src"`
	Dst          string   `json:"dst"`
	SSRC         string   `json:"ssrc"`
	Codec        string   `json:"codec"`
	Packets      int      `json:"packets"`
	Lost         int      `json:"lost"`
	LostPct      float64  `json:"lost_pct"`
	JitterMeanMs float64  `json:"jitter_mean_ms"`
	MOS          *float64 `json:"mos"`
	Direction    string   `json:"direction"`
}

// callMediaFields returns the media and mos fields of a call: its streams
// and the lowest MOS among them (nil when none was scored).
func callMediaFields(streams []correlate.Stream) ([]callMedia, *float64) {
	out := make([]callMedia, 0, len(streams))
	var worst *float64
	for i := range streams {
		s := &streams[i]
		if s.Link == correlate.LinkInfo {
			continue // info_dtmf
		}
		r := streamRecord(s)
		out = append(out, callMedia{Src: r.Src, Dst: r.Dst, SSRC: r.SSRC, Codec: r.Codec, Packets: r.Packets,
			Lost: r.Lost, LostPct: r.LostPct, JitterMeanMs: r.JitterMeanMs, MOS: r.MOS, Direction: r.Direction})
		if r.MOS != nil && (worst == nil || *r.MOS < *worst) {
			worst = r.MOS
		}
	}
	return out, worst
}

// infoDTMFEvent is one digit a party sent in a SIP INFO.
type infoDTMFEvent struct {
	Digit      string  `json:"digit"`
	Start      string  `json:"start"`
	DurationMs float64 `json:"duration_ms"`
	Direction  string  `json:"direction"`
	Src        string  `json:"src"`
	Dst        string  `json:"dst"`
}

// callWithMedia is a line of `calls --format jsonl`: the dialog's Record,
// its findings and its media (issue 11).
func callWithMedia(d *correlate.Dialog, streams []correlate.Stream) callRecord {
	r := newCallRecord(d)
	r.Media, r.MOS = callMediaFields(streams)
	r.InfoDTMF, r.InfoDTMFEvents = infoDTMF(streams)
	return r
}

// infoDTMF returns the SIP INFO digits among a call's stored streams (its
// correlate.LinkInfo rows), both directions in time order.
func infoDTMF(streams []correlate.Stream) (string, []infoDTMFEvent) {
	type sent struct {
		e correlate.DTMFEvent
		s *correlate.Stream
	}
	var all []sent
	for i := range streams {
		if s := &streams[i]; s.Link == correlate.LinkInfo {
			for _, e := range s.DTMFEvents {
				all = append(all, sent{e, s})
			}
		}
	}
	// Both directions in time order.
	slices.SortStableFunc(all, func(a, b sent) int { return a.e.Start.Compare(b.e.Start) })
	evs := make([]correlate.DTMFEvent, 0, len(all))
	out := make([]infoDTMFEvent, 0, len(all))
	for _, x := range all {
		evs = append(evs, x.e)
		out = append(out, infoDTMFEvent{Digit: x.e.Digit, Start: correlate.FormatTime(x.e.Start),
			DurationMs: float64(x.e.Duration.Microseconds()) / 1e3, Direction: string(x.s.Direction), Src: x.s.Src.String(), Dst: x.s.Dst.String()})
	}
	return correlate.Digits(evs), out
}

// mediaCSV is the streams, mos and info_dtmf columns of `calls --format
// csv`.
func mediaCSV(streams []correlate.Stream) []string {
	media, mos := callMediaFields(streams)
	m := ""
	if mos != nil {
		m = strconv.FormatFloat(*mos, 'f', -1, 64)
	}
	digits, _ := infoDTMF(streams)
	return []string{strconv.Itoa(len(media)), m, digits}
}
