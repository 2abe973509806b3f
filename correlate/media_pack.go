package correlate

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"time"
)

// A MediaView is held per call from its hand-off to the end of its
// streams: on a capture shorter than the correlator's Grace, that is every
// call of the capture at once (issue 12: 620 bytes in six allocations a
// call, a fifth of the live heap of `calls` on 50,000 SIPp calls). Packed
// into bytes it takes about a sixth of that, holds no pointer for the
// collector to follow, and can be written to a scratch file with the rest
// of a held record.

// AppendBinary appends v, packed, to b (encoding.BinaryAppender); a nil
// view packs to one byte. UnmarshalBinary reads it back.
func (v *MediaView) AppendBinary(b []byte) ([]byte, error) {
	if v == nil {
		return append(b, 0), nil
	}
	flags := byte(1)
	if v.answered {
		flags |= 2
	}
	b = append(b, flags)
	b = appendString(b, v.callID)
	for i := range v.parties {
		p := &v.parties[i]
		b = appendString(b, p.dir)
		b = appendBool(b, p.events)
		b = appendInts(b, p.sdps)
		b = binary.AppendUvarint(b, uint64(len(p.audio)))
		for _, a := range p.audio {
			b = appendAddr(b, a.Addr())
			b = binary.AppendUvarint(b, uint64(a.Port()))
		}
		b = binary.AppendUvarint(b, uint64(len(p.rtpmap)))
		for _, e := range p.rtpmap {
			b = binary.AppendVarint(b, int64(e.pt))
			b = appendString(b, e.enc)
		}
		b = binary.AppendUvarint(b, uint64(len(p.firstPTs)))
		for _, s := range p.firstPTs {
			b = appendString(b, s)
		}
	}
	b = appendInts(b, v.infos)
	b = binary.AppendUvarint(b, uint64(len(v.infoDTMF)))
	for _, e := range v.infoDTMF {
		b = appendString(b, e.Digit)
		b = binary.AppendVarint(b, int64(e.Event))
		b = binary.AppendVarint(b, e.Start.UnixNano())
		b = binary.AppendVarint(b, int64(e.Duration))
		b = binary.AppendVarint(b, int64(e.Volume))
		b = appendString(b, e.Source)
	}
	return b, nil
}

// ErrPackedView says bytes are not a view AppendBinary packed.
var ErrPackedView = errors.New("correlate: not a packed media view")

// UnpackMediaView reads a view AppendBinary packed: nil for a nil view.
func UnpackMediaView(b []byte) (*MediaView, error) {
	if len(b) == 1 && b[0] == 0 {
		return nil, nil
	}
	v := new(MediaView)
	if err := v.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return v, nil
}

// UnmarshalBinary sets v to the view packed in b, reusing v's storage; its
// strings alias one copy of b (one allocation), so b may be reused after.
// A packed nil view is an error here (UnpackMediaView returns nil for it).
func (v *MediaView) UnmarshalBinary(b []byte) error {
	r := packReader{b: b, all: string(b)}
	flags := r.byte()
	if flags&1 == 0 {
		return ErrPackedView
	}
	*v = MediaView{
		answered: flags&2 != 0, callID: r.string(),
		parties: v.parties, infos: v.infos[:0], infoDTMF: v.infoDTMF[:0],
	}
	for i := range v.parties {
		p := &v.parties[i]
		*p = party{name: [2]string{"caller", "callee"}[i], sdps: p.sdps[:0], audio: p.audio[:0],
			rtpmap: p.rtpmap[:0], firstPTs: p.firstPTs[:0]}
		p.dir = r.string()
		p.events = r.byte() != 0
		p.sdps = r.ints(p.sdps)
		for n := r.count(); n > 0 && r.err == nil; n-- {
			a := r.addr()
			p.audio = append(p.audio, netip.AddrPortFrom(a, uint16(r.uvarint())))
		}
		for n := r.count(); n > 0 && r.err == nil; n-- {
			pt := int(r.varint())
			p.rtpmap = append(p.rtpmap, ptEncoding{pt, r.string()})
		}
		for n := r.count(); n > 0 && r.err == nil; n-- {
			p.firstPTs = append(p.firstPTs, r.string())
		}
	}
	v.caller, v.callee = &v.parties[0], &v.parties[1]
	v.infos = r.ints(v.infos)
	for n := r.count(); n > 0 && r.err == nil; n-- {
		var e DTMFEvent
		e.Digit = r.string()
		e.Event = int(r.varint())
		e.Start = time.Unix(0, r.varint()).UTC()
		e.Duration = time.Duration(r.varint())
		e.Volume = int(r.varint())
		e.Source = r.string()
		v.infoDTMF = append(v.infoDTMF, e)
	}
	if r.err == nil && len(r.b) > 0 {
		r.err = ErrPackedView
	}
	return r.err
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// appendAddr packs a as its 4 or 16 bytes, or with its zone after them
// (netip.Addr.MarshalBinary) when it has one.
func appendAddr(b []byte, a netip.Addr) []byte {
	if a.Zone() != "" {
		z, _ := a.MarshalBinary()
		return appendString(b, string(z))
	}
	if a.Is4() {
		s := a.As4()
		return append(append(b, 4), s[:]...)
	}
	if !a.IsValid() {
		return append(b, 0)
	}
	s := a.As16()
	return append(append(b, 16), s[:]...)
}

func appendBool(b []byte, t bool) []byte {
	if t {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendInts(b []byte, l []int64) []byte {
	b = binary.AppendUvarint(b, uint64(len(l)))
	for _, x := range l {
		b = binary.AppendVarint(b, x)
	}
	return b
}

// packReader reads what the append functions wrote; the first error
// sticks and every later read returns zero.
type packReader struct {
	b   []byte
	all string // a copy of b, which the strings read alias
	err error
}

// fail sets the error and leaves nothing to read: r.b is cut to no bytes
// at its end, so that offsets into r.all stay right.
func (r *packReader) fail() { r.err, r.b = ErrPackedView, r.b[len(r.b):] }

func (r *packReader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *packReader) uvarint() uint64 {
	x, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return x
}

func (r *packReader) varint() int64 {
	x, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return x
}

// count is a list's length, no more than the bytes left (each element
// takes one at least): bad bytes cannot make a huge allocation.
func (r *packReader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *packReader) string() string {
	n := r.count()
	at := len(r.all) - len(r.b)
	r.b = r.b[n:]
	if n == 0 {
		return ""
	}
	return r.all[at : at+n]
}

func (r *packReader) addr() netip.Addr {
	n := r.count()
	raw := r.b[:n]
	r.b = r.b[n:]
	var a netip.Addr
	switch n {
	case 0:
	case 4, 16:
		a, _ = netip.AddrFromSlice(raw)
	default:
		if a.UnmarshalBinary(raw) != nil {
			r.fail()
		}
	}
	return a
}

func (r *packReader) ints(l []int64) []int64 {
	for n := r.count(); n > 0 && r.err == nil; n-- {
		l = append(l, r.varint())
	}
	return l
}
