package decode

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// IP protocol numbers (IANA).
const (
	protoICMP   = 1
	protoIPIP   = 4
	protoTCP    = 6
	protoUDP    = 17
	protoIPv6   = 41
	protoGRE    = 47
	protoICMPv6 = 58
	protoSCTP   = 132
)

// ipState is the packet layers' state: the reusable per-frame packet and
// frame list, and the IP fragment reassembler.
//
// Reassembly is our own rather than gopacket's ip4defrag/ip6defrag: those
// take and return *layers.IPv4/IPv6 values (a gopacket decode and
// allocations per fragment), return only the rebuilt datagram without the
// list of fragments that made it, which every message must carry
// (Message.Frames with each fragment's bytes), and bound neither total
// memory nor time by capture clock the way Options asks.
type ipState struct {
	opts  Options
	p     pkt
	one   [1]FrameRef
	depth int
	cut   bool // the frame was counted as truncated

	frags     map[fragKey]*fragBuf
	fragBytes int       // bytes held by all fragBufs
	ages      []fragAge // datagrams in order of arrival (frag.go), from agesHead
	agesHead  int
	nextSweep time.Time // earliest time a held datagram can expire
}

func newIPState(o Options) *ipState {
	return &ipState{opts: o, frags: make(map[fragKey]*fragBuf)}
}

// ipv4 decodes an IPv4 header (RFC 791 §3.1) and what it carries.
func (d *Decoder) ipv4(p *pkt, b []byte) {
	if !d.enter() {
		return
	}
	if len(b) < 20 {
		d.short(p)
		return
	}
	if b[0]>>4 != 4 {
		d.stats.Malformed++
		return
	}
	hl := int(b[0]&0x0f) * 4
	tl := int(binary.BigEndian.Uint16(b[2:4]))
	if tl == 0 && len(b) >= hl {
		tl = len(b) // TCP segmentation offload leaves total length 0
	}
	if hl < 20 || tl < hl {
		d.stats.Malformed++
		return
	}
	if tl > len(b) {
		if hl > len(b) {
			d.short(p)
			return
		}
		// Cut by the snap length (counted), or a total length larger
		// than the frame: read what is there, as Wireshark does.
		d.cut(p)
		tl = len(b)
	}
	b = b[:tl] // drop Ethernet padding
	d.encap.push("ipv4")
	p.src = netip.AddrFrom4([4]byte(b[12:16]))
	p.dst = netip.AddrFrom4([4]byte(b[16:20]))
	proto := b[9]
	p.ipid = uint32(binary.BigEndian.Uint16(b[4:6]))
	ff := binary.BigEndian.Uint16(b[6:8])
	more := ff&0x2000 != 0
	off := int(ff&0x1fff) * 8
	if more || off != 0 {
		key := fragKey{src: p.src, dst: p.dst, id: uint32(binary.BigEndian.Uint16(b[4:6])), proto: proto}
		data, frames, ok := d.fragment(p, key, off, more, b[hl:])
		if !ok {
			return
		}
		p.frames = frames
		d.ipPayload(p, proto, data)
		return
	}
	d.ipPayload(p, proto, b[hl:])
}

// ipv6 decodes an IPv6 header (RFC 8200 §3), its extension headers and
// what it carries.
func (d *Decoder) ipv6(p *pkt, b []byte) {
	if !d.enter() {
		return
	}
	if len(b) < 40 {
		d.short(p)
		return
	}
	if b[0]>>4 != 6 {
		d.stats.Malformed++
		return
	}
	pl := int(binary.BigEndian.Uint16(b[4:6]))
	if pl == 0 && len(b) > 40 {
		pl = len(b) - 40 // jumbogram or offload: trust the capture
	}
	if 40+pl > len(b) {
		d.cut(p)
		pl = len(b) - 40
	}
	d.encap.push("ipv6")
	p.src = netip.AddrFrom16([16]byte(b[8:24]))
	p.dst = netip.AddrFrom16([16]byte(b[24:40]))
	p.ipid = binary.BigEndian.Uint32(b[0:4]) & 0xfffff // flow label (RFC 8200 §6)
	d.ipv6Next(p, b[6], b[40:40+pl], false)
}

// ipv6Next walks IPv6 extension headers starting at next header nh
// (RFC 8200 §4) and dispatches the upper-layer payload. reassembled says b
// is already a reassembled fragmentable part.
func (d *Decoder) ipv6Next(p *pkt, nh byte, b []byte, reassembled bool) {
	for {
		switch nh {
		case 0, 43, 60, 135, 139, 140: // hop-by-hop, routing, destination, mobility, HIP, shim6
			if len(b) < 8 {
				d.short(p)
				return
			}
			n := (int(b[1]) + 1) * 8
			if n > len(b) {
				d.short(p)
				return
			}
			nh, b = b[0], b[n:]
		case 51: // AH (RFC 4302 §2.2): length in 4-octet units minus 2
			if len(b) < 8 {
				d.short(p)
				return
			}
			n := (int(b[1]) + 2) * 4
			if n > len(b) {
				d.short(p)
				return
			}
			nh, b = b[0], b[n:]
		case 44: // fragment (RFC 8200 §4.5)
			if len(b) < 8 || reassembled {
				d.stats.Malformed++
				return
			}
			ff := binary.BigEndian.Uint16(b[2:4])
			key := fragKey{v6: true, src: p.src, dst: p.dst, id: binary.BigEndian.Uint32(b[4:8]), proto: b[0]}
			off := int(ff>>3) * 8
			more := ff&1 != 0
			if !more && off == 0 { // atomic fragment (RFC 6946)
				nh, b = b[0], b[8:]
				continue
			}
			data, frames, ok := d.fragment(p, key, off, more, b[8:])
			if !ok {
				return
			}
			p.frames = frames
			d.ipv6Next(p, key.proto, data, true)
			return
		case 59: // no next header
			d.stats.NonSIP++
			return
		default:
			d.ipPayload(p, nh, b)
			return
		}
	}
}

// ipPayload dispatches the payload of an IP datagram by protocol number.
func (d *Decoder) ipPayload(p *pkt, proto byte, b []byte) {
	switch proto {
	case protoUDP:
		d.udp(p, b)
	case protoTCP:
		d.encap.push("tcp")
		d.onTCP(p, b)
	case protoSCTP:
		d.encap.push("sctp")
		d.onSCTP(p, b)
	case protoIPIP:
		d.ipv4(p, b)
	case protoIPv6:
		d.ipv6(p, b)
	case protoGRE:
		d.gre(p, b)
	case protoICMP:
		d.icmp(p, b, false)
	case protoICMPv6:
		d.icmp(p, b, true)
	default:
		d.stats.NonSIP++
	}
}

// udp decodes a UDP header (RFC 768) and hands the payload to onUDP.
// Checksums are not verified: captures taken on the sending host carry
// offloaded, unfilled checksums.
func (d *Decoder) udp(p *pkt, b []byte) {
	if len(b) < 8 {
		d.short(p)
		return
	}
	n := int(binary.BigEndian.Uint16(b[4:6]))
	switch {
	case n == 0 && len(b) > 8: // RFC 2675 jumbogram or offload: the IP length rules
		n = len(b)
	case n < 8:
		d.stats.Malformed++
		return
	case n > len(b): // cut by the snap length (counted by IP) or a bogus length: read what is there
		n = len(b)
	}
	d.encap.push("udp")
	d.onUDP(p, binary.BigEndian.Uint16(b[0:2]), binary.BigEndian.Uint16(b[2:4]), b[8:n])
}
