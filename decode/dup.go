package decode

import (
	"hash/maphash"
	"net/netip"
	"time"
)

// A duplicate frame is one IP datagram captured twice: a capture taken on
// two interfaces, a mirror port that copies both directions of a trunk, a
// SPAN session on two VLANs. It is not a retransmission (RFC 3261 §17.1.1.2
// resends are new datagrams, with a new IPv4 Identification, at least T1 =
// 500 ms later): it carries the same addresses, the same IPv4 ID (RFC 791
// §3.2) or IPv6 flow label (RFC 6437), and the same UDP payload, and it
// follows the first copy within a few milliseconds.
//
// The decoder remembers the last dupSlots SIP datagrams in a fixed ring
// (no allocation per packet, bounded memory) and checks each new SIP
// datagram against those seen within Options.DupWindow.

// dupSlots is how many recent SIP datagrams are remembered: more than a
// busy proxy sends within the default window.
const dupSlots = 64

// dupEntry is what identifies one remembered datagram, with its payload's
// hash (dupState.hash).
type dupEntry struct {
	at       int64 // capture time, Unix nanoseconds
	n        int
	id       uint32
	source   int
	src, dst netip.AddrPort
}

type dupState struct {
	seed maphash.Seed
	// hash[i] is the payload hash of ring[i]: the scan of every datagram
	// reads these 512 bytes, not the 64 entries of about 100 bytes each,
	// and looks at an entry only when its hash matches (almost never,
	// for a new datagram).
	hash [dupSlots]uint64
	ring [dupSlots]dupEntry
	next int
	// filled is how many slots hold a datagram (dupSlots once the ring
	// went round), and low counts those slots by the low byte of their
	// hash: a datagram whose low byte no slot has (about four in five
	// when every slot is taken) repeats none of them, and is remembered
	// without the scan.
	filled int
	low    [256]uint8
}

// dupKind is the verdict on one datagram.
type dupKind uint8

const (
	dupNone   dupKind = iota
	dupFrame          // a second copy of a datagram in the same input
	dupSource         // the same frame read from another input (same capture time)
)

// checkDup reports whether the SIP datagram payload from src to dst,
// carried with IP identification id, repeats one seen within the window,
// and remembers it otherwise.
func (d *Decoder) checkDup(p *pkt, src, dst netip.AddrPort, payload []byte) dupKind {
	if d.opts.DupWindow < 0 {
		return dupNone
	}
	s := &d.dup
	e := dupEntry{at: p.time.UnixNano(), n: len(payload), id: p.ipid, src: src, dst: dst}
	if p.frame != nil {
		e.source = p.frame.Source
	}
	h := maphash.Bytes(s.seed, payload)
	if s.low[uint8(h)] != 0 {
		if k := s.find(h, &e, int64(d.opts.DupWindow)); k != dupNone {
			return k
		}
	}
	s.remember(h, e)
	return dupNone
}

// find looks for a remembered datagram, within win before it, that the
// datagram e with payload hash h repeats.
func (s *dupState) find(h uint64, e *dupEntry, win int64) dupKind {
	for i := range s.hash {
		if s.hash[i] != h {
			continue
		}
		r := &s.ring[i]
		if r.n != e.n || r.id != e.id || r.src != e.src || r.dst != e.dst {
			continue // an empty slot too: a SIP payload is never empty
		}
		if dt := e.at - r.at; dt < 0 || dt > win {
			continue
		}
		if r.source != e.source && r.at == e.at {
			return dupSource
		}
		return dupFrame
	}
	return dupNone
}

// remember puts e, with payload hash h, in the ring, over the oldest.
func (s *dupState) remember(h uint64, e dupEntry) {
	if s.filled == dupSlots {
		s.low[uint8(s.hash[s.next])]--
	} else {
		s.filled++
	}
	s.low[uint8(h)]++
	s.hash[s.next], s.ring[s.next] = h, e
	s.next = (s.next + 1) % dupSlots
}

// defaultDupWindow is how far apart two copies of one datagram may be:
// well under T1 (RFC 3261 §17.1.1.1, 500 ms), the earliest a resend comes.
const defaultDupWindow = 100 * time.Millisecond
