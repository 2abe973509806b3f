package decode

import (
	"encoding/binary"
	"strconv"

	"github.com/sipscope/sipscope/capture"
)

// maxDepth bounds how many link layers and tunnels one frame may nest, so
// that hostile input (an MPLS pseudowire carrying Ethernet carrying MPLS...)
// cannot exhaust the stack.
const maxDepth = 16

// Ethertypes (IEEE 802 numbers) the link decoder follows.
const (
	etIPv4     = 0x0800
	etARP      = 0x0806
	etTEB      = 0x6558 // transparent Ethernet bridging (RFC 1701 GRE)
	etVLAN     = 0x8100 // IEEE 802.1Q customer tag
	etPPP      = 0x880b // PPP in GRE (RFC 2637 PPTP)
	etERSPAN2  = 0x88be // ERSPAN type I and II
	etERSPAN3  = 0x22eb // ERSPAN type III
	etQinQ     = 0x88a8 // IEEE 802.1ad service tag
	etQinQOld  = 0x9100 // pre-standard QinQ service tag
	etIPv6     = 0x86dd
	etPPPoE    = 0x8864 // PPPoE session stage (RFC 2516 §5)
	etMPLS     = 0x8847
	etMPLSMult = 0x8848
)

// link decodes the link layer of f and everything inside it. It resets the
// per-frame state (encapsulation path, packet) and dispatches on f.Link.
func (d *Decoder) link(f *capture.Frame) {
	s := d.ip
	d.encap.reset()
	s.depth = 0
	s.cut = false
	s.expire(d, f.Time)

	// The one-element frame list of an unfragmented datagram aliases f.Data
	// and is reused for every frame (no allocation).
	s.one[0] = FrameRef{Source: f.Source, File: f.File, Number: f.Number, Time: f.Time,
		Link: uint16(f.Link), OrigLen: f.OrigLen, Data: f.Data}
	p := &s.p
	*p = pkt{frame: f, time: f.Time, frames: s.one[:1]}

	b := f.Data
	switch f.Link {
	case capture.LinkEthernet:
		d.ether(p, b)
	case capture.LinkLinuxSLL:
		// Linux cooked v1: type(2) ARPHRD(2) addrlen(2) addr(8) protocol(2).
		if len(b) < 16 {
			d.short(p)
			return
		}
		d.encap.push("sll")
		d.sllProto(p, binary.BigEndian.Uint16(b[2:4]), binary.BigEndian.Uint16(b[14:16]), b[16:])
	case capture.LinkLinuxSLL2:
		// Linux cooked v2: protocol(2) reserved(2) ifindex(4) ARPHRD(2)
		// type(1) addrlen(1) addr(8).
		if len(b) < 20 {
			d.short(p)
			return
		}
		d.encap.push("sll2")
		d.sllProto(p, binary.BigEndian.Uint16(b[8:10]), binary.BigEndian.Uint16(b[0:2]), b[20:])
	case capture.LinkRaw:
		d.rawIP(p, b)
	case capture.LinkIPv4:
		d.ipv4(p, b)
	case capture.LinkIPv6:
		d.ipv6(p, b)
	case capture.LinkNull, capture.LinkLoop:
		if len(b) < 4 {
			d.short(p)
			return
		}
		var af uint32
		if f.Link == capture.LinkLoop {
			d.encap.push("loop")
			af = binary.BigEndian.Uint32(b)
		} else {
			d.encap.push("null")
			// Host byte order of the capturing machine: whichever order
			// gives a small number is the right one.
			af = binary.LittleEndian.Uint32(b)
			if af > 0xffff {
				af = binary.BigEndian.Uint32(b)
			}
		}
		switch af {
		case 2: // AF_INET everywhere
			d.ipv4(p, b[4:])
		case 10, 24, 28, 30: // AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, Darwin
			d.ipv6(p, b[4:])
		default:
			d.stats.NonIP++
		}
	case capture.LinkPPP:
		d.pppFrame(p, b)
	case capture.LinkTypeHEP:
		// A HEP listener's packet: no link, IP or UDP header of its own;
		// addresses, time and node come from the HEP header.
		if !d.onHEP(p, 0, 0, b) {
			d.stats.Malformed++
		}
	default:
		d.stats.UnsupportedLink++
	}
}

// short counts a frame whose link header is cut: truncated when the capture
// snap length cut it, malformed otherwise.
func (d *Decoder) short(p *pkt) {
	if p.frame != nil && len(p.frame.Data) < p.frame.OrigLen {
		d.stats.Truncated++
		return
	}
	d.stats.Malformed++
}

// cut counts a frame shorter on capture than on the wire (snap length)
// once; the layers still read the bytes that are there.
func (d *Decoder) cut(p *pkt) {
	if p.frame != nil && len(p.frame.Data) < p.frame.OrigLen && !d.ip.cut {
		d.ip.cut = true
		d.stats.Truncated++
	}
}

// enter counts one more level of nesting and reports whether it is allowed.
func (d *Decoder) enter() bool {
	d.ip.depth++
	if d.ip.depth > maxDepth {
		d.stats.Malformed++
		return false
	}
	return true
}

// sllProto dispatches the protocol field of a Linux cooked header.
func (d *Decoder) sllProto(p *pkt, arphrd, proto uint16, b []byte) {
	switch arphrd {
	case 778: // ARPHRD_IPGRE: the protocol field is a GRE protocol type
		d.ethertype(p, proto, b)
		return
	case 824: // ARPHRD_NETLINK
		d.stats.NonIP++
		return
	}
	switch proto {
	case 0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x0010: // 802.3, AX.25, all, 802.2, ...
		d.stats.NonIP++
		return
	}
	d.ethertype(p, proto, b)
}

// rawIP decodes a datagram whose version is given by its first nibble.
func (d *Decoder) rawIP(p *pkt, b []byte) {
	if len(b) == 0 {
		d.short(p)
		return
	}
	switch b[0] >> 4 {
	case 4:
		d.ipv4(p, b)
	case 6:
		d.ipv6(p, b)
	default:
		d.stats.NonIP++
	}
}

// ether decodes an Ethernet II header (an 802.3 length field instead of an
// ethertype means LLC, which carries no IP we decode).
func (d *Decoder) ether(p *pkt, b []byte) {
	if !d.enter() {
		return
	}
	if len(b) < 14 {
		d.short(p)
		return
	}
	d.encap.push("eth")
	et := binary.BigEndian.Uint16(b[12:14])
	if et < 0x0600 {
		d.stats.NonIP++
		return
	}
	d.ethertype(p, et, b[14:])
}

// ethertype dispatches b, the payload of a layer that named its content
// by an ethertype (Ethernet, VLAN tags, SLL, GRE).
func (d *Decoder) ethertype(p *pkt, et uint16, b []byte) {
	if !d.enter() {
		return
	}
	switch et {
	case etIPv4:
		d.ipv4(p, b)
	case etIPv6:
		d.ipv6(p, b)
	case etVLAN, etQinQ, etQinQOld:
		// IEEE 802.1Q: TCI(2) with the 12-bit VLAN id, then the inner type.
		if len(b) < 4 {
			d.short(p)
			return
		}
		id := binary.BigEndian.Uint16(b[0:2]) & 0x0fff
		name := "vlan:"
		if et != etVLAN {
			name = "qinq:"
		}
		d.pushNum(name, uint64(id))
		d.ethertype(p, binary.BigEndian.Uint16(b[2:4]), b[4:])
	case etPPPoE:
		// RFC 2516 §4: ver/type(1) code(1) session(2) length(2), then PPP.
		if len(b) < 6 {
			d.short(p)
			return
		}
		n := int(binary.BigEndian.Uint16(b[4:6]))
		b = b[6:]
		if n < len(b) {
			b = b[:n]
		}
		d.encap.push("pppoe")
		d.ppp(p, b)
	case etPPP:
		d.pppFrame(p, b)
	case etMPLS, etMPLSMult:
		d.mpls(p, b)
	case etTEB:
		d.ether(p, b)
	case etARP:
		d.stats.NonIP++
	default:
		d.stats.NonIP++
	}
}

// knownEthertype reports whether et is one the link decoder follows.
func knownEthertype(et uint16) bool {
	switch et {
	case etIPv4, etIPv6, etVLAN, etQinQ, etQinQOld, etPPPoE, etMPLS, etMPLSMult, etARP:
		return true
	}
	return false
}

// pushNum pushes name followed by the decimal n without allocating.
func (d *Decoder) pushNum(name string, n uint64) {
	d.encap.push(name)
	d.encap.b = strconv.AppendUint(d.encap.b, n, 10)
}

// pppFrame decodes PPP with optional HDLC-like framing (RFC 1662 §3.1:
// address 0xff, control 0x03), as in LINKTYPE_PPP and PPTP GRE.
func (d *Decoder) pppFrame(p *pkt, b []byte) {
	if len(b) >= 2 && b[0] == 0xff && b[1] == 0x03 {
		b = b[2:]
	}
	d.ppp(p, b)
}

// ppp decodes a PPP protocol field (RFC 1661 §2; one byte when protocol
// field compression made it odd) and its payload.
func (d *Decoder) ppp(p *pkt, b []byte) {
	if len(b) < 1 {
		d.short(p)
		return
	}
	var proto uint16
	if b[0]&1 == 1 { // compressed protocol field
		proto, b = uint16(b[0]), b[1:]
	} else {
		if len(b) < 2 {
			d.short(p)
			return
		}
		proto, b = binary.BigEndian.Uint16(b[0:2]), b[2:]
	}
	d.encap.push("ppp")
	switch proto {
	case 0x0021: // IPv4
		d.ipv4(p, b)
	case 0x0057: // IPv6
		d.ipv6(p, b)
	case 0x0281, 0x0283: // MPLS unicast, multicast
		d.mpls(p, b)
	default: // LCP, IPCP, CHAP, ...
		d.stats.NonIP++
	}
}

// mpls walks an MPLS label stack (RFC 3032 §2.1: label(20) TC(3) S(1)
// TTL(8)) and guesses the payload after the bottom of the stack from its
// first nibble: 4 IPv4, 6 IPv6, 0 a pseudowire control word (RFC 4385)
// before Ethernet (unless the bytes read better as Ethernet without one),
// anything else Ethernet without a control word.
func (d *Decoder) mpls(p *pkt, b []byte) {
	for {
		if len(b) < 4 {
			d.short(p)
			return
		}
		e := binary.BigEndian.Uint32(b)
		b = b[4:]
		d.pushNum("mpls:", uint64(e>>12))
		if e&0x100 != 0 {
			break
		}
		if !d.enter() {
			return
		}
	}
	if len(b) == 0 {
		d.short(p)
		return
	}
	switch b[0] >> 4 {
	case 4:
		d.ipv4(p, b)
	case 6:
		d.ipv6(p, b)
	case 0:
		// A control word, or an Ethernet destination MAC starting with
		// a 0 nibble: take the reading whose ethertype we know.
		if len(b) >= 14 && knownEthertype(binary.BigEndian.Uint16(b[12:14])) &&
			(len(b) < 18 || !knownEthertype(binary.BigEndian.Uint16(b[16:18]))) {
			d.ether(p, b)
			return
		}
		if len(b) < 4 {
			d.short(p)
			return
		}
		d.ether(p, b[4:])
	default:
		d.ether(p, b)
	}
}
