package decode

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"sort"
	"time"
)

// SCTP (RFC 9260) carrying SIP (RFC 4168): DATA chunks (§3.3.1) and
// I-DATA chunks (RFC 8260 §2.1), several per packet, user messages split
// over several chunks (B and E bits) reassembled per stream.

const (
	sctpData  = 0  // RFC 9260 §3.3.1
	sctpIData = 64 // RFC 8260 §2.1

	sctpFlagE = 0x01 // last fragment
	sctpFlagB = 0x02 // first fragment
	sctpFlagU = 0x04 // unordered

	maxSCTPFrags = 4096 // fragments held across all streams
)

// sctpKey names a sequence of fragments: one direction, one stream, and
// for I-DATA one message id.
type sctpKey struct {
	src, dst  netip.AddrPort
	stream    uint16
	unordered bool
	idata     bool
	mid       uint32
}

// sctpFrag is one fragment of a user message, kept as a copy.
type sctpFrag struct {
	seq   uint32 // TSN for DATA, FSN for I-DATA
	flags uint8
	data  []byte
	refs  []FrameRef
	t     time.Time
}

type sctpState struct {
	frags map[sctpKey][]sctpFrag // sorted by seq
	n     int                    // fragments held
	bytes int                    // bytes held
}

// onSCTP handles one SCTP packet (common header and chunks, RFC 9260 §3).
func (d *Decoder) onSCTP(p *pkt, b []byte) {
	if len(b) < 12 {
		d.stats.Malformed++
		return
	}
	src := netip.AddrPortFrom(p.src, binary.BigEndian.Uint16(b[0:2]))
	dst := netip.AddrPortFrom(p.dst, binary.BigEndian.Uint16(b[2:4]))
	for off := 12; off+4 <= len(b); {
		typ, flags := b[off], b[off+1]
		n := int(binary.BigEndian.Uint16(b[off+2 : off+4]))
		if n < 4 {
			d.stats.Malformed++
			return
		}
		if off+n > len(b) {
			d.stats.Truncated++
			return
		}
		c := b[off : off+n]
		off += (n + 3) &^ 3 // §3.2: chunks are padded to 4 bytes
		switch typ {
		case sctpData:
			if len(c) < 16 {
				d.stats.Malformed++
				continue
			}
			d.stats.SCTPChunks++
			key := sctpKey{src: src, dst: dst, stream: binary.BigEndian.Uint16(c[8:10]), unordered: flags&sctpFlagU != 0}
			d.sctpChunk(p, key, binary.BigEndian.Uint32(c[4:8]), flags, c[16:])
		case sctpIData:
			if len(c) < 20 {
				d.stats.Malformed++
				continue
			}
			d.stats.SCTPChunks++
			key := sctpKey{src: src, dst: dst, stream: binary.BigEndian.Uint16(c[8:10]), unordered: flags&sctpFlagU != 0,
				idata: true, mid: binary.BigEndian.Uint32(c[12:16])}
			var fsn uint32
			if flags&sctpFlagB == 0 {
				fsn = binary.BigEndian.Uint32(c[16:20]) // PPID on the first fragment, FSN on the others
			}
			d.sctpChunk(p, key, fsn, flags, c[20:])
		}
	}
}

// sctpChunk handles the user data of one DATA or I-DATA chunk.
func (d *Decoder) sctpChunk(p *pkt, key sctpKey, seq uint32, flags uint8, data []byte) {
	if flags&(sctpFlagB|sctpFlagE) == sctpFlagB|sctpFlagE {
		d.sctpMessage(p, key, data, pktFrames(p), p.time)
		return
	}
	st := &d.tcp.sctp
	if st.frags == nil {
		st.frags = make(map[sctpKey][]sctpFrag)
	}
	if st.n >= maxSCTPFrags || st.bytes+len(data) > d.opts.MaxTCPBuffer {
		// Bounded memory: forget every partial message.
		d.stats.Truncated += int64(len(st.frags))
		clear(st.frags)
		st.n, st.bytes = 0, 0
	}
	fs := st.frags[key]
	i := sort.Search(len(fs), func(i int) bool { return int32(fs[i].seq-seq) >= 0 })
	if i < len(fs) && fs[i].seq == seq {
		return // retransmitted chunk
	}
	f := sctpFrag{seq: seq, flags: flags, data: bytes.Clone(data), t: p.time}
	for _, r := range pktFrames(p) {
		r.Data = bytes.Clone(r.Data)
		f.refs = append(f.refs, r)
	}
	fs = append(fs, sctpFrag{})
	copy(fs[i+1:], fs[i:])
	fs[i] = f
	st.frags[key] = fs
	st.n++
	st.bytes += len(data)

	// Look for a whole run B, middle..., E with consecutive numbers.
	for start := 0; start < len(fs); start++ {
		if fs[start].flags&sctpFlagB == 0 {
			continue
		}
		for j := start; j < len(fs); j++ {
			if j > start && (fs[j].seq != fs[j-1].seq+1 || fs[j].flags&sctpFlagB != 0) {
				break
			}
			if fs[j].flags&sctpFlagE == 0 {
				continue
			}
			var msg []byte
			var refs []FrameRef
			at := p.time
			for _, g := range fs[start : j+1] {
				msg = append(msg, g.data...)
				refs = append(refs, g.refs...)
				st.bytes -= len(g.data)
				st.n--
				if g.t.After(at) {
					at = g.t
				}
			}
			rest := append(fs[:start:start], fs[j+1:]...)
			if len(rest) == 0 {
				delete(st.frags, key)
			} else {
				st.frags[key] = rest
			}
			if len(msg) > d.opts.MaxMessage {
				d.stats.Truncated++
				return
			}
			d.sctpMessage(p, key, msg, refs, at)
			return
		}
	}
}

// sctpMessage emits one complete user message if it is SIP. RFC 4168 does
// not register a payload protocol identifier for SIP, so the PPID is not
// checked: the start line decides.
func (d *Decoder) sctpMessage(p *pkt, key sctpKey, msg []byte, frames []FrameRef, at time.Time) {
	msg = msg[skipCRLF(msg):]
	if len(msg) == 0 {
		return
	}
	if !isSIPStart(msg) {
		d.stats.NonSIP++
		return
	}
	d.emitStream(p, SCTP, key.src, key.dst, msg, frames, at, nil)
}

// sctpFlush drops the partial user messages at the end of the input.
func (d *Decoder) sctpFlush() {
	st := &d.tcp.sctp
	d.stats.Truncated += int64(len(st.frags))
	clear(st.frags)
	st.n, st.bytes = 0, 0
}
