package decode

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strconv"
)

// icmp decodes an ICMP (RFC 792) or ICMPv6 (RFC 4443) message. Errors quote
// the start of the datagram that caused them (RFC 792: IP header + 64 bits;
// RFC 1812 §4.3.2.3 and RFC 4443 §2.4(c): as much as fits). When the quoted
// datagram is UDP carrying SIP, the error is reported as an Event, not a
// message: it explains why a request got no answer.
func (d *Decoder) icmp(p *pkt, b []byte, v6 bool) {
	if len(b) < 8 {
		d.short(p)
		return
	}
	typ, code := b[0], b[1]
	detail := icmpDetail(typ, code, v6)
	if detail == "" { // echo, neighbour discovery, ...: not an error
		d.stats.NonSIP++
		return
	}
	q := b[8:]
	var src, dst netip.Addr
	var proto byte
	switch {
	case !v6 && len(q) >= 20 && q[0]>>4 == 4:
		hl := int(q[0]&0x0f) * 4
		if hl < 20 || hl > len(q) {
			d.stats.Malformed++
			return
		}
		proto = q[9]
		src = netip.AddrFrom4([4]byte(q[12:16]))
		dst = netip.AddrFrom4([4]byte(q[16:20]))
		if binary.BigEndian.Uint16(q[6:8])&0x1fff != 0 { // not the first fragment: no UDP header
			d.stats.NonSIP++
			return
		}
		q = q[hl:]
	case v6 && len(q) >= 40 && q[0]>>4 == 6:
		proto = q[6]
		src = netip.AddrFrom16([16]byte(q[8:24]))
		dst = netip.AddrFrom16([16]byte(q[24:40]))
		q = q[40:]
	default:
		d.stats.NonSIP++
		return
	}
	if proto != protoUDP || len(q) < 8 {
		d.stats.NonSIP++
		return
	}
	sport := binary.BigEndian.Uint16(q[0:2])
	dport := binary.BigEndian.Uint16(q[2:4])
	sip := skipPad(q[8:])
	if !isSIPStart(sip) {
		d.stats.NonSIP++
		return
	}
	e := Event{
		Time:   p.time,
		Kind:   "icmp",
		Detail: detail,
		From:   p.src,
		Src:    netip.AddrPortFrom(src, sport),
		Dst:    netip.AddrPortFrom(dst, dport),
	}
	if p.frame != nil {
		e.File = p.frame.File
		e.Frame = p.frame.Number
	}
	quotedSIP(sip, &e)
	d.stats.ICMPEvents++
	d.h.Event(&e)
}

// quotedSIP reads what it can of a SIP message cut short by an ICMP quote:
// the request method, Call-ID (or compact "i") and CSeq. Parse is too
// strict for a message without its end, so this scans lines leniently.
func quotedSIP(b []byte, e *Event) {
	line, rest := cutLine(b)
	if !bytes.HasPrefix(line, []byte("SIP/")) {
		if i := bytes.IndexByte(line, ' '); i > 0 {
			e.Method = string(line[:i])
		}
	}
	for len(rest) > 0 {
		line, rest = cutLine(rest)
		if len(line) == 0 {
			break // end of headers
		}
		i := bytes.IndexByte(line, ':')
		if i <= 0 {
			continue
		}
		name := bytes.TrimRight(line[:i], " \t")
		val := bytes.TrimSpace(line[i+1:])
		switch {
		case bytes.EqualFold(name, []byte("Call-ID")) || bytes.EqualFold(name, []byte("i")):
			e.CallID = string(val) // possibly cut short: still better than none
		case bytes.EqualFold(name, []byte("CSeq")):
			num, meth, _ := bytes.Cut(val, []byte(" "))
			if n, err := strconv.ParseUint(string(num), 10, 32); err == nil {
				e.CSeq = uint32(n)
			}
			e.CSeqMethod = string(bytes.TrimSpace(meth))
		}
	}
}

// cutLine splits b at the first LF, dropping the line's CR.
func cutLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return bytes.TrimRight(b, "\r"), nil
	}
	return bytes.TrimRight(b[:i], "\r"), b[i+1:]
}

// icmpDetail names an ICMP error (RFC 792, RFC 4443 §3), or returns "" for
// messages that are not errors.
func icmpDetail(typ, code byte, v6 bool) string {
	if v6 {
		switch typ {
		case 1:
			return "destination unreachable: " + pick(code, []string{
				"no route to destination", "administratively prohibited", "beyond scope of source address",
				"address unreachable", "port unreachable", "source address failed ingress/egress policy",
				"reject route to destination"})
		case 2:
			return "packet too big"
		case 3:
			return "time exceeded: " + pick(code, []string{"hop limit exceeded in transit", "fragment reassembly time exceeded"})
		case 4:
			return "parameter problem"
		}
		return ""
	}
	switch typ {
	case 3:
		return "destination unreachable: " + pick(code, []string{
			"net unreachable", "host unreachable", "protocol unreachable", "port unreachable",
			"fragmentation needed", "source route failed", "destination network unknown",
			"destination host unknown", "source host isolated", "network administratively prohibited",
			"host administratively prohibited", "network unreachable for TOS", "host unreachable for TOS",
			"communication administratively prohibited", "host precedence violation", "precedence cutoff in effect"})
	case 4:
		return "source quench"
	case 5:
		return "redirect"
	case 11:
		return "time exceeded: " + pick(code, []string{"TTL exceeded in transit", "fragment reassembly time exceeded"})
	case 12:
		return "parameter problem"
	}
	return ""
}

func pick(code byte, names []string) string {
	if int(code) < len(names) {
		return names[code]
	}
	return "code " + strconv.Itoa(int(code))
}
