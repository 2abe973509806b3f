package correlate

import (
	"strings"
	"time"

	"github.com/sipscope/sipscope/decode"
)

// maxPayloadTypes bounds Stream.PayloadTypes.
const maxPayloadTypes = 8

// streamState is one stream while it is read: counters and running
// estimates only, so its size does not depend on the stream's length.
type streamState struct {
	key   StreamKey
	call  *callMedia
	dir   Direction
	link  Link
	epoch uint64
	// blocked: the destination is now announced for a non-RTP
	// transport (T.38); packets are not counted until an SDP moves back.
	blocked bool
	types   []payloadType // the receiver's SDP payload types (shared with its endpoint)
	back    []payloadType // the sender's

	start, end time.Time
	pt         int // first media payload type, -1 before one
	codec      string
	clock      int
	pts        [maxPayloadTypes]int8
	npts       int

	packets, bytes int
	dups, ooo      int
	// RFC 3550 A.1: base sequence, highest extended sequence
	// (cycles<<16 | seq); int64 so that a restart may move base below 0.
	base   int64
	maxExt int64
	badSeq uint16 // A.1 bad_seq: the sequence that confirms a restart
	hasBad bool
	// seen has bit i set when extended sequence maxExt-i was received
	// (the last 128), to tell duplicates from late packets.
	seen [2]uint64

	// RFC 3550 A.8, in timestamp units (float to keep the fraction of a
	// µs-stamped arrival).
	transit    float64
	hasTransit bool
	jitter     float64 // J
	jitterSum  float64 // of J after each packet, in ms
	jitterMax  float64 // ms
	jitterN    int
	maxDelta   time.Duration

	rtcp     *RTCPStats
	lastSR   uint32 // middle 32 bits of the NTP time of the stream's last SR
	lastSRAt time.Time
}

func (st *streamState) rtcpStats() *RTCPStats {
	if st.rtcp == nil {
		st.rtcp = &RTCPStats{}
	}
	return st.rtcp
}

// typeOf returns the encoding and clock of a payload type: the receiver's
// SDP, the sender's, then RFC 3551's static table.
func (st *streamState) typeOf(pt int) (string, int) {
	for _, t := range st.types {
		if t.pt == pt {
			return t.enc, t.clock
		}
	}
	for _, t := range st.back {
		if t.pt == pt {
			return t.enc, t.clock
		}
	}
	return staticType(pt)
}

// add counts one packet arriving at t.
func (st *streamState) add(r *decode.RTP, t time.Time, enc string, clock int) {
	pt := int(r.PayloadType)
	st.notePT(pt)
	// The stream is named after its first audio or video payload type,
	// not the DTMF events or comfort noise (RFC 3389) between them.
	if st.pt < 0 && !isEvent(enc) && !strings.EqualFold(enc, "CN") {
		st.pt, st.codec, st.clock = pt, enc, clock
	}
	// RFC 3551 §4.1: the marker starts a talkspurt after silence
	// suppression; the gap before it is silence, not delay (tshark leaves
	// it out of Max Delta too).
	// Comfort noise (RFC 3389) is sent when the speaker is silent, at
	// whatever pace the sender likes: its gaps are not delay either.
	if st.packets > 0 && !r.Marker && !strings.EqualFold(enc, "CN") {
		if d := t.Sub(st.end); d > st.maxDelta {
			st.maxDelta = d
		}
	}
	st.packets++
	st.bytes += len(r.Payload)
	st.end = t
	st.sequence(r.Seq)
	st.jitterAdd(r, t, enc, clock)
}

func (st *streamState) notePT(pt int) {
	for i := 0; i < st.npts; i++ {
		if int(st.pts[i]) == pt {
			return
		}
	}
	if st.npts < maxPayloadTypes {
		st.pts[st.npts] = int8(pt)
		st.npts++
	}
}

// isEvent reports whether an encoding carries no audio samples to time
// jitter by: RFC 4733 telephone events (whose timestamp stays at the
// event's start) and comfort noise still count as packets.
func isEvent(enc string) bool { return strings.EqualFold(enc, "telephone-event") }

// sequence follows RFC 3550 A.1 and A.3: the extended highest sequence
// number, duplicates and late (out-of-order) packets. A jump of more than
// maxDropout ahead is taken as a restart of the sender's numbering when
// the next packet follows it (A.1's bad_seq), not as thousands lost: the
// packets expected so far are kept and counting goes on from the new
// number.
func (st *streamState) sequence(seq uint16) {
	const maxDropout, maxMisorder = 3000, 100
	if st.packets == 1 {
		st.base = int64(seq)
		st.maxExt = int64(seq)
		st.seen = [2]uint64{1, 0}
		return
	}
	maxSeq := uint16(st.maxExt)
	udelta := seq - maxSeq
	switch {
	case udelta == 0:
		st.dups++
	case udelta < maxDropout:
		// In order, maybe with a gap; the sum carries into the next
		// cycle when seq wrapped (A.1).
		st.shift(uint(udelta))
		st.maxExt += int64(udelta)
	case udelta <= 65535-maxMisorder:
		if st.hasBad && seq == st.badSeq {
			expected := st.maxExt - st.base + 1
			st.maxExt = st.maxExt&^0xffff | int64(seq)
			st.base = st.maxExt - expected
			st.seen = [2]uint64{1, 0}
			st.hasBad = false
			st.ooo-- // the packet before was the first of the new numbering, not late
			return
		}
		st.badSeq, st.hasBad = seq+1, true
		st.ooo++
	default:
		// Behind the highest: late, or a duplicate within the window.
		back := uint(maxSeq - seq)
		if back < 128 && st.bit(back) {
			st.dups++
			return
		}
		if back < 128 {
			st.setBit(back)
		}
		st.ooo++
	}
}

func (st *streamState) shift(n uint) {
	switch {
	case n >= 128:
		st.seen = [2]uint64{0, 0}
	case n >= 64:
		st.seen = [2]uint64{0, st.seen[0] << (n - 64)}
	default:
		st.seen[1] = st.seen[1]<<n | st.seen[0]>>(64-n)
		st.seen[0] <<= n
	}
	st.seen[0] |= 1
}

func (st *streamState) bit(i uint) bool { return st.seen[i/64]&(1<<(i%64)) != 0 }
func (st *streamState) setBit(i uint)   { st.seen[i/64] |= 1 << (i % 64) }

// jitterAdd follows RFC 3550 A.8: D = (Rj - Ri) - (Sj - Si) in timestamp
// units, J += (|D| - J) / 16. Without a known clock rate (a dynamic
// payload type no SDP mapped) there is no jitter, as in tshark.
func (st *streamState) jitterAdd(r *decode.RTP, t time.Time, enc string, clock int) {
	if clock <= 0 {
		return
	}
	arrival := t.Sub(st.start).Seconds() * float64(clock)
	transit := arrival - float64(r.Timestamp)
	if st.hasTransit {
		d := transit - st.transit
		// The timestamp wraps at 2^32 (RFC 3550 §5.1).
		if d > 1<<31 {
			d -= 1 << 32
		} else if d < -(1 << 31) {
			d += 1 << 32
		}
		if d < 0 {
			d = -d
		}
		// RFC 4733 §2.3.1: every packet of an event carries the
		// event's start as its timestamp, so its D measures the
		// event's length, not the path: J stands still (the packet
		// still counts in the mean, as in tshark's figures).
		if !isEvent(enc) {
			st.jitter += (d - st.jitter) / 16
		}
		// The mean is over the packets that have a D (all but the
		// first), as tshark's Mean Jitter is.
		ms := st.jitter * 1000 / float64(clock)
		st.jitterSum += ms
		st.jitterN++
		st.jitterMax = max(st.jitterMax, ms)
	}
	st.transit, st.hasTransit = transit, true
}

// summary returns the Stream for the state so far.
func (st *streamState) summary() Stream {
	s := Stream{
		Src: st.key.Src, Dst: st.key.Dst, SSRC: st.key.SSRC,
		PayloadType: st.pt, Codec: st.codec, ClockRate: st.clock,
		Direction: st.dir, Link: st.link,
		Packets: st.packets, Bytes: st.bytes,
		Expected:   int(st.maxExt - st.base + 1),
		OutOfOrder: st.ooo, Duplicates: st.dups,
		Cycles:      int(st.maxExt>>16 - st.base>>16),
		JitterMaxMs: st.jitterMax,
		MaxDeltaMs:  float64(st.maxDelta.Microseconds()) / 1e3,
		Start:       st.start, End: st.end,
	}
	s.Lost = s.Expected - s.Packets
	if st.call != nil {
		s.CallID = st.call.callID
	}
	if st.pt < 0 {
		// Only events: name the stream after them.
		if st.npts > 0 {
			s.PayloadType = int(st.pts[0])
			s.Codec, s.ClockRate = st.typeOf(s.PayloadType)
		}
	}
	for i := 0; i < st.npts; i++ {
		s.PayloadTypes = append(s.PayloadTypes, int(st.pts[i]))
	}
	if st.jitterN > 0 {
		s.JitterMeanMs = st.jitterSum / float64(st.jitterN)
	}
	if st.rtcp != nil {
		r := *st.rtcp
		s.RTCP = &r
	}
	return s
}

// staticType returns the encoding name and clock rate of a static RTP
// payload type (RFC 3551 §6, Table 4 and 5); "" and 0 for dynamic or
// unassigned ones.
func staticType(pt int) (string, int) {
	switch pt {
	case 0:
		return "PCMU", 8000
	case 3:
		return "GSM", 8000
	case 4:
		return "G723", 8000
	case 5:
		return "DVI4", 8000
	case 6:
		return "DVI4", 16000
	case 7:
		return "LPC", 8000
	case 8:
		return "PCMA", 8000
	case 9:
		return "G722", 8000 // RFC 3551 §4.5.2: 8000 for historical reasons
	case 10, 11:
		return "L16", 44100
	case 12:
		return "QCELP", 8000
	case 13:
		return "CN", 8000
	case 14:
		return "MPA", 90000
	case 15:
		return "G728", 8000
	case 16:
		return "DVI4", 11025
	case 17:
		return "DVI4", 22050
	case 18:
		return "G729", 8000
	case 25:
		return "CelB", 90000
	case 26:
		return "JPEG", 90000
	case 28:
		return "nv", 90000
	case 31:
		return "H261", 90000
	case 32:
		return "MPV", 90000
	case 33:
		return "MP2T", 90000
	case 34:
		return "H263", 90000
	}
	return "", 0
}
