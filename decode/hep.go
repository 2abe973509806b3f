package decode

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"io"
	"net/netip"
	"time"
)

// HEP, the Homer Encapsulation Protocol: a capture agent copies a packet
// with its original addresses, ports and time to a collector. Version 1
// and 2 use a fixed C struct header; version 3 ("HEP3", also called EEP)
// is a list of typed chunks.

// HEP3 generic chunk types (vendor 0).
const (
	hepFamily      = 0x0001
	hepProto       = 0x0002
	hepSrc4        = 0x0003
	hepDst4        = 0x0004
	hepSrc6        = 0x0005
	hepDst6        = 0x0006
	hepSport       = 0x0007
	hepDport       = 0x0008
	hepSec         = 0x0009
	hepUsec        = 0x000a
	hepProtoType   = 0x000b
	hepAgentID     = 0x000c
	hepAuthKey     = 0x000e
	hepPayload     = 0x000f
	hepCompressed  = 0x0010
	hepCorrelation = 0x0011
	hepNodeName    = 0x0013
)

// hepSIP is the HEP protocol type of SIP payloads.
const hepSIP = 1

// hepState holds scratch buffers for decompression.
type hepState struct {
	out  bytes.Buffer
	zbuf bytes.Reader
}

// hepPacket is what one HEP header said.
type hepPacket struct {
	version   int
	proto     uint8 // IP protocol of the original packet
	src, dst  netip.Addr
	sport     uint16
	dport     uint16
	sec, usec uint32
	hasTime   bool
	protoType int
	agentID   uint32
	nodeName  []byte
	payload   []byte
	zipped    bool
}

// onHEP decodes b as HEP v1/v2/v3 if it is one and reports whether it was.
// sport and dport are the ports of the UDP (or TCP) packet that carried it.
func (d *Decoder) onHEP(p *pkt, sport, dport uint16, b []byte) bool {
	var h hepPacket
	switch {
	case len(b) >= 6 && string(b[:4]) == "HEP3":
		if !parseHEP3(b, &h) {
			if n := int(binary.BigEndian.Uint16(b[4:6])); n < 6 || n > len(b) {
				return false // the magic alone is not enough
			}
			d.stats.HEPPackets++
			d.stats.Malformed++
			return true
		}
	case len(b) > 0 && (b[0] == 1 || b[0] == 2):
		if !parseHEP12(b, &h) {
			return false
		}
	default:
		return false
	}
	d.stats.HEPPackets++
	if len(b) > d.opts.MaxHEP {
		d.stats.Limits.HEP++
		return true
	}
	if h.protoType != hepSIP && h.protoType != 0 {
		return true // RTCP reports, logs, QoS...: not SIP
	}
	payload := h.payload
	if h.zipped {
		var ok bool
		if payload, ok = d.inflate(payload); !ok {
			return true
		}
	}
	payload = payload[skipCRLF(payload):]
	if len(payload) == 0 {
		return true
	}
	if !isSIPStart(payload) {
		d.stats.NonSIP++
		return true
	}
	at := p.time
	if h.hasTime && h.sec != 0 {
		at = time.Unix(int64(h.sec), int64(h.usec%1000000)*1000).UTC()
	}
	info := &HEPInfo{
		Version:      h.version,
		AgentID:      h.agentID,
		AgentName:    string(h.nodeName),
		Proto:        h.protoType,
		CollectorSrc: netip.AddrPortFrom(p.src, sport),
		CollectorDst: netip.AddrPortFrom(p.dst, dport),
	}
	if info.Proto == 0 {
		info.Proto = hepSIP
	}
	m := d.encap.mark()
	d.encap.push([...]string{"hep1", "hep2", "hep3"}[h.version-1])
	d.emitStream(p, hepTransport(h.proto), netip.AddrPortFrom(h.src, h.sport), netip.AddrPortFrom(h.dst, h.dport),
		payload, pktFrames(p), at, info)
	d.encap.truncate(m)
	return true
}

// hepTransport maps the IP protocol a HEP header names to a transport.
// Kamailio's siptrace marks TLS with IPPROTO_IDP (22) and WebSocket with
// IPPROTO_ESP (50) for lack of real numbers; unknown values read as UDP.
func hepTransport(proto uint8) Transport {
	switch proto {
	case 6:
		return TCP
	case 132:
		return SCTP
	case 22:
		return TLS
	case 50:
		return WS
	}
	return UDP
}

// parseHEP3 reads a HEP3 packet: "HEP3", total length, then chunks of
// vendor id, type, length (header included) and value, all big-endian.
func parseHEP3(b []byte, h *hepPacket) bool {
	total := int(binary.BigEndian.Uint16(b[4:6]))
	if total < 6 || total > len(b) {
		return false
	}
	b = b[:total]
	h.version = 3
	var payload bool
	for off := 6; off < len(b); {
		if off+6 > len(b) {
			return false
		}
		vendor := binary.BigEndian.Uint16(b[off:])
		typ := binary.BigEndian.Uint16(b[off+2:])
		n := int(binary.BigEndian.Uint16(b[off+4:]))
		if n < 6 || off+n > len(b) {
			return false
		}
		v := b[off+6 : off+n]
		off += n
		if vendor != 0 {
			continue // vendor chunks we do not know
		}
		switch typ {
		case hepProto:
			if len(v) >= 1 {
				h.proto = v[0]
			}
		case hepSrc4, hepDst4, hepSrc6, hepDst6:
			a, ok := netip.AddrFromSlice(v)
			if !ok || (len(v) == 4) != (typ == hepSrc4 || typ == hepDst4) {
				return false
			}
			if typ == hepSrc4 || typ == hepSrc6 {
				h.src = a
			} else {
				h.dst = a
			}
		case hepSport, hepDport:
			if len(v) != 2 {
				return false
			}
			if typ == hepSport {
				h.sport = binary.BigEndian.Uint16(v)
			} else {
				h.dport = binary.BigEndian.Uint16(v)
			}
		case hepSec, hepUsec:
			if len(v) != 4 {
				return false
			}
			h.hasTime = true
			if typ == hepSec {
				h.sec = binary.BigEndian.Uint32(v)
			} else {
				h.usec = binary.BigEndian.Uint32(v)
			}
		case hepProtoType:
			if len(v) >= 1 {
				h.protoType = int(v[0])
			}
		case hepAgentID:
			switch len(v) {
			case 2:
				h.agentID = uint32(binary.BigEndian.Uint16(v))
			case 4:
				h.agentID = binary.BigEndian.Uint32(v)
			}
		case hepNodeName:
			h.nodeName = bytes.TrimRight(v, "\x00")
		case hepPayload:
			h.payload, h.zipped, payload = v, false, true
		case hepCompressed:
			h.payload, h.zipped, payload = v, true, true
		}
	}
	return payload
}

// parseHEP12 reads a HEP v1 or v2 header (hep_hdr, then hep_iphdr or
// hep_ip6hdr, then for v2 hep_timehdr) and its payload. The version byte
// alone says little, so it is strict: a known address family and
// protocol, a header length that matches, and a SIP payload.
func parseHEP12(b []byte, h *hepPacket) bool {
	if len(b) < 8 {
		return false
	}
	h.version = int(b[0])
	var alen int
	switch b[2] {
	case 2: // AF_INET
		alen = 4
	case 10, 24, 28, 30: // AF_INET6 on Linux, OpenBSD/NetBSD, FreeBSD, macOS
		alen = 16
	default:
		return false
	}
	switch b[3] {
	case 6, 17, 132, 22, 50:
	default:
		return false
	}
	hl := 8 + 2*alen
	tl := 0
	if h.version == 2 {
		tl = 12 // tv_sec, tv_usec, captid and padding
	}
	// hp_l is the header length; implementations disagree on whether it
	// counts the time header.
	if l := int(b[1]); l != hl && l != hl+tl && l != hl+10 {
		return false
	}
	if len(b) < hl+tl {
		return false
	}
	h.proto = b[3]
	h.sport = binary.BigEndian.Uint16(b[4:6])
	h.dport = binary.BigEndian.Uint16(b[6:8])
	h.src, _ = netip.AddrFromSlice(b[8 : 8+alen])
	h.dst, _ = netip.AddrFromSlice(b[8+alen : 8+2*alen])
	if tl > 0 {
		// The time header is written in the sender's byte order, in
		// practice little-endian.
		t := b[hl : hl+tl]
		h.sec = binary.LittleEndian.Uint32(t[0:4])
		h.usec = binary.LittleEndian.Uint32(t[4:8])
		h.agentID = uint32(binary.LittleEndian.Uint16(t[8:10]))
		h.hasTime = true
	}
	h.payload = b[hl+tl:]
	h.protoType = hepSIP
	return isSIPStart(h.payload[skipCRLF(h.payload):])
}

// inflate decompresses a HEP3 compressed payload (chunk 0x0010): gzip
// (RFC 1952), zlib (RFC 1950) or raw deflate (RFC 1951), told apart by
// their first bytes. The output is capped at Options.MaxMessage: a small
// packet that inflates without end is counted as truncated.
func (d *Decoder) inflate(b []byte) ([]byte, bool) {
	st := &d.tcp.hep
	st.zbuf.Reset(b)
	var r io.Reader
	switch {
	case len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b:
		z, err := gzip.NewReader(&st.zbuf)
		if err != nil {
			d.stats.Malformed++
			return nil, false
		}
		r = z
	case len(b) >= 2 && b[0]&0x0f == 8 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0:
		z, err := zlib.NewReader(&st.zbuf)
		if err != nil {
			d.stats.Malformed++
			return nil, false
		}
		r = z
	default:
		r = flate.NewReader(&st.zbuf)
	}
	st.out.Reset()
	n, err := st.out.ReadFrom(io.LimitReader(r, int64(d.opts.MaxMessage)+1))
	if n > int64(d.opts.MaxMessage) {
		d.stats.Truncated++
		d.stats.Limits.Message++
		return nil, false
	}
	if err != nil && err != io.ErrUnexpectedEOF || n == 0 {
		d.stats.Malformed++
		return nil, false
	}
	return st.out.Bytes(), true
}

// drainHEPStream frames HEP3 records on a TCP stream by their length
// field and decodes each as if it came in a datagram.
func (d *Decoder) drainHEPStream(s *tcpStream, p *pkt) bool {
	for {
		b := s.data()
		if len(b) < 6 {
			return false
		}
		if string(b[:4]) != "HEP3" {
			d.stats.Malformed++
			s.mode = modeIgnore
			return true
		}
		n := int(binary.BigEndian.Uint16(b[4:6]))
		if n < 6 {
			d.stats.Malformed++
			s.mode = modeIgnore
			return true
		}
		if len(b) < n {
			return false
		}
		from := s.bufOff()
		frames, at := d.framesFor(s, from, from+int64(n))
		q := *p
		q.frames = frames
		if !at.IsZero() {
			q.time = at
		}
		d.onHEP(&q, s.key.src.Port(), s.key.dst.Port(), b[:n])
		s.consume(n)
	}
}
