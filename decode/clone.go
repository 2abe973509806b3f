package decode

import (
	"strings"
	"unsafe"
)

// Clone returns a deep copy of m that owns its memory, for a stage that
// keeps a message after the Handler returns or after the next Parse.
//
// The bytes are copied once: one allocation holds Raw and any header values
// Parse joined from folded lines, and every string and []byte field that
// pointed into them is rebased into the copy; a string that pointed
// elsewhere is copied on its own. Frames are copied with their Data (one
// allocation for all Data); when the message came in one frame whose bytes
// hold Raw, that frame's copy holds Raw too, so the bytes are copied once. Headers, Via, Parts, SDP and Events get slices
// of their own. File and Encap are kept as they are: the decoder's strings
// for them are not reused. Clone of nil is nil.
func (m *Message) Clone() *Message {
	if m == nil {
		return nil
	}
	return m.clone(new(Message), true)
}

// CloneWire returns a copy of m that owns its memory and keeps what a
// record of the message as seen on the wire needs, for a stage that keeps
// many messages and never reads their headers again (sipscope import):
// the time, file, frames, addresses, transport, encapsulation, HEP header,
// events, start line, Call-ID, CSeq, From, To, Contact, User-Agent,
// Reason, Warning, Content-Type, Content-Length, Max-Forwards, Warnings,
// Body and Raw, like Clone. Headers, Via, Parts and SDP are left nil:
// Parse(c.Raw) gives them back. It allocates the bytes (as Clone does) and
// the struct, but no slices for the parsed headers.
//
// When dst is not nil it is overwritten and returned instead of a new
// Message, and its Frames storage is reused: a stage that is done with a
// copy (nothing refers to the struct any more; its bytes may still be in
// use) can recycle it. CloneWire of nil is nil.
func (m *Message) CloneWire(dst *Message) *Message {
	if m == nil {
		return nil
	}
	if dst == nil {
		dst = new(Message)
	}
	return m.clone(dst, false)
}

// clone copies m into c; full says whether Headers, Via, Parts and SDP are
// copied (Clone) or left nil (CloneWire). c's Frames storage is reused.
func (m *Message) clone(c *Message, full bool) *Message {
	frames := c.Frames[:0]
	*c = *m
	c.scratch = nil
	var fold []byte
	if m.scratch != nil {
		fold = m.scratch.fold
	}
	var r rebaser
	// frameData is the copy of the one frame that carried the message when
	// Raw lies inside that frame's bytes (an unfragmented UDP datagram, the
	// common case): then one allocation holds the frame, and Raw and every
	// string are rebased into it, instead of copying the same bytes twice.
	var frameData []byte
	if len(m.Frames) == 1 && len(m.Raw) > 0 {
		d := m.Frames[0].Data
		if off := offset(unsafe.Pointer(unsafe.SliceData(m.Raw)), len(m.Raw), d); off >= 0 {
			buf := make([]byte, len(d)+len(fold))
			copy(buf, d)
			copy(buf[len(d):], fold)
			end := off + len(m.Raw)
			r = rebaser{oldRaw: m.Raw, oldFold: fold, newRaw: buf[off:end:end], newFold: buf[len(d):]}
			frameData = buf[:len(d):len(d)]
		}
	}
	if frameData == nil {
		buf := make([]byte, len(m.Raw)+len(fold))
		copy(buf, m.Raw)
		copy(buf[len(m.Raw):], fold)
		r = rebaser{oldRaw: m.Raw, oldFold: fold, newRaw: buf[:len(m.Raw):len(m.Raw)], newFold: buf[len(m.Raw):]}
	}
	if m.Raw != nil {
		c.Raw = r.newRaw
	}

	c.Method, c.RequestURI, c.Reason, c.Version = r.str(m.Method), r.str(m.RequestURI), r.str(m.Reason), r.str(m.Version)
	c.CallID, c.CSeqMethod = r.str(m.CallID), r.str(m.CSeqMethod)
	c.From, c.To, c.Contact = r.addr(m.From), r.addr(m.To), r.addr(m.Contact)
	c.UserAgent, c.ReasonHeader, c.Warning, c.ContentType = r.str(m.UserAgent), r.str(m.ReasonHeader), r.str(m.Warning), r.str(m.ContentType)
	c.Body = r.bytes(m.Body)
	if full {
		c.Headers = r.headers(m.Headers)
		if m.Via != nil {
			c.Via = make([]Via, len(m.Via))
			for i, v := range m.Via {
				c.Via[i] = Via{Transport: r.str(v.Transport), SentBy: r.str(v.SentBy), Branch: r.str(v.Branch), Received: r.str(v.Received), RPort: r.str(v.RPort)}
			}
		}
		if m.Parts != nil {
			c.Parts = make([]Part, len(m.Parts))
			for i, pt := range m.Parts {
				c.Parts[i] = Part{ContentType: r.str(pt.ContentType), Headers: r.headers(pt.Headers), Body: r.bytes(pt.Body)}
			}
		}
		if m.SDP != nil {
			c.SDP = r.sdp(m.SDP)
		}
	} else {
		c.Headers, c.Via, c.Parts, c.SDP = nil, nil, nil, nil
	}

	if m.Frames != nil {
		c.Frames = append(frames, m.Frames...)
		if c.Frames == nil {
			c.Frames = []FrameRef{}
		}
		if frameData != nil {
			c.Frames[0].Data = frameData
		} else {
			n := 0
			for _, f := range m.Frames {
				n += len(f.Data)
			}
			data := make([]byte, 0, n)
			for i, f := range m.Frames {
				if f.Data != nil {
					k := len(data)
					data = append(data, f.Data...)
					c.Frames[i].Data = data[k:len(data):len(data)]
				}
			}
		}
	} else {
		c.Frames = nil
	}
	if m.HEP != nil {
		h := *m.HEP
		h.AgentName = strings.Clone(h.AgentName)
		c.HEP = &h
	}
	if m.Events != nil {
		c.Events = make([]Event, len(m.Events))
		for i, e := range m.Events {
			e.Detail, e.CallID, e.CSeqMethod, e.Method = strings.Clone(e.Detail), strings.Clone(e.CallID), strings.Clone(e.CSeqMethod), strings.Clone(e.Method)
			c.Events[i] = e
		}
	}
	return c
}

// rebaser maps strings and byte slices that point into the old Raw and
// fold buffer to the same bytes in the copy.
type rebaser struct {
	oldRaw, oldFold []byte
	newRaw, newFold []byte
}

// offset returns where p..p+n lies within b, or -1.
func offset(p unsafe.Pointer, n int, b []byte) int {
	if len(b) == 0 {
		return -1
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	q := uintptr(p)
	if q < base || q+uintptr(n) > base+uintptr(len(b)) {
		return -1
	}
	return int(q - base)
}

func (r *rebaser) str(s string) string {
	if s == "" {
		return ""
	}
	p := unsafe.Pointer(unsafe.StringData(s))
	if off := offset(p, len(s), r.oldRaw); off >= 0 {
		return unsafe.String(&r.newRaw[off], len(s))
	}
	if off := offset(p, len(s), r.oldFold); off >= 0 {
		return unsafe.String(&r.newFold[off], len(s))
	}
	return strings.Clone(s)
}

func (r *rebaser) bytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	if len(b) > 0 {
		if off := offset(unsafe.Pointer(unsafe.SliceData(b)), len(b), r.oldRaw); off >= 0 {
			return r.newRaw[off : off+len(b) : off+len(b)]
		}
	}
	return append([]byte(nil), b...)
}

// strs rebases every string of ss into a new slice (nil stays nil).
func (r *rebaser) strs(ss []string) []string {
	if ss == nil {
		return nil
	}
	c := make([]string, len(ss))
	for i, x := range ss {
		c[i] = r.str(x)
	}
	return c
}

func (r *rebaser) headers(hs []Header) []Header {
	if hs == nil {
		return nil
	}
	c := make([]Header, len(hs))
	for i, h := range hs {
		c[i] = Header{Name: r.str(h.Name), Value: r.str(h.Value)}
	}
	return c
}

func (r *rebaser) addr(a AddrHeader) AddrHeader {
	return AddrHeader{Value: r.str(a.Value), Tag: r.str(a.Tag)}
}

func (r *rebaser) sdp(s *SDP) *SDP {
	c := &SDP{
		Origin:     r.str(s.Origin),
		Session:    r.str(s.Session),
		Connection: r.str(s.Connection),
		Direction:  r.str(s.Direction),
		Raw:        r.bytes(s.Raw),
	}
	if s.Media != nil {
		c.Media = make([]Media, len(s.Media))
		for i, md := range s.Media {
			cm := Media{
				Type:       r.str(md.Type),
				Port:       md.Port,
				Proto:      r.str(md.Proto),
				Connection: r.str(md.Connection),
				Direction:  r.str(md.Direction),
				RTCP:       r.str(md.RTCP),
			}
			cm.Formats = r.strs(md.Formats)
			if md.RTPMap != nil {
				cm.RTPMap = make([]RTPMap, len(md.RTPMap))
				for j, rm := range md.RTPMap {
					rm.Encoding, rm.Params = r.str(rm.Encoding), r.str(rm.Params)
					cm.RTPMap[j] = rm
				}
			}
			cm.Crypto = r.strs(md.Crypto)
			c.Media[i] = cm
		}
	}
	return c
}
