package correlate

import (
	"net/netip"
	"time"
)

// StreamKey names one RTP stream: its 5-tuple (UDP, so the transport is
// implied) and SSRC. RFC 3550 §8 lets two sources pick the same SSRC and
// a stream's two directions often share one (a B2BUA, a looped call), so
// the SSRC alone never names a stream.
type StreamKey struct {
	Src, Dst netip.AddrPort
	SSRC     uint32
}

// Direction says which party of the call sent a stream.
type Direction string

// Directions.
const (
	DirectionUnknown    Direction = ""            // no call, or the sender is neither SDP's address
	DirectionFromCaller Direction = "from-caller" // sent by the party whose INVITE opened the call (the offerer of the first SDP in an INVITE)
	DirectionFromCallee Direction = "from-callee" // sent by the party that answered
)

// Link says how a stream was tied to its call.
type Link string

// Links.
const (
	// LinkSDP: the stream's destination (or source) is an address and
	// port an SDP offer or answer of the call announced.
	LinkSDP Link = "sdp"
	// LinkNAT: the SDP announced the port but another address (a private
	// one behind NAT); the stream came from or went to the address the
	// call's signalling came from (the NAT hint), on the announced port
	// or the port the other direction used.
	LinkNAT Link = "nat"
	// LinkHeuristic: no SDP announced it; it was taken for RTP from its
	// header alone (version 2, a sequence that advances, as
	// tshark -o rtp.heuristic_rtp:TRUE) and has no call (CallID "").
	LinkHeuristic Link = "heuristic"
	// LinkInfo: not an RTP stream but the DTMF digits one party of the
	// call sent in SIP INFO requests (InfoDigits): Src and Dst are the
	// INFO's addresses, SSRC and Packets 0, PayloadType -1, DTMFEvents
	// the digits (Source "info"), Start and End the first and last.
	LinkInfo Link = "info"
)

// Stream is one RTP stream (one SSRC from one 5-tuple) and its statistics,
// summarised once the capture ends. Memory per stream is constant: no
// per-packet history is kept.
type Stream struct {
	CallID string // "" when no SDP of any call announced it (Link heuristic)
	Src    netip.AddrPort
	Dst    netip.AddrPort
	SSRC   uint32
	// PayloadType is the RTP payload type of the first media packet
	// (RFC 3550 §5.1); telephone-event packets (RFC 4733) do not count.
	PayloadType int
	// Codec is the encoding name, from the SDP's rtpmap or the static
	// table of RFC 3551 §6 ("PCMU", "PCMA", "G729"...); "" when unknown.
	Codec string
	// ClockRate is the RTP clock in Hz (rtpmap or RFC 3551), which turns
	// timestamp units into time for the jitter; 8000 when unknown.
	ClockRate int
	// PayloadTypes lists every payload type seen, in order of first
	// appearance (more than one media type means the codec changed, or
	// DTMF / comfort noise packets were interleaved).
	PayloadTypes []int
	Direction    Direction
	Link         Link

	// RFC 3550 §6.4.1 / A.3 counts.
	// Packets counts every packet received, duplicates and late ones
	// included, as RFC 3550 A.3 counts "received" (and tshark does).
	Packets    int
	Bytes      int // payload bytes of those packets
	Expected   int // extended highest sequence - base sequence + 1
	Lost       int // Expected - Packets; negative when duplicates outnumber losses
	OutOfOrder int // packets whose sequence is below the highest seen so far (and not duplicates)
	Duplicates int // packets whose sequence was seen just before (same number)
	// Seq wraps seen: the extended sequence's cycle count (RFC 3550 A.1).
	Cycles int

	// RFC 3550 §6.4.1 / A.8 interarrival jitter, in milliseconds: the
	// running estimate after each packet; mean over packets and maximum.
	JitterMeanMs float64
	JitterMaxMs  float64
	// MaxDeltaMs is the longest gap between two consecutive arrivals.
	MaxDeltaMs float64

	Start, End time.Time // first and last packet

	// RTCP holds what RTCP said about this stream (nil when none was seen).
	RTCP *RTCPStats

	// E-model (ITU-T G.107) scoring: nil when the codec has no published
	// Ie/Bpl or the stream was too short to score.
	RFactor *float64
	MOS     *float64

	// DTMF is the digits carried in this stream by RFC 4733 telephone
	// events, in order ("15#"); DTMFEvents has each with its time.
	DTMF       string
	DTMFEvents []DTMFEvent
}

// Scored reports whether the stream has an E-model score.
func (s *Stream) Scored() bool { return s.MOS != nil }

// LostPct is the lost fraction of the expected packets in percent
// (negative when Lost is); 0 when nothing was expected.
func (s *Stream) LostPct() float64 {
	if s.Expected <= 0 {
		return 0
	}
	return 100 * float64(s.Lost) / float64(s.Expected)
}

// Missing is how many sequence numbers from the first to the highest were
// never received. Lost (RFC 3550 A.3) counts duplicates as received, so a
// sender that repeats packets under one sequence number (SIPp's RFC 4733
// recordings repeat each event's end packet, §2.5.1.4) hides real gaps
// from it: 7 missing and 6 duplicates make Lost 1. The E-model and the
// packet-loss rule use Missing, since a duplicate fills no gap a listener
// hears; Lost stays as A.3 and tshark count it.
func (s *Stream) Missing() int { return max(s.Lost+s.Duplicates, 0) }

// MissingPct is Missing in percent of the expected packets; 0 when nothing
// was expected.
func (s *Stream) MissingPct() float64 {
	if s.Expected <= 0 {
		return 0
	}
	return 100 * float64(s.Missing()) / float64(s.Expected)
}

// RTCPStats is what RTCP (RFC 3550 §6.4) reported about one stream: the
// peer's receiver reports about the stream's SSRC, and the sender's own
// sender reports.
type RTCPStats struct {
	SR int // sender reports from the stream's SSRC (RFC 3550 §6.4.1)
	RR int // report blocks about the stream's SSRC, in SR or RR packets (§6.4.2)
	XR int // XR VoIP metrics blocks about the stream's SSRC (RFC 3611 §4.7)

	// From the peer's last report block about this SSRC:
	FractionLostPct float64 // fraction lost since the previous report, in percent
	CumulativeLost  int     // cumulative number of packets lost (24-bit signed)
	JitterMs        float64 // the peer's interarrival jitter estimate, in ms
	// Over all report blocks about this SSRC:
	MaxFractionLostPct float64
	MaxJitterMs        float64
	// RTTMs is the round trip from the last report's LSR/DLSR (RFC 3550
	// §6.4.1), when the matching SR was seen; nil otherwise.
	RTTMs *float64

	// XRVoIP is the last RFC 3611 §4.7 VoIP Metrics block about this SSRC.
	XRVoIP *XRVoIPMetrics
}

// XRVoIPMetrics is the RFC 3611 §4.7 VoIP Metrics Report Block, as sent.
type XRVoIPMetrics struct {
	LossRatePct    float64 // loss rate, in percent (field/256)
	DiscardRatePct float64
	RoundTripMs    int
	EndSystemMs    int
	RFactor        int // 127 when unavailable
	MOSLQ, MOSCQ   float64
	JitterBufMs    int // nominal jitter buffer delay
}

// DTMFEvent is one DTMF digit: an RFC 4733 telephone event (or a SIP INFO
// application/dtmf-relay body, Source "info").
type DTMFEvent struct {
	Digit    string        // "0"-"9", "*", "#", "A"-"D", or "event N" for others
	Event    int           // RFC 4733 §3.2 event code
	Start    time.Time     // arrival of the event's first packet
	Duration time.Duration // from the event's duration field (clock units) once it ended
	Volume   int           // dBm0 below 0 (RFC 4733 §2.3.2)
	Source   string        // "rfc4733" or "info"
}

// RTPPacket is one RTP packet as the media tracker hands it to a
// PacketSink: which stream and call it belongs to and its header fields.
// Payload aliases the decoder's buffer and is valid only during the call;
// a sink that keeps it copies it.
type RTPPacket struct {
	Key         StreamKey
	CallID      string // "" for a heuristic stream
	Seq         uint16
	Timestamp   uint32
	Arrival     time.Time
	Marker      bool
	PayloadType int
	// Encoding is the payload type's encoding name from the call's SDP
	// rtpmap or the static table ("telephone-event", "PCMA"...).
	Encoding  string
	ClockRate int
	Payload   []byte
}

// PacketSink receives every RTP packet of a linked or heuristic stream, in
// capture order, from the goroutine that feeds the media tracker: RFC 4733
// DTMF decoding and the WAV export hang off it. It must not retain p or
// p.Payload after it returns.
type PacketSink func(p *RTPPacket)
