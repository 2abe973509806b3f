package decode

import "encoding/binary"

// UDP ports of the tunnels recognised inside UDP.
const (
	portVXLAN = 4789 // RFC 7348 §5
	portGTPU  = 2152 // 3GPP TS 29.281 §4.4.2.3
)

// gre decodes a GRE header: RFC 2784 with the key and sequence fields of
// RFC 2890, the routing field of RFC 1701 and the enhanced (version 1)
// header of PPTP (RFC 2637 §4.1) with its acknowledgment number. ERSPAN
// (draft-foschiano-erspan) rides on GRE protocol types 0x88be and 0x22eb.
func (d *Decoder) gre(p *pkt, b []byte) {
	if !d.enter() {
		return
	}
	if len(b) < 4 {
		d.short(p)
		return
	}
	f0, f1 := b[0], b[1]
	proto := binary.BigEndian.Uint16(b[2:4])
	seq := f0&0x10 != 0
	off := 4
	if f0&0xc0 != 0 { // checksum or routing present: checksum(2) offset(2)
		off += 4
	}
	if f0&0x20 != 0 { // key (RFC 2890 §2.1), or payload length + call id (PPTP)
		off += 4
	}
	if seq {
		off += 4
	}
	if f1&7 == 1 && f1&0x80 != 0 { // PPTP acknowledgment number
		off += 4
	}
	if off > len(b) {
		d.short(p)
		return
	}
	if f0&0x40 != 0 { // RFC 1701 §2.1 routing: SREs up to a NULL SRE
		for {
			if off+4 > len(b) {
				d.short(p)
				return
			}
			af := binary.BigEndian.Uint16(b[off:])
			n := int(b[off+3])
			off += 4 + n
			if af == 0 && n == 0 {
				break
			}
		}
		if off > len(b) {
			d.short(p)
			return
		}
	}
	d.encap.push("gre")
	b = b[off:]
	if len(b) == 0 { // PPTP acknowledgment or GRE keep-alive without payload
		d.stats.NonSIP++
		return
	}
	switch proto {
	case etERSPAN2:
		d.encap.push("erspan")
		if !seq { // type I: no ERSPAN header, Ethernet follows GRE
			d.ether(p, b)
			return
		}
		// Type II: ver(4)=1 vlan(12) cos(3) en(2) t(1) session(10) reserved(12) index(20).
		if len(b) < 8 {
			d.short(p)
			return
		}
		d.ether(p, b[8:])
	case etERSPAN3:
		d.encap.push("erspan")
		// Type III: ver(4)=2 vlan(12) cos(3) bso(2) t(1) session(10)
		// timestamp(32) sgt(16) p(1) ft(5) hwid(6) d(1) gra(2) o(1),
		// then an 8-byte platform subheader when o is set.
		if len(b) < 12 {
			d.short(p)
			return
		}
		ft := (b[10] >> 2) & 0x1f
		n := 12
		if b[11]&1 != 0 {
			n += 8
		}
		if n > len(b) {
			d.short(p)
			return
		}
		if ft == 2 { // frame type IP
			d.rawIP(p, b[n:])
			return
		}
		d.ether(p, b[n:])
	default:
		d.ethertype(p, proto, b)
	}
}

// vxlan decodes a VXLAN header (RFC 7348 §5: flags(8) with I=0x08,
// reserved(24), VNI(24), reserved(8)) and the Ethernet frame inside.
// It reports whether b looked like VXLAN.
func (d *Decoder) vxlan(p *pkt, b []byte) bool {
	if len(b) < 8+14 || b[0]&0x08 == 0 {
		return false
	}
	if !d.enter() {
		return true
	}
	vni := uint64(b[4])<<16 | uint64(b[5])<<8 | uint64(b[6])
	d.pushNum("vxlan:", vni)
	d.ether(p, b[8:])
	return true
}

// gtpu decodes a GTP-U header (3GPP TS 29.281 §5.1) with its optional
// fields and extension headers (§5.2) and the IP datagram of a G-PDU. It
// reports whether b was GTP-U version 1.
func (d *Decoder) gtpu(p *pkt, b []byte) bool {
	if len(b) < 8 || b[0]>>5 != 1 || b[0]&0x10 == 0 {
		return false
	}
	if !d.enter() {
		return true
	}
	if b[1] != 0xff { // echo, error indication, end marker: signalling, not user data
		d.stats.NonSIP++
		return true
	}
	n := int(binary.BigEndian.Uint16(b[2:4])) // length after the mandatory 8 bytes
	if 8+n > len(b) {
		d.short(p)
		return true
	}
	b = b[:8+n]
	off := 8
	if b[0]&0x07 != 0 { // E, S or PN: sequence(16) N-PDU(8) next extension type(8)
		if len(b) < 12 {
			d.stats.Malformed++
			return true
		}
		next := b[11]
		off = 12
		for next != 0 && b[0]&0x04 != 0 {
			if off >= len(b) {
				d.stats.Malformed++
				return true
			}
			l := int(b[off]) * 4 // length in 4-octet units, including length and next-type
			if l == 0 || off+l > len(b) {
				d.stats.Malformed++
				return true
			}
			next = b[off+l-1]
			off += l
		}
	}
	d.encap.push("gtp")
	d.rawIP(p, b[off:])
	return true
}
