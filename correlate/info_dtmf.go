package correlate

import (
	"net/netip"
	"strings"

	"github.com/sipscope/sipscope/decode"
)

// maxInfoDigits bounds the INFO digits kept per call; a call sending more
// (a loop, a robot) keeps its first ones.
const maxInfoDigits = 256

// InfoDigits collects the DTMF digits calls send in SIP INFO requests
// (InfoDTMF), per call, until the call's dialog is handed on (Take): its
// memory follows the calls in progress. Not safe for concurrent use.
type InfoDigits struct {
	calls map[string]*infoCall
}

type infoCall struct {
	events []infoEvent
}

type infoEvent struct {
	e       DTMFEvent
	fromTag string
	cseq    uint32
	src     netip.AddrPort
	dst     netip.AddrPort
}

// NewInfoDigits returns an empty collector.
func NewInfoDigits() *InfoDigits { return &InfoDigits{calls: map[string]*infoCall{}} }

// Message reads m; INFO requests carrying a digit are kept. A request
// with the From tag and CSeq of one kept already is its retransmission
// (RFC 3261 §17.1.2.2) or the same request on the next hop of a proxy,
// not a second press. m may alias decoder buffers.
func (x *InfoDigits) Message(m *decode.Message) {
	e, ok := InfoDTMF(m)
	if !ok || m.CallID == "" {
		return
	}
	c := x.calls[m.CallID]
	if c == nil {
		c = &infoCall{}
		x.calls[strings.Clone(m.CallID)] = c
	}
	for _, o := range c.events {
		if o.cseq == m.CSeq && o.fromTag == m.From.Tag {
			return
		}
	}
	if len(c.events) >= maxInfoDigits {
		return
	}
	e.Digit = strings.Clone(e.Digit)
	c.events = append(c.events, infoEvent{e: e, fromTag: strings.Clone(m.From.Tag), cseq: m.CSeq,
		src: m.Src, dst: m.Dst})
}

// Take returns the INFO digits of d's call, one LinkInfo Stream per
// direction that sent some (the caller's first), and forgets them. The
// caller is the party with d's From tag (RFC 3261 §12.1: the tags keep
// their sides for the whole dialog).
func (x *InfoDigits) Take(d *Dialog) []Stream {
	c := x.calls[d.CallID]
	if c == nil {
		return nil
	}
	delete(x.calls, d.CallID)
	var out []Stream
	for _, dir := range []Direction{DirectionFromCaller, DirectionFromCallee} {
		var s *Stream
		for _, ev := range c.events {
			evDir := DirectionFromCallee
			if ev.fromTag == d.From.Tag {
				evDir = DirectionFromCaller
			}
			if evDir != dir {
				continue
			}
			if s == nil {
				out = append(out, Stream{CallID: d.CallID, PayloadType: -1, Direction: dir, Link: LinkInfo, Start: ev.e.Start})
				s = &out[len(out)-1]
				s.Src, s.Dst = ev.src, ev.dst
			}
			s.DTMFEvents = append(s.DTMFEvents, ev.e)
			s.End = ev.e.Start
		}
		if s != nil {
			s.DTMF = Digits(s.DTMFEvents)
		}
	}
	return out
}

// Len is the number of calls with INFO digits not yet taken.
func (x *InfoDigits) Len() int { return len(x.calls) }
