package decode

import (
	"net/netip"
	"time"
	"unsafe"
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

// fragAge is one entry of the queue of datagrams in order of their first
// fragment's arrival, so that the oldest is found in O(1) when a limit
// bites. An entry whose fb is no longer the map's value for key is stale
// (the datagram completed or was dropped) and is skipped.
type fragAge struct {
	key fragKey
	fb  *fragBuf
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
		fb = d.newFrag(p, key)
	}
	if len(fb.parts) >= maxFragParts || (fb.total >= 0 && (end > fb.total || (!more && end != fb.total))) {
		// Too many pieces, or pieces that contradict the known end:
		// hostile or broken; give up on the datagram.
		d.dropFrag(key, fb)
		d.stats.Malformed++
		return nil, nil, false
	}
	// The payload is normally a window on the frame that carried it: keep
	// one copy of the frame and point the part into it, so a fragment
	// costs its frame once (a flood of first fragments is all frames).
	need, within := 0, -1
	for i, fr := range p.frames {
		need += len(fr.Data)
		if within < 0 && inside(data, fr.Data) {
			within = i
		}
	}
	if within < 0 {
		need += len(data)
	}
	if need > s.opts.MaxFragBytes {
		d.dropFrag(key, fb)
		d.stats.Limits.FragBytes++
		return nil, nil, false
	}
	for s.fragBytes+need > s.opts.MaxFragBytes && len(s.frags) > 0 {
		d.stats.Limits.FragBytes++
		d.evictOldest()
	}
	if s.frags[key] != fb { // evicted to make room: start over
		fb = d.newFrag(p, key)
	}
	// One allocation holds the frame copies (and the payload, when it is
	// not inside one of them).
	buf := make([]byte, 0, need)
	var part []byte
	for i, fr := range p.frames {
		n := len(buf)
		buf = append(buf, fr.Data...)
		if i == within {
			at := int(uintptr(unsafe.Pointer(unsafe.SliceData(data))) - uintptr(unsafe.Pointer(unsafe.SliceData(fr.Data))))
			part = buf[n+at : n+at+len(data) : n+at+len(data)]
		}
		fr.Data = buf[n:len(buf):len(buf)]
		fb.frames = append(fb.frames, fr)
	}
	if within < 0 {
		n := len(buf)
		buf = append(buf, data...)
		part = buf[n:len(buf):len(buf)]
	}
	fb.parts = append(fb.parts, fragPart{off: off, data: part})
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

// newFrag starts holding a datagram, dropping the oldest one held when
// Options.MaxFragDatagrams are held already.
func (d *Decoder) newFrag(p *pkt, key fragKey) *fragBuf {
	s := d.ip
	for len(s.frags) >= s.opts.MaxFragDatagrams {
		d.stats.Limits.FragDatagrams++
		d.evictOldest()
	}
	fb := &fragBuf{first: p.time, total: -1}
	s.frags[key] = fb
	s.ages = append(s.ages, fragAge{key: key, fb: fb})
	if s.nextSweep.IsZero() || p.time.Add(s.opts.FragTimeout).Before(s.nextSweep) {
		s.nextSweep = p.time.Add(s.opts.FragTimeout)
	}
	return fb
}

// inside reports whether b is a window on the bytes of within.
func inside(b, within []byte) bool {
	if len(b) == 0 || len(within) == 0 {
		return false
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	w := uintptr(unsafe.Pointer(unsafe.SliceData(within)))
	return p >= w && p+uintptr(len(b)) <= w+uintptr(len(within))
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

// evictOldest drops the datagram whose first fragment arrived first (the
// queue is in arrival order, which is capture order), to keep within
// Options.MaxFragBytes and MaxFragDatagrams. Stale queue entries are
// skipped, and the queue's storage is reused once it is half stale.
func (d *Decoder) evictOldest() {
	s := d.ip
	for s.agesHead < len(s.ages) {
		a := s.ages[s.agesHead]
		s.ages[s.agesHead] = fragAge{}
		s.agesHead++
		if s.frags[a.key] == a.fb {
			d.dropFrag(a.key, a.fb)
			break
		}
	}
	s.compactAges()
}

// compactAges forgets the consumed head of the age queue and, when most of
// the queue is stale, the stale entries, so that it stays O(datagrams held).
func (s *ipState) compactAges() {
	if s.agesHead > 0 && s.agesHead >= len(s.ages)/2 {
		n := copy(s.ages, s.ages[s.agesHead:])
		clear(s.ages[n:])
		s.ages, s.agesHead = s.ages[:n], 0
	}
	if len(s.ages) > 64 && len(s.ages) > 4*len(s.frags) {
		live := s.ages[:0]
		for _, a := range s.ages {
			if s.frags[a.key] == a.fb {
				live = append(live, a)
			}
		}
		clear(s.ages[len(live):])
		s.ages = live
	}
}

// expire drops datagrams whose first fragment arrived more than
// Options.FragTimeout of capture time before now (RFC 791 §3.2 reassembly
// timer; RFC 8200 §4.5 suggests 60 s, we default to 30 s).
func (s *ipState) expire(d *Decoder, now time.Time) {
	if len(s.frags) == 0 || now.Before(s.nextSweep) {
		return
	}
	// The queue is in arrival order, that is in capture time (merged
	// inputs are read in time order): pop from its head while the head is
	// due, so a sustained flood costs O(1) per fragment, not a scan.
	s.nextSweep = time.Time{}
	for s.agesHead < len(s.ages) {
		a := s.ages[s.agesHead]
		if s.frags[a.key] != a.fb {
			s.ages[s.agesHead] = fragAge{}
			s.agesHead++
			continue
		}
		dl := a.fb.first.Add(s.opts.FragTimeout)
		if !now.After(dl) {
			s.nextSweep = dl
			break
		}
		s.ages[s.agesHead] = fragAge{}
		s.agesHead++
		d.stats.Limits.FragAge++
		d.dropFrag(a.key, a.fb)
	}
	s.compactAges()
}

// flushIP expires every incomplete IP datagram.
func (d *Decoder) flushIP() {
	for k, fb := range d.ip.frags {
		d.dropFrag(k, fb)
	}
	clear(d.ip.ages)
	d.ip.ages, d.ip.agesHead = d.ip.ages[:0], 0
	d.ip.nextSweep = time.Time{}
}
