package correlate

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"unique"
)

// The media rules look at a call's RTP streams next to its SDP. They
// take the streams as an argument, which Diagnose's rule signature does
// not carry, so they run from DiagnoseMedia: a caller that has the
// call's streams appends its findings to Diagnose's.

// MediaDiagnoseOptions are the thresholds of the media rules;
// DefaultMediaDiagnoseOptions gives the documented defaults.
type MediaDiagnoseOptions struct {
	// PacketLossPct is the lost share of a stream's expected packets
	// above which packet-loss is reported (1%: G.711 without PLC already
	// loses R 18 there, G.113 Appendix I).
	PacketLossPct float64
	// JitterMs is the mean RFC 3550 interarrival jitter above which
	// high-jitter is reported (20 ms: one G.711 packet, the depth of a
	// usual fixed jitter buffer).
	JitterMs float64
	// MinMOS is the E-model MOS under which low-mos is reported (3.6: R
	// 70, where G.107 Annex B's "some users dissatisfied" ends).
	MinMOS float64
	// EModel are the assumptions for streams not scored yet.
	EModel EModelOptions
}

// DefaultMediaDiagnoseOptions returns the default thresholds.
func DefaultMediaDiagnoseOptions() MediaDiagnoseOptions {
	return MediaDiagnoseOptions{PacketLossPct: 1, JitterMs: 20, MinMOS: 3.6}
}

// mediaRules run in this order; each sets its own code.
var mediaRules = []struct {
	code  string
	check func(x *mediaDiag) []Finding
}{
	{"no-media", ruleNoMedia},
	{"one-way-media", ruleOneWayMedia},
	{"media-address-mismatch", ruleMediaAddressMismatch},
	{"packet-loss", rulePacketLoss},
	{"high-jitter", ruleHighJitter},
	{"low-mos", ruleLowMOS},
	{"codec-changed", ruleCodecChanged},
	{"dtmf-mismatch", ruleDTMFMismatch},
}

// MediaRuleCodes lists the codes DiagnoseMedia can report.
func MediaRuleCodes() []string {
	out := make([]string, len(mediaRules))
	for i, r := range mediaRules {
		out[i] = r.code
	}
	return out
}

// DiagnoseMedia runs the media rules over a dialog, its messages (as for
// Diagnose) and the RTP streams of its call (others are ignored), and
// returns the findings, worst first. Zero thresholds take the defaults.
// It does not modify its arguments. It is NewMediaView(d, msgs).Diagnose.
func DiagnoseMedia(d *Dialog, msgs []*Message, streams []Stream, o MediaDiagnoseOptions) []Finding {
	return NewMediaView(d, msgs).Diagnose(streams, o)
}

// MediaView is what the media rules need of a dialog's signalling: who
// offered and answered which audio addresses and codecs, the SIP INFO
// digits, whether the call was answered, with the indexes of the messages
// that said so. It holds no message (its strings are copies), so that an
// importer can keep one per call from the dialog's hand-off, while its
// messages are whole, until the capture ends and the call's RTP streams
// are final, and run the media rules then. A nil *MediaView is a dialog
// on which no media rule can find anything (not a call, or no SDP).
type MediaView struct {
	callID   string
	answered bool
	caller   *party // &parties[0]
	callee   *party // &parties[1]
	parties  [2]party
	infos    []int64 // SIP INFO requests carrying DTMF
	infoDTMF []DTMFEvent
}

// Diagnose runs the media rules with the streams of v's call (others are
// ignored) and returns the findings, worst first; nil when v is nil.
// Zero thresholds take the defaults. Safe for concurrent use.
func (v *MediaView) Diagnose(streams []Stream, o MediaDiagnoseOptions) []Finding {
	if v == nil {
		return nil
	}
	def := DefaultMediaDiagnoseOptions()
	if o.PacketLossPct <= 0 {
		o.PacketLossPct = def.PacketLossPct
	}
	if o.JitterMs <= 0 {
		o.JitterMs = def.JitterMs
	}
	if o.MinMOS <= 0 {
		o.MinMOS = def.MinMOS
	}
	x := &mediaDiag{MediaView: v, o: o}
	for _, s := range streams {
		// Branch rtp stores the SIP INFO digits of a call as a pseudo
		// stream (Link "info", no packets): not RTP, and the rules read
		// INFO from the messages.
		if s.CallID == v.callID && s.Link != Link("info") {
			x.streams = append(x.streams, s)
		}
	}
	var out []Finding
	for _, r := range mediaRules {
		for _, f := range r.check(x) {
			if len(f.Evidence) == 0 {
				continue
			}
			f.Code = r.code
			out = append(out, f)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Severity.rank() < out[j].Severity.rank() })
	return out
}

// party is what one side of the call said in its SDP.
type party struct {
	name     string
	sdps     []int64          // indexes of its messages with SDP
	audio    []netip.AddrPort // every audio address:port it announced (port > 0)
	dir      string           // direction of its last audio m= ("sendrecv" when absent)
	events   bool             // it offered or accepted telephone-event (RFC 4733 §7.1.1)
	rtpmap   []ptEncoding     // payload type -> encoding, from all its SDPs (last wins)
	firstPTs []string         // first audio format of each SDP, in order
}

type ptEncoding struct {
	pt  int
	enc string
}

// encoding returns the encoding p's SDPs gave pt.
func (p *party) encoding(pt int) (string, bool) {
	for i := len(p.rtpmap) - 1; i >= 0; i-- {
		if p.rtpmap[i].pt == pt {
			return p.rtpmap[i].enc, true
		}
	}
	return "", false
}

type mediaDiag struct {
	*MediaView
	o       MediaDiagnoseOptions
	streams []Stream
}

// NewMediaView reads what the media rules need from a dialog and its
// messages (as Diagnose takes them); nil when d is not a call or no
// message of it carries SDP. It does not keep msgs.
func NewMediaView(d *Dialog, msgs []*Message) *MediaView {
	if d.Kind != KindCall {
		return nil
	}
	sdp := false
	for _, m := range msgs {
		if m != nil && m.Message != nil && m.SDP != nil {
			sdp = true
			break
		}
	}
	if !sdp {
		return nil // no rule has evidence to cite
	}
	x := &MediaView{callID: strings.Clone(d.CallID)}
	x.parties[0].name, x.parties[1].name = "caller", "callee"
	x.caller, x.callee = &x.parties[0], &x.parties[1]
	// The parties' lists are gathered in reused storage and then copied
	// into one array of each kind for both: a view is kept per call until
	// its streams are final, and growing eight small slices for each was
	// the largest share of the allocations of `calls` on a SIPp capture.
	b := viewBuildPool.Get().(*viewBuild)
	defer viewBuildPool.Put(b)
	b.reset()
	caller, callee := &b.parties[0], &b.parties[1]
	// The caller is the From of the request that opened the dialog: its
	// requests carry that From tag, and responses to them come from the
	// callee (RFC 3261 §12.1: From/To stay as the dialog's creator set
	// them in each direction's requests).
	callerTag := ""
	for _, m := range msgs {
		if m != nil && m.Message != nil && m.Request && m.Method == "INVITE" {
			callerTag = m.From.Tag
			break
		}
	}
	seen := b.seen
	defer func() { b.seen = seen }()
	for _, m := range msgs {
		// Retransmissions and the same message captured twice say
		// nothing new (Diagnose's rules see them as newDiag does).
		if m == nil || m.Message == nil || m.Retransmission || m.Duplicate {
			continue
		}
		if !m.Request && m.CSeqMethod == "INVITE" && m.Status >= 200 && m.Status < 300 {
			x.answered = true // as diag.answered
		}
		if e, ok := InfoDTMF(m.Message); ok {
			e.Digit = strings.Clone(e.Digit)
			e.Source = strings.Clone(e.Source)
			x.infos = append(x.infos, idx(m))
			x.infoDTMF = append(x.infoDTMF, e)
		}
		if m.SDP == nil {
			continue
		}
		p := callee
		if m.Request == (m.From.Tag == callerTag) {
			p = caller
		}
		key := sdpKey{p, m.CSeq, m.CSeqMethod, m.Request}
		if slices.Contains(seen, key) {
			continue // a retransmitted 2xx the correlator did not mark
		}
		seen = append(seen, key)
		p.sdps = append(p.sdps, idx(m))
		for _, md := range m.SDP.Media {
			if md.Type != "audio" {
				continue
			}
			p.dir = intern(md.Direction)
			if len(md.Formats) > 0 {
				p.firstPTs = append(p.firstPTs, intern(md.Formats[0]))
			}
			for _, rm := range md.RTPMap {
				p.rtpmap = append(p.rtpmap, ptEncoding{rm.Payload, intern(rm.Encoding)})
				if strings.EqualFold(rm.Encoding, "telephone-event") {
					p.events = true
				}
			}
			if md.Port <= 0 {
				continue // RFC 3264 §6: port 0 rejects the stream
			}
			if a, err := netip.ParseAddr(md.Connection); err == nil {
				ap := netip.AddrPortFrom(a.Unmap(), uint16(md.Port))
				if !slices.Contains(p.audio, ap) {
					p.audio = append(p.audio, ap)
				}
			}
		}
	}
	b.copyTo(&x.parties)
	return x
}

// sdpKey names one SDP of a party, for NewMediaView's retransmission check.
type sdpKey struct {
	p       *party
	cseq    uint32
	method  string
	request bool
}

// viewBuild is NewMediaView's reused storage (viewBuildPool).
type viewBuild struct {
	parties [2]party
	seen    []sdpKey
}

var viewBuildPool = sync.Pool{New: func() any { return new(viewBuild) }}

func (b *viewBuild) reset() {
	for i := range b.parties {
		p := &b.parties[i]
		clear(p.firstPTs)
		clear(p.rtpmap)
		*p = party{sdps: p.sdps[:0], audio: p.audio[:0], rtpmap: p.rtpmap[:0], firstPTs: p.firstPTs[:0]}
	}
	clear(b.seen)
	b.seen = b.seen[:0]
}

// copyTo copies what b gathered into ps (whose names are set), each kind
// of list of both parties in one exact-size array (nil when both are empty).
func (b *viewBuild) copyTo(ps *[2]party) {
	p0, p1 := &b.parties[0], &b.parties[1]
	sdps := joined(p0.sdps, p1.sdps)
	audio := joined(p0.audio, p1.audio)
	rtpmap := joined(p0.rtpmap, p1.rtpmap)
	first := joined(p0.firstPTs, p1.firstPTs)
	for i, p := range []*party{p0, p1} {
		q := &ps[i]
		q.dir, q.events = p.dir, p.events
		q.sdps, sdps = split(sdps, len(p.sdps))
		q.audio, audio = split(audio, len(p.audio))
		q.rtpmap, rtpmap = split(rtpmap, len(p.rtpmap))
		q.firstPTs, first = split(first, len(p.firstPTs))
	}
}

// joined is a and b in one new array; nil when both are empty.
func joined[T any](a, b []T) []T {
	if len(a)+len(b) == 0 {
		return nil
	}
	return append(append(make([]T, 0, len(a)+len(b)), a...), b...)
}

// split cuts the first n of s off (nil when n is 0), capped so that an
// append to it cannot write over the rest.
func split[T any](s []T, n int) (head, rest []T) {
	if n == 0 {
		return nil, s
	}
	return s[:n:n], s[n:]
}

// intern copies s once for all views ("PCMA", "sendrecv", "8" recur in
// every call): a view keeps no byte of its messages.
func intern(s string) string { return unique.Make(s).Value() }

// sorted is the indexes of several lists, in capture order.
func sorted(ls ...[]int64) []int64 {
	var out []int64
	for _, l := range ls {
		out = append(out, l...)
	}
	slices.Sort(out)
	return out
}

// sdpEvidence is every SDP of both parties, in capture order.
func (x *mediaDiag) sdpEvidence() []int64 { return sorted(x.caller.sdps, x.callee.sdps) }

func (x *mediaDiag) sender(s *Stream) *party {
	switch s.Direction {
	case DirectionFromCaller:
		return x.caller
	case DirectionFromCallee:
		return x.callee
	}
	return nil
}

func streamName(s *Stream) string {
	codec := s.Codec
	if codec == "" {
		codec = fmt.Sprintf("PT %d", s.PayloadType)
	}
	return fmt.Sprintf("%s → %s (%s, SSRC 0x%08X)", s.Src, s.Dst, codec, s.SSRC)
}

func addrList(as []netip.AddrPort) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

// ruleNoMedia: RFC 3264 §5/§6: an answered offer/answer with audio sets up
// RTP (RFC 3550) both ways; none in the capture. A warning only: capture
// filters ("port 5060") often leave RTP out on purpose.
func ruleNoMedia(x *mediaDiag) []Finding {
	if !x.answered || len(x.streams) > 0 || len(x.caller.audio) == 0 || len(x.callee.audio) == 0 {
		return nil
	}
	if x.caller.dir == "inactive" || x.callee.dir == "inactive" {
		return nil // RFC 3264 §5.1: no media is to flow
	}
	return []Finding{{Severity: SevWarning, RFC: "RFC 3264 §6, RFC 3550", Evidence: x.sdpEvidence(),
		Summary: fmt.Sprintf("The call was answered with audio at %s (caller) and %s (callee) but the capture has no RTP for it: media never flowed, or a capture filter left it out.",
			addrList(x.caller.audio), addrList(x.callee.audio))}}
}

// sends reports whether p's SDP lets it send audio (RFC 3264 §6.1:
// sendonly and sendrecv do; recvonly and inactive do not).
func (p *party) sends() bool { return p.dir == "" || p.dir == "sendrecv" || p.dir == "sendonly" }

// ruleOneWayMedia: RTP one way only while both SDPs say both ways
// (sendrecv, RFC 3264 §6.1): the classic "I hear you, you don't hear me",
// usually NAT or a firewall on the silent side's path.
func ruleOneWayMedia(x *mediaDiag) []Finding {
	if !x.answered || len(x.streams) == 0 {
		return nil
	}
	var n [2]int
	var names [2][]string
	for i := range x.streams {
		s := &x.streams[i]
		switch s.Direction {
		case DirectionFromCaller:
			n[0] += s.Packets
			names[0] = append(names[0], streamName(s))
		case DirectionFromCallee:
			n[1] += s.Packets
			names[1] = append(names[1], streamName(s))
		}
	}
	if (n[0] > 0) == (n[1] > 0) {
		return nil
	}
	from, to, silent := x.caller, x.callee, x.callee
	k := 0
	if n[1] > 0 {
		from, to, silent, k = x.callee, x.caller, x.caller, 1
	}
	// Both must be able to send and receive: a hold (sendonly/recvonly)
	// is one-way on purpose.
	if !from.sends() || !silent.sends() || to.dir == "sendonly" || from.dir == "recvonly" {
		return nil
	}
	want := "the address its SDP gave"
	if len(silent.audio) > 0 {
		want = addrList(silent.audio)
	}
	return []Finding{{Severity: SevError, RFC: "RFC 3264 §6.1, RFC 3550", Evidence: x.sdpEvidence(),
		Summary: fmt.Sprintf("One-way audio: %d RTP packets from the %s (%s), none from the %s, though both SDPs said sendrecv; the %s's RTP (from %s) never reached this capture.",
			n[k], from.name, strings.Join(names[k], "; "), silent.name, silent.name, want)}}
}

// ruleMediaAddressMismatch: RTP from an address its sender's SDP did not
// announce. RFC 3264 §5 makes c=/m= where a party receives; with symmetric
// RTP (RFC 4961) it also sends from there, so a different source is a NAT
// rewriting it (the SDP carries the private address; RFC 3489 §1, RFC 6314
// on NAT traversal): media to the announced address is lost.
func ruleMediaAddressMismatch(x *mediaDiag) []Finding {
	var out []Finding
	for i := range x.streams {
		s := &x.streams[i]
		p := x.sender(s)
		if p == nil || len(p.audio) == 0 || slices.Contains(p.audio, s.Src) {
			continue
		}
		what := "address"
		for _, a := range p.audio {
			if a.Addr() == s.Src.Addr() {
				what = "port"
			}
		}
		// Where the other side sent its RTP tells whether the announced
		// address was used anyway.
		back := ""
		for j := range x.streams {
			r := &x.streams[j]
			if r.Src == s.Dst && slices.Contains(p.audio, r.Dst) {
				other := x.callee
				if p == x.callee {
					other = x.caller
				}
				back = fmt.Sprintf("; the %s sends to the announced %s, where the %s does not listen", other.name, r.Dst, p.name)
				break
			}
		}
		out = append(out, Finding{Severity: SevWarning, RFC: "RFC 3264 §5, RFC 4961", Evidence: sorted(p.sdps),
			Summary: fmt.Sprintf("The %s's RTP comes from %s, an %s its SDP did not announce (it said %s): NAT between it and the capture%s.",
				p.name, s.Src, what, addrList(p.audio), back)})
	}
	return out
}

// eventsOnly reports whether a stream carried RFC 4733 events and no
// audio: its sequence gaps between digits (a sender that starts each
// digit from a recording, as SIPp plays sip-tester's dtmf_2833_*.pcap)
// and its frozen timestamps say nothing about the call's audio.
func eventsOnly(s *Stream) bool { return strings.EqualFold(s.Codec, "telephone-event") }

// rulePacketLoss: sequence numbers never received (Stream.Missing: A.3's
// expected - received, with duplicates not counted as received) over the threshold; G.113 Appendix I rates its cost per codec.
func rulePacketLoss(x *mediaDiag) []Finding {
	var out []Finding
	for i := range x.streams {
		s := &x.streams[i]
		if eventsOnly(s) {
			continue
		}
		// Missing, not A.3's Lost: repeated packets (RFC 4733 end
		// packets) would otherwise hide the gaps.
		if pct := s.MissingPct(); pct > x.o.PacketLossPct {
			why := ""
			if s.Missing() != s.Lost {
				why = fmt.Sprintf("; RFC 3550's cumulative lost is %d, since its %d duplicates count as received", s.Lost, s.Duplicates)
			}
			out = append(out, Finding{Severity: SevWarning, RFC: "RFC 3550 §6.4.1, ITU-T G.113 Appendix I", Evidence: x.sdpEvidence(),
				Summary: fmt.Sprintf("Stream %s lost %d of %d packets (%.1f%%, over %.3g%%%s).", streamName(s), s.Missing(), s.Expected, pct, x.o.PacketLossPct, why)})
		}
	}
	return out
}

// ruleHighJitter: the RFC 3550 §6.4.1 / A.8 interarrival jitter, averaged
// over the stream, above what a usual jitter buffer absorbs.
func ruleHighJitter(x *mediaDiag) []Finding {
	var out []Finding
	for i := range x.streams {
		s := &x.streams[i]
		if s.JitterMeanMs > x.o.JitterMs && !eventsOnly(s) {
			out = append(out, Finding{Severity: SevWarning, RFC: "RFC 3550 §6.4.1, A.8", Evidence: x.sdpEvidence(),
				Summary: fmt.Sprintf("Stream %s has a mean jitter of %.1f ms (max %.1f ms, over %.3g ms): expect late packets dropped by the jitter buffer.", streamName(s), s.JitterMeanMs, s.JitterMaxMs, x.o.JitterMs)})
		}
	}
	return out
}

// ruleLowMOS: the ITU-T G.107 E-model MOS (Annex B) under the threshold.
func ruleLowMOS(x *mediaDiag) []Finding {
	var out []Finding
	for i := range x.streams {
		s := &x.streams[i]
		r, mos := s.RFactor, s.MOS
		if mos == nil {
			if rr, mm, ok := Score(s, x.o.EModel); ok {
				r, mos = &rr, &mm
			}
		}
		if mos == nil || *mos >= x.o.MinMOS {
			continue
		}
		out = append(out, Finding{Severity: SevError, RFC: "ITU-T G.107 Annex B", Evidence: x.sdpEvidence(),
			Summary: fmt.Sprintf("Stream %s scores MOS %.2f (R %.1f, under %.2g): %.1f%% lost, %.1f ms mean jitter.", streamName(s), *mos, *r, x.o.MinMOS, s.LostPct(), s.JitterMeanMs)})
	}
	return out
}

// isMediaPT reports whether a payload type carries audio rather than RFC
// 4733 events or RFC 3389 comfort noise (PT 13 or rtpmap CN).
func (x *mediaDiag) isMediaPT(pt int) bool {
	for _, p := range []*party{x.caller, x.callee} {
		if enc, ok := p.encoding(pt); ok {
			return !strings.EqualFold(enc, "telephone-event") && !strings.EqualFold(enc, "CN")
		}
	}
	return pt != 13
}

// ptName is "8 (PCMA)" by the SDPs' rtpmap or RFC 3551's static table,
// or "100 (in no SDP)" for a payload type neither side offered.
func (x *mediaDiag) ptName(pt int) string {
	for _, p := range []*party{x.caller, x.callee} {
		if enc, ok := p.encoding(pt); ok {
			return fmt.Sprintf("%d (%s)", pt, enc)
		}
	}
	if enc, _ := staticType(pt); enc != "" {
		return fmt.Sprintf("%d (%s)", pt, enc)
	}
	return fmt.Sprintf("%d (in no SDP)", pt)
}

// ruleCodecChanged: the codec changed during the call: a stream switching
// payload type (RFC 3550 §5.1 lets it, within the negotiated set), or a
// later offer/answer with another first codec (RFC 3264 §8.3.2). Legal, but
// a common cause of a call that goes silent or garbled midway.
func ruleCodecChanged(x *mediaDiag) []Finding {
	var out []Finding
	for i := range x.streams {
		s := &x.streams[i]
		var media []string
		for _, pt := range s.PayloadTypes {
			if x.isMediaPT(pt) {
				media = append(media, x.ptName(pt))
			}
		}
		if len(media) > 1 {
			out = append(out, Finding{Severity: SevInfo, RFC: "RFC 3550 §5.1, RFC 3264 §8.3.2", Evidence: x.sdpEvidence(),
				Summary: fmt.Sprintf("Stream %s changed payload type mid-stream: %s.", streamName(s), strings.Join(media, " then "))})
		}
	}
	for _, p := range []*party{x.caller, x.callee} {
		for i := 1; i < len(p.firstPTs); i++ {
			if p.firstPTs[i] != p.firstPTs[0] {
				out = append(out, Finding{Severity: SevInfo, RFC: "RFC 3264 §8.3.2", Evidence: sorted(p.sdps),
					Summary: fmt.Sprintf("The %s's SDP changed its preferred codec from payload type %s to %s during the call.", p.name, p.firstPTs[0], p.firstPTs[i])})
				break
			}
		}
	}
	return out
}

// ruleDTMFMismatch: both sides negotiated telephone-event (RFC 4733 §7.1.1)
// yet digits went as SIP INFO or as tones in the audio (a receiver that
// expects RFC 4733 misses them; tones also die in a low-bit-rate codec),
// or RFC 4733 events were sent that the SDP never negotiated. In-band
// digits are those InbandDTMF.Apply added to the streams (Source "inband").
func ruleDTMFMismatch(x *mediaDiag) []Finding {
	var out []Finding
	both := x.caller.events && x.callee.events
	if both {
		for i := range x.streams {
			s := &x.streams[i]
			var tones []DTMFEvent
			for _, e := range s.DTMFEvents {
				if e.Source == "inband" {
					tones = append(tones, e)
				}
			}
			if len(tones) > 0 {
				out = append(out, Finding{Severity: SevWarning, RFC: "RFC 4733 §7.1.1, ITU-T Q.23", Evidence: x.sdpEvidence(),
					Summary: fmt.Sprintf("Both SDPs negotiated telephone-event (RFC 4733) but stream %s carries DTMF %q as tones in the audio (first at %s): a side that listens for RTP events misses them.",
						streamName(s), Digits(tones), tones[0].Start.UTC().Format("15:04:05.000"))})
			}
		}
	}
	if both && len(x.infos) > 0 {
		out = append(out, Finding{Severity: SevWarning, RFC: "RFC 4733 §7.1.1, RFC 6086", Evidence: sorted(x.caller.sdps, x.callee.sdps, x.infos),
			Summary: fmt.Sprintf("Both SDPs negotiated telephone-event (RFC 4733) but DTMF %q went as %s: a side that listens for RTP events misses them.",
				Digits(x.infoDTMF), plural(len(x.infos), "SIP INFO", "SIP INFOs"))})
	}
	if !both && len(x.caller.sdps) > 0 && len(x.callee.sdps) > 0 {
		for i := range x.streams {
			s := &x.streams[i]
			if s.DTMF != "" {
				out = append(out, Finding{Severity: SevWarning, RFC: "RFC 4733 §7.1.1", Evidence: x.sdpEvidence(),
					Summary: fmt.Sprintf("Stream %s carries RFC 4733 DTMF %q, but the SDPs did not both offer telephone-event.", streamName(s), s.DTMF)})
			}
		}
	}
	return out
}
