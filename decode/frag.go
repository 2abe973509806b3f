package decode

import (
	"net/netip"
	"time"
)

// maxFragParts bounds the fragments held for one datagram (a real 64 KiB
// datagram over a 1280-byte MTU needs ~52).
const maxFragParts = 256

// fragKey identifies the datagram a fragment belongs to: RFC 791 §3.2
// (source, destination, protocol, identification) and RFC 8200 §4.5
// (source, destination, identification).
type fragKey struct {
	v6       bool
	src, dst netip.Addr
	id       uint32
	proto    byte
}

// fragBuf holds the fragments of one incomplete datagram. It owns copies of
// the fragment payloads and of the frames that carried them.
type fragBuf struct {
	first  time.Time // capture time of the first fragment to arrive
	total  int       // length of the whole payload; -1 until the last fragment is seen
	parts  []fragPart
	frames []FrameRef
	bytes  int // memory charged against Options.MaxFragBytes
}

type fragPart struct {
	off  int
	data []byte
}

// fragment adds one IP fragment (payload data at byte offset off; more is
// the More Fragments flag) to its datagram. When the datagram is complete
// it returns the reassembled payload and every frame that carried a
// fragment (in arrival order), and ok. Fragments may arrive in any order,
// twice, or overlapping: where fragments overlap, the bytes that arrived
// first are kept (RFC 5722 forbids overlaps in IPv6; we stay lenient
// because the goal is to read what the capture holds).
func (d *Decoder) fragment(p *pkt, key fragKey, off int, more bool, data []byte) (payload []byte, frames []FrameRef, ok bool) {
	s := d.ip
	d.stats.Fragments++
	end := off + len(data)
	if end > 65535 || (len(data) == 0 && more) {
		d.stats.Malformed++
		return nil, nil, false
	}
	fb := s.frags[key]
	if fb == nil {
		fb = &fragBuf{first: p.time, total: -1}
		s.frags[key] = fb
		if s.nextSweep.IsZero() || p.time.Add(s.opts.FragTimeout).Before(s.nextSweep) {
			s.nextSweep = p.time.Add(s.opts.FragTimeout)
		}
	}
	if len(fb.parts) >= maxFragParts || (fb.total >= 0 && (end > fb.total || (!more && end != fb.total))) {
		// Too many pieces, or pieces that contradict the known end:
		// hostile or broken; give up on the datagram.
		d.dropFrag(key, fb)
		d.stats.Malformed++
		return nil, nil, false
	}
	need := len(data)
	for _, fr := range p.frames {
		need += len(fr.Data)
	}
	if need > s.opts.MaxFragBytes {
		d.dropFrag(key, fb)
		return nil, nil, false
	}
	for s.fragBytes+need > s.opts.MaxFragBytes && len(s.frags) > 0 {
		d.evictOldest()
	}
	if s.frags[key] != fb { // evicted to make room: start over
		fb = &fragBuf{first: p.time, total: -1}
		s.frags[key] = fb
	}
	// One allocation holds the payload copy and the frame copies.
	buf := make([]byte, 0, need)
	buf = append(buf, data...)
	fb.parts = append(fb.parts, fragPart{off: off, data: buf[:len(data):len(data)]})
	for _, fr := range p.frames {
		n := len(buf)
		buf = append(buf, fr.Data...)
		fr.Data = buf[n:len(buf):len(buf)]
		fb.frames = append(fb.frames, fr)
	}
	fb.bytes += need
	s.fragBytes += need
	if !more {
		fb.total = end
	}
	if fb.total < 0 || !fb.complete() {
		return nil, nil, false
	}
	out := make([]byte, fb.total)
	// Copy latest first so the earliest arrival wins where pieces overlap.
	for i := len(fb.parts) - 1; i >= 0; i-- {
		pt := fb.parts[i]
		copy(out[pt.off:], pt.data)
	}
	delete(s.frags, key)
	s.fragBytes -= fb.bytes
	return out, fb.frames, true
}

// complete reports whether the parts cover [0, total).
func (fb *fragBuf) complete() bool {
	pos := 0
	for pos < fb.total {
		next := pos
		for _, pt := range fb.parts {
			if pt.off <= pos && pt.off+len(pt.data) > next {
				next = pt.off + len(pt.data)
			}
		}
		if next == pos {
			return false
		}
		pos = next
	}
	return true
}

// dropFrag forgets an incomplete datagram, counting its fragments expired.
func (d *Decoder) dropFrag(key fragKey, fb *fragBuf) {
	s := d.ip
	d.stats.FragmentsExpired += int64(len(fb.parts))
	s.fragBytes -= fb.bytes
	delete(s.frags, key)
}

// evictOldest drops the datagram whose first fragment is oldest, to keep
// within Options.MaxFragBytes.
func (d *Decoder) evictOldest() {
	var (
		ok   bool
		key  fragKey
		old  *fragBuf
		kOld fragKey
	)
	for k, fb := range d.ip.frags {
		if !ok || fb.first.Before(old.first) {
			ok, kOld, old = true, k, fb
		}
	}
	key = kOld
	if ok {
		d.dropFrag(key, old)
	}
}

// expire drops datagrams whose first fragment arrived more than
// Options.FragTimeout of capture time before now (RFC 791 §3.2 reassembly
// timer; RFC 8200 §4.5 suggests 60 s, we default to 30 s).
func (s *ipState) expire(d *Decoder, now time.Time) {
	if len(s.frags) == 0 || now.Before(s.nextSweep) {
		return
	}
	s.nextSweep = time.Time{}
	for k, fb := range s.frags {
		dl := fb.first.Add(s.opts.FragTimeout)
		if now.After(dl) {
			d.dropFrag(k, fb)
			continue
		}
		if s.nextSweep.IsZero() || dl.Before(s.nextSweep) {
			s.nextSweep = dl
		}
	}
}

// flushIP expires every incomplete IP datagram.
func (d *Decoder) flushIP() {
	for k, fb := range d.ip.frags {
		d.dropFrag(k, fb)
	}
	d.ip.nextSweep = time.Time{}
}
