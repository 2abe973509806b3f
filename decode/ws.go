package decode

import (
	"bytes"
	"encoding/binary"
	"time"
)

// SIP over WebSocket (RFC 7118) on a TCP stream: an HTTP/1.1 Upgrade
// (RFC 6455 §4) and then frames (RFC 6455 §5.2) in both directions. Each
// WebSocket message carries one SIP message (RFC 7118 §5).

// wsState is the WebSocket message being assembled in one direction.
type wsState struct {
	inMsg bool   // a data frame without FIN was seen: continuation frames follow
	from  int64  // stream offset of the first frame of the message
	msg   []byte // unmasked payload so far
	skip  int64  // bytes of an oversized frame still to drop
	drop  bool   // the message being assembled is oversized: drop it
}

// WebSocket opcodes (RFC 6455 §5.2).
const (
	wsContinuation = 0x0
	wsText         = 0x1
	wsBinary       = 0x2
	wsClose        = 0x8
	wsPing         = 0x9
	wsPong         = 0xa
)

// drainHTTP reads the HTTP header that opens a WebSocket connection: the
// client's GET with "Upgrade: websocket" or the server's "101 Switching
// Protocols". Anything else on the stream is not SIP.
func (d *Decoder) drainHTTP(s *tcpStream) bool {
	b := s.data()
	end, sep := bytes.Index(b, []byte("\r\n\r\n")), 4
	if end < 0 {
		if end, sep = bytes.Index(b, []byte("\n\n")), 2; end < 0 {
			if len(b) > maxHTTPHeader {
				s.mode = modeIgnore
				d.stats.NonSIP++
				return true
			}
			return false
		}
	}
	head := b[:end]
	upgrade, sip := httpUpgrade(head)
	var ok bool
	switch {
	case bytes.HasPrefix(head, []byte("GET ")):
		ok = upgrade && sip
		if ok {
			// The server's answer comes the other way: expect it.
			r := d.reverseStream(s)
			if r.mode == modeUnknown || r.mode == modeHunt {
				r.mode = modeHTTP
			}
		}
	case bytes.HasPrefix(head, []byte("HTTP/1.")):
		// RFC 6455 §4.2.2: "HTTP/1.1 101 Switching Protocols".
		ok = len(head) >= 12 && head[8] == ' ' && string(head[9:12]) == "101" && upgrade && sip
	}
	s.consume(end + sep)
	if !ok {
		s.mode = modeIgnore
		d.stats.NonSIP++
		return true
	}
	s.mode = modeWS
	return true
}

// httpUpgrade reports whether an HTTP header asks for (or grants) a
// WebSocket upgrade, and whether the subprotocol is SIP (RFC 7118 §4.1:
// Sec-WebSocket-Protocol: sip). A missing subprotocol header is accepted:
// frames are checked for SIP anyway.
func httpUpgrade(head []byte) (upgrade, sip bool) {
	sip = true
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		line = bytes.TrimRight(line, "\r")
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		name := bytes.TrimSpace(line[:colon])
		val := bytes.TrimSpace(line[colon+1:])
		switch {
		case bytes.EqualFold(name, []byte("Upgrade")):
			upgrade = bytes.EqualFold(val, []byte("websocket"))
		case bytes.EqualFold(name, []byte("Sec-WebSocket-Protocol")):
			sip = false
			for _, v := range bytes.Split(val, []byte(",")) {
				if bytes.EqualFold(bytes.TrimSpace(v), []byte("sip")) {
					sip = true
				}
			}
		}
	}
	return upgrade, sip
}

// drainWS decodes WebSocket frames (RFC 6455 §5.2): masked or not, 7-,
// 16- or 64-bit payload lengths, fragmented messages (§5.4) with control
// frames (§5.5) possibly between the fragments.
func (d *Decoder) drainWS(s *tcpStream, p *pkt) bool {
	w := &s.ws
	for {
		b := s.data()
		if w.skip > 0 {
			n := int64(len(b))
			if n > w.skip {
				n = w.skip
			}
			if n == 0 {
				return false
			}
			s.consume(int(n))
			w.skip -= n
			continue
		}
		if len(b) < 2 {
			return false
		}
		fin := b[0]&0x80 != 0
		op := b[0] & 0x0f
		masked := b[1]&0x80 != 0
		n := int64(b[1] & 0x7f)
		h := 2
		switch n {
		case 126:
			if len(b) < 4 {
				return false
			}
			n, h = int64(binary.BigEndian.Uint16(b[2:4])), 4
		case 127:
			if len(b) < 10 {
				return false
			}
			v := binary.BigEndian.Uint64(b[2:10])
			if v>>63 != 0 { // §5.2: the most significant bit MUST be 0
				d.stats.Malformed++
				s.mode = modeIgnore
				return true
			}
			n, h = int64(v), 10
		}
		var key []byte
		if masked {
			if len(b) < h+4 {
				return false
			}
			key = b[h : h+4]
			h += 4
		}
		if b[0]&0x70 != 0 || op > wsPong || (op > wsBinary && op < wsClose) {
			// Reserved bits (no extension negotiated we could read, e.g.
			// permessage-deflate) or reserved opcodes: we cannot follow.
			d.stats.Malformed++
			s.mode = modeIgnore
			return true
		}
		frameOff := s.bufOff()
		if n > int64(d.opts.MaxMessage) {
			// Larger than any message we accept: drop it as it passes.
			d.stats.WebSocketFrames++
			d.stats.Truncated++
			d.stats.Limits.Message++
			if op < wsClose {
				w.inMsg, w.drop = !fin, !fin
				w.msg = w.msg[:0]
			}
			s.consume(h)
			w.skip = n
			continue
		}
		if int64(len(b)) < int64(h)+n {
			return false
		}
		d.stats.WebSocketFrames++
		payload := b[h : int64(h)+n]
		total := h + int(n)
		switch op {
		case wsText, wsBinary, wsContinuation:
			if op != wsContinuation {
				if w.inMsg && !w.drop {
					d.stats.Truncated++ // a new message before the last one ended
				}
				w.inMsg, w.drop, w.from = true, false, frameOff
				w.msg = w.msg[:0]
			} else if !w.inMsg {
				// A continuation without its start (we joined mid-message).
				s.consume(total)
				continue
			}
			if w.drop {
				if fin {
					w.inMsg, w.drop = false, false
				}
				s.consume(total)
				continue
			}
			if len(w.msg)+len(payload) > d.opts.MaxMessage {
				d.stats.Truncated++
				d.stats.Limits.Message++
				w.drop = true
				w.msg = w.msg[:0]
				if fin {
					w.inMsg, w.drop = false, false
				}
				s.consume(total)
				continue
			}
			var msg []byte
			if fin && op != wsContinuation && !masked {
				msg = payload // whole unmasked frame: no copy needed
			} else {
				k := len(w.msg)
				w.msg = append(w.msg, payload...)
				if masked {
					for i := k; i < len(w.msg); i++ {
						w.msg[i] ^= key[(i-k)&3]
					}
				}
				msg = w.msg
			}
			if fin {
				frames, at := d.framesFor(s, w.from, frameOff+int64(total))
				if at.IsZero() {
					at = p.time
				}
				w.inMsg = false
				d.wsMessage(p, s, msg, frames, at)
				w.msg = w.msg[:0]
			}
		default:
			// Control frames (close, ping, pong) carry no SIP.
		}
		s.consume(total)
	}
}

// wsMessage emits one complete WebSocket message if it is SIP.
func (d *Decoder) wsMessage(p *pkt, s *tcpStream, msg []byte, frames []FrameRef, at time.Time) {
	k := skipCRLF(msg)
	if k == len(msg) {
		return // a keep-alive
	}
	msg = msg[k:]
	if !isSIPStart(msg) {
		d.stats.NonSIP++
		return
	}
	m := d.encap.mark()
	d.encap.push("ws")
	tr := WS
	if s.secure {
		tr = WSS
	}
	d.emitStream(p, tr, s.key.src, s.key.dst, msg, frames, at, nil)
	d.encap.truncate(m)
}

// wsSIPFrame reports whether b starts with a whole-message WebSocket frame
// (FIN set, no reserved bits, text or binary; RFC 6455 §5.2) whose payload,
// unmasked, starts with a SIP start line (RFC 7118 §5: one SIP message per
// WebSocket message). It lets a stream joined after its HTTP upgrade be
// read as WebSocket; the payload check keeps other binary protocols out.
func wsSIPFrame(b []byte) bool {
	if len(b) < 2 || (b[0] != 0x80|wsText && b[0] != 0x80|wsBinary) {
		return false
	}
	n, h := int(b[1]&0x7f), 2
	switch n {
	case 126:
		if len(b) < 4 {
			return false
		}
		n, h = int(binary.BigEndian.Uint16(b[2:4])), 4
	case 127:
		return false // a SIP message never needs the 64-bit form; do not guess
	}
	var key []byte
	if b[1]&0x80 != 0 {
		if len(b) < h+4 {
			return false
		}
		key, h = b[h:h+4], h+4
	}
	// Unmask enough of the payload to see the start line.
	var line [256]byte
	k := copy(line[:], b[h:min(len(b), h+n)])
	for i := range k {
		if key != nil {
			line[i] ^= key[i&3]
		}
	}
	return isSIPStart(line[:k]) && bytes.IndexByte(line[:k], '\n') >= 0
}
