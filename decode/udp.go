package decode

import "net/netip"

// onUDP handles one UDP payload: HEP, SIP on any port (several messages per
// datagram), keep-alives, VXLAN and GTP-U tunnels, and counts the rest.
func (d *Decoder) onUDP(p *pkt, sport, dport uint16, payload []byte) {
	if d.onHEP(p, sport, dport, payload) {
		return
	}
	rest := skipPad(payload)
	if len(rest) == 0 {
		// RFC 5626 §4.4.1 CRLF keep-alives, and empty or all-zero
		// pings that some phones send: not SIP, but not broken either.
		d.stats.NonSIP++
		return
	}
	if !isSIPStart(rest) {
		switch {
		case (sport == portVXLAN || dport == portVXLAN) && d.vxlan(p, payload):
		case (sport == portGTPU || dport == portGTPU) && d.gtpu(p, payload):
		case isTLSRecord(payload) && (sport == 5061 || dport == 5061):
			d.stats.Encrypted++ // DTLS (RFC 7252-style SIP over DTLS); no keys
		default:
			d.stats.NonSIP++
			if d.dg != nil && LooksRTP(payload) {
				d.datagram(p, sport, dport, payload)
			}
		}
		return
	}
	src := netip.AddrPortFrom(p.src, sport)
	dst := netip.AddrPortFrom(p.dst, dport)
	switch d.checkDup(p, src, dst, payload) {
	case dupSource:
		d.stats.Overlaps++
		return
	case dupFrame:
		d.stats.Duplicates++
		p.dup = true
	}
	for len(rest) > 0 {
		// One pass per message: parseNext reads the message at the start
		// of rest and says where the next one starts, so the bytes are
		// not framed first and parsed again.
		n, err := parseNext(rest, &d.msg)
		d.countLimits()
		if err != nil {
			d.stats.Malformed++
			n = udpFrameLen(rest)
		} else {
			d.deliver(p, UDP, src, dst, p.frames, p.time, nil)
		}
		rest = skipPad(rest[n:])
	}
}

// udpFrameLen returns how many bytes of rest, which starts with a start
// line, belong to its first message: the framing of a message Parse
// rejected, so that the messages after it in the datagram are still read.
func udpFrameLen(rest []byte) int {
	n, err := frameLen(rest, false, maxLine) // a datagram: the bound is not used
	if err != nil || n <= 0 || n > len(rest) {
		// Content-Length beyond the datagram, or no end of headers:
		// RFC 3261 §18.3 says discard, we keep what there is.
		return len(rest)
	}
	if next := skipPad(rest[n:]); len(next) > 0 && !isSIPStart(next) {
		// Junk after a message (a Content-Length shorter than the
		// body): it belongs to this message, not to a new one.
		return len(rest)
	}
	return n
}

// skipKeepAlive skips CR, LF and NUL bytes: CRLF keep-alives (RFC 5626
// §3.5.1) between or around messages and zero-filled pings.
func skipPad(b []byte) []byte {
	for len(b) > 0 && (b[0] == '\r' || b[0] == '\n' || b[0] == 0) {
		b = b[1:]
	}
	return b
}

// isTLSRecord reports whether b starts like a TLS or DTLS record header
// (content type 20-23, major version 3 for TLS, 0xfe for DTLS).
func isTLSRecord(b []byte) bool {
	return len(b) >= 5 && b[0] >= 0x14 && b[0] <= 0x17 && (b[1] == 3 || b[1] == 0xfe)
}

// datagram hands a candidate RTP or RTCP payload to the DatagramHandler.
func (d *Decoder) datagram(p *pkt, sport, dport uint16, payload []byte) {
	d.dgram = Datagram{
		Time: p.time, Src: netip.AddrPortFrom(p.src, sport), Dst: netip.AddrPortFrom(p.dst, dport),
		Payload: payload, Frames: p.frames,
	}
	d.dg.Datagram(&d.dgram)
	d.dgram = Datagram{}
}
