package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"sort"
	"time"

	"github.com/sipscope/sipscope/capture"
)

// TCP stream reassembly.
//
// We do not use gopacket's reassembly package: it hands the stream out as
// byte slices with only the capture info of the packet that completed
// them, while every SIP message must name all the frames whose segments
// carried any of its bytes (FrameRef, with a copy of the frame) and the
// time of the segment that completed it. Each direction of a connection
// keeps its contiguous bytes and, beside them, the stream offsets each
// frame contributed; a message is framed out of the bytes and looks up its
// frames by offset range.

const (
	// maxTCPStreams is the default of Options.MaxTCPStreams: the directions tracked at once; beyond it the
	// least recently seen of a sample is evicted.
	maxTCPStreams = 1 << 16
	// maxOOOSegs bounds the out-of-order segments held per direction.
	maxOOOSegs = 1024
	// maxStartWait is how many bytes we wait for before deciding that the
	// first line of a stream is not a SIP or HTTP start line.
	maxStartWait = 2048
	// maxHTTPHeader bounds the HTTP Upgrade request or response header.
	maxHTTPHeader = 16 << 10
)

type flowKey struct{ src, dst netip.AddrPort }

type streamMode uint8

const (
	modeUnknown streamMode = iota // first payload not classified yet
	modeHunt                      // joined mid-stream: looking for a SIP start line
	modeSIP                       // SIP framed by Content-Length
	modeHTTP                      // HTTP header of a WebSocket upgrade
	modeWS                        // WebSocket frames (RFC 6455) carrying SIP (RFC 7118)
	modeHEP                       // HEP3 records over TCP
	modeIgnore                    // not SIP: counted and dropped
	modeTLS                       // TLS records (tls.go): decrypted with a key log, or counted
)

// segRef records which stream bytes [from, to) one frame contributed.
type segRef struct {
	from, to int64
	ref      FrameRef
	owned    bool // ref.Data is our own copy
}

// oooSeg is a segment that arrived ahead of a hole, kept as a copy.
type oooSeg struct {
	off  int64
	data []byte
	refs []FrameRef
	t    time.Time
}

// tcpStream is one direction of a TCP connection.
type tcpStream struct {
	key      flowKey
	mode     streamMode
	synSeen  bool
	seqKnown bool
	nextSeq  uint32 // sequence number of the next byte expected in order
	nextOff  int64  // stream offset of nextSeq
	buf      []byte // bytes received in order and not yet consumed: buf[head:]
	head     int
	refs     []segRef
	ooo      []oooSeg // sorted by off
	oooBytes int
	last     time.Time
	file     string
	finSeen  bool
	finOff   int64
	ws       wsState
	// TLS (tls.go): tls is the record layer of a TLS direction; a
	// stream of decrypted application data has secure set and tlsOf
	// naming the direction it was decrypted from.
	tls    *tlsDir
	secure bool
	tlsOf  *tlsDir
}

// data returns the unconsumed in-order bytes.
func (s *tcpStream) data() []byte { return s.buf[s.head:] }

// bufOff is the stream offset of data()[0].
func (s *tcpStream) bufOff() int64 { return s.nextOff - int64(len(s.buf)-s.head) }

// consume drops n bytes from the front of data().
func (s *tcpStream) consume(n int) {
	s.head += n
	if s.head == len(s.buf) {
		s.buf, s.head = s.buf[:0], 0
	} else if s.head > 4096 && s.head > len(s.buf)/2 {
		k := copy(s.buf, s.buf[s.head:])
		s.buf, s.head = s.buf[:k], 0
	}
	s.prune()
}

// prune forgets the frames whose bytes are all consumed (and not part of a
// WebSocket message still being assembled).
func (s *tcpStream) prune() {
	keep := s.bufOff()
	if s.ws.inMsg && s.ws.from < keep {
		keep = s.ws.from
	}
	i := 0
	for i < len(s.refs) && s.refs[i].to <= keep {
		i++
	}
	if i > 0 {
		n := copy(s.refs, s.refs[i:])
		clear(s.refs[n:])
		s.refs = s.refs[:n]
	}
}

// own copies the frame bytes of refs that still alias the current packet.
func (s *tcpStream) own() {
	for i := range s.refs {
		if !s.refs[i].owned {
			s.refs[i].ref.Data = bytes.Clone(s.refs[i].ref.Data)
			s.refs[i].owned = true
		}
	}
}

// reset forgets everything buffered (a new SYN, a reset).
func (s *tcpStream) reset() {
	s.buf, s.head = s.buf[:0], 0
	s.refs = s.refs[:0]
	s.ooo, s.oooBytes = nil, 0
	s.ws = wsState{}
	s.finSeen = false
	s.tls = nil
}

// tcpState is the state of the stream layers: TCP directions, SCTP
// fragments and scratch buffers for HEP.
type tcpState struct {
	streams   map[flowKey]*tcpStream
	lastSweep time.Time
	frames    []FrameRef // scratch for the frames of one message
	sctp      sctpState
	hep       hepState
}

func newTCPState(o Options) *tcpState {
	return &tcpState{streams: make(map[flowKey]*tcpStream)}
}

// pktFrames returns the frames that carried p.
func pktFrames(p *pkt) []FrameRef {
	if len(p.frames) > 0 || p.frame == nil {
		return p.frames
	}
	f := p.frame
	return []FrameRef{{Source: f.Source, File: f.File, Number: f.Number, Time: f.Time,
		Link: uint16(f.Link), OrigLen: f.OrigLen, Data: f.Data}}
}

// onTCP handles one TCP segment (header and payload, RFC 9293 §3.1) of the
// IP datagram p.
func (d *Decoder) onTCP(p *pkt, seg []byte) {
	if len(seg) < 20 {
		d.stats.Malformed++
		return
	}
	hl := int(seg[12]>>4) * 4
	if hl < 20 || hl > len(seg) {
		d.stats.Malformed++
		return
	}
	sport := binary.BigEndian.Uint16(seg[0:2])
	dport := binary.BigEndian.Uint16(seg[2:4])
	seq := binary.BigEndian.Uint32(seg[4:8])
	flags := seg[13]
	fin, syn, rst := flags&0x01 != 0, flags&0x02 != 0, flags&0x04 != 0
	payload := seg[hl:]

	t := d.tcp
	d.sweepTCP(p.time)
	key := flowKey{netip.AddrPortFrom(p.src, sport), netip.AddrPortFrom(p.dst, dport)}
	s := t.streams[key]
	if rst {
		// RFC 9293 §3.10.7: a reset aborts both directions.
		if s != nil {
			d.endStream(s)
		}
		if r := t.streams[flowKey{key.dst, key.src}]; r != nil {
			d.endStream(r)
		}
		if len(payload) > 0 {
			d.stats.NonSIP++
		}
		return
	}
	if s == nil {
		if len(payload) == 0 && !syn {
			return // a bare ACK or FIN of a stream we do not follow
		}
		s = d.newStream(key)
	}
	s.last = p.time
	if p.frame != nil {
		s.file = p.frame.File
	}
	if syn {
		// RFC 9293 §3.4: the SYN occupies one sequence number.
		s.reset()
		s.mode = modeUnknown
		s.synSeen, s.seqKnown = true, true
		s.nextSeq = seq + 1
		seq++
	}
	if len(payload) > 0 {
		switch s.mode {
		case modeIgnore:
			d.stats.NonSIP++
		default:
			if !s.seqKnown {
				s.seqKnown = true
				s.nextSeq = seq
			}
			d.tcpData(s, p, seq, payload)
		}
	}
	if fin && s.seqKnown {
		s.finSeen = true
		s.finOff = s.nextOff + int64(int32(seq+uint32(len(payload))-s.nextSeq))
	}
	if s.finSeen && len(s.ooo) == 0 && s.nextOff >= s.finOff {
		d.endStream(s)
		return
	}
	if t.streams[key] == s {
		s.own()
	}
}

// newStream starts following one direction, evicting an old one when the
// table is full.
func (d *Decoder) newStream(key flowKey) *tcpStream {
	t := d.tcp
	if len(t.streams) >= d.opts.MaxTCPStreams {
		d.stats.Limits.TCPStreams++
		var old *tcpStream
		n := 0
		for _, s := range t.streams {
			if old == nil || s.last.Before(old.last) {
				old = s
			}
			if n++; n >= 64 {
				break
			}
		}
		d.endStream(old)
	}
	s := &tcpStream{key: key}
	t.streams[key] = s
	return s
}

// sweepTCP ends the streams idle for longer than Options.TCPTimeout of
// capture time. It scans the table at most every TCPTimeout/8.
func (d *Decoder) sweepTCP(now time.Time) {
	t := d.tcp
	if now.IsZero() {
		return
	}
	if t.lastSweep.IsZero() || now.Before(t.lastSweep) {
		t.lastSweep = now
		return
	}
	if now.Sub(t.lastSweep) < d.opts.TCPTimeout/8 {
		return
	}
	t.lastSweep = now
	for _, s := range t.streams {
		if now.Sub(s.last) > d.opts.TCPTimeout {
			d.endStream(s)
		}
	}
}

// flushTCP ends every stream: partial messages count as truncated.
func (d *Decoder) flushTCP() {
	for _, s := range d.tcp.streams {
		d.endStream(s)
	}
	d.sctpFlush()
}

// endStream drains what can still be framed (skipping holes) and forgets
// the direction; bytes left over are a truncated message.
func (d *Decoder) endStream(s *tcpStream) {
	for len(s.ooo) > 0 && s.mode != modeIgnore {
		d.skipGap(s)
		d.mergeOOO(s)
		d.drain(s, nil)
	}
	d.endTLS(s)
	if s.ws.inMsg {
		d.stats.Truncated++
	} else if b := s.data(); len(b) > 0 && s.mode != modeIgnore && s.mode != modeTLS && s.mode != modeHunt {
		if len(b) > skipCRLF(b) {
			d.stats.Truncated++
		}
	}
	delete(d.tcp.streams, s.key)
}

// tcpData places a payload at its sequence number: in order it is
// appended, duplicate bytes (retransmissions, overlaps) are dropped, and
// segments ahead of a hole wait until the hole fills or the buffer bound
// makes us skip it.
func (d *Decoder) tcpData(s *tcpStream, p *pkt, seq uint32, payload []byte) {
	off := s.nextOff + int64(int32(seq-s.nextSeq))
	end := off + int64(len(payload))
	if end <= s.nextOff {
		d.stats.TCPSegments++ // a retransmission: nothing new
		return
	}
	if off < s.nextOff {
		payload = payload[s.nextOff-off:]
		off = s.nextOff
	}
	d.stats.TCPSegments++
	if off == s.nextOff {
		d.appendData(s, payload, pktFrames(p), p.time, false)
		d.mergeOOO(s)
	} else {
		seg := oooSeg{off: off, data: bytes.Clone(payload), t: p.time}
		for _, f := range pktFrames(p) {
			f.Data = bytes.Clone(f.Data)
			seg.refs = append(seg.refs, f)
		}
		i := sort.Search(len(s.ooo), func(i int) bool { return s.ooo[i].off > off })
		s.ooo = append(s.ooo, oooSeg{})
		copy(s.ooo[i+1:], s.ooo[i:])
		s.ooo[i] = seg
		s.oooBytes += len(seg.data)
		for len(s.ooo) > 0 && (s.oooBytes > d.opts.MaxTCPBuffer || len(s.ooo) > maxOOOSegs) {
			// The hole is not going to be filled: skip it (a lost segment).
			d.stats.Limits.TCPBuffer++
			d.skipGap(s)
			d.mergeOOO(s)
			d.drain(s, p)
		}
	}
	d.drain(s, p)
}

// appendData appends in-order bytes and records the frames that carried them.
func (d *Decoder) appendData(s *tcpStream, b []byte, frames []FrameRef, t time.Time, owned bool) {
	from := s.nextOff
	s.buf = append(s.buf, b...)
	s.nextOff += int64(len(b))
	s.nextSeq += uint32(len(b))
	for _, f := range frames {
		if f.Time.IsZero() {
			f.Time = t
		}
		s.refs = append(s.refs, segRef{from: from, to: s.nextOff, ref: f, owned: owned})
	}
}

// mergeOOO moves the waiting segments that now continue the stream.
func (d *Decoder) mergeOOO(s *tcpStream) {
	i := 0
	for ; i < len(s.ooo) && s.ooo[i].off <= s.nextOff; i++ {
		g := s.ooo[i]
		s.oooBytes -= len(g.data)
		end := g.off + int64(len(g.data))
		if end <= s.nextOff {
			continue
		}
		d.appendData(s, g.data[s.nextOff-g.off:], g.refs, g.t, true)
	}
	if i > 0 {
		n := copy(s.ooo, s.ooo[i:])
		clear(s.ooo[n:])
		s.ooo = s.ooo[:n]
	}
}

// skipGap jumps over the hole before the first waiting segment: the bytes
// of a lost segment. The message it cut is lost; we resynchronise on the
// next SIP start line.
func (d *Decoder) skipGap(s *tcpStream) {
	if len(s.ooo) == 0 {
		return
	}
	d.stats.TCPGaps++
	if s.ws.inMsg || len(s.data()) > skipCRLF(s.data()) {
		d.stats.Truncated++
	}
	s.ws = wsState{}
	gap := s.ooo[0].off - s.nextOff
	s.buf, s.head = s.buf[:0], 0
	s.nextOff += gap
	s.nextSeq += uint32(gap)
	s.refs = s.refs[:0]
	switch s.mode {
	case modeSIP, modeUnknown:
		s.mode = modeHunt
	case modeWS, modeHEP, modeHTTP, modeTLS:
		// Frame boundaries are lost for good (and for TLS, the record
		// sequence numbers the keys need).
		s.mode = modeIgnore
	}
}

// framesFor collects the frames that carried stream bytes [from, to) and
// the latest capture time among them.
func (d *Decoder) framesFor(s *tcpStream, from, to int64) ([]FrameRef, time.Time) {
	fr := d.tcp.frames[:0]
	var at time.Time
	for _, r := range s.refs {
		if r.from < to && r.to > from {
			fr = append(fr, r.ref)
			if r.ref.Time.After(at) {
				at = r.ref.Time
			}
		}
	}
	d.tcp.frames = fr
	return fr, at
}

// streamPkt stands in for the current packet when a stream is drained at
// its end (flush, expiry) rather than by a segment.
func streamPkt(s *tcpStream) *pkt {
	return &pkt{frame: &capture.Frame{File: s.file}, src: s.key.src.Addr(), dst: s.key.dst.Addr()}
}

// drain frames everything it can out of the in-order bytes.
func (d *Decoder) drain(s *tcpStream, p *pkt) {
	if p == nil {
		p = streamPkt(s)
	}
	for {
		var more bool
		switch s.mode {
		case modeUnknown:
			more = d.classify(s)
		case modeHunt:
			more = d.hunt(s)
		case modeSIP:
			more = d.drainSIP(s, p)
		case modeHTTP:
			more = d.drainHTTP(s)
		case modeWS:
			more = d.drainWS(s, p)
		case modeHEP:
			more = d.drainHEPStream(s, p)
		case modeTLS:
			more = d.drainTLS(s, p)
		default:
			s.buf, s.head = s.buf[:0], 0
			s.refs = s.refs[:0]
			return
		}
		if !more {
			return
		}
	}
}

// skipCRLF returns how many CR and LF bytes b starts with: keep-alives
// between messages on a stream ("\r\n\r\n" ping, "\r\n" pong, RFC 5626
// §3.5.1), which are not messages.
func skipCRLF(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// tlsStart reports whether b starts like a TLS record header
// (RFC 8446 §5.1: content type 20-23, legacy version 3.x).
func tlsStart(b []byte) bool {
	return len(b) >= 3 && b[0] >= 0x14 && b[0] <= 0x17 && b[1] == 3 && b[2] <= 4
}

// lineText reports whether b could still be the beginning of a text start
// line (no control bytes besides CR, LF and TAB).
func lineText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\r' && c != '\n' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// classify looks at the first bytes of a direction: SIP, an HTTP request
// or response (WebSocket upgrade), HEP3, TLS, or something else.
func (d *Decoder) classify(s *tcpStream) bool {
	if k := skipCRLF(s.data()); k > 0 {
		s.consume(k)
	}
	b := s.data()
	if len(b) == 0 {
		return false
	}
	switch {
	case len(b) < 3 && b[0] >= 0x14 && b[0] <= 0x17 && !s.secure:
		return false // perhaps a TLS record header: wait for the rest of it
	case tlsStart(b) && !s.secure:
		d.startTLS(s)
		return true
	case bytes.HasPrefix(b, []byte("HEP3")):
		s.mode = modeHEP
		return true
	}
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		if lineText(b) && (len(b) < maxStartWait || len(b) <= d.opts.MaxLine && startPrefix(b)) {
			return false // wait for the whole first line
		}
		if startPrefix(b) {
			// A start line longer than MaxLine (--limit-line):
			// drainSIP counts it and looks for the next message.
			s.mode = modeSIP
			return true
		}
	} else if isSIPStart(b) {
		s.mode = modeSIP
		return true
	} else if bytes.HasPrefix(b, []byte("GET ")) || bytes.HasPrefix(b, []byte("HTTP/1.")) {
		s.mode = modeHTTP
		return true
	}
	if wsSIPFrame(b) {
		// We joined a WebSocket connection after its HTTP upgrade
		// (long-lived WebRTC clients), or read a per-call export that
		// holds only the frames carrying SIP.
		s.mode = modeWS
		return true
	}
	if !s.synSeen {
		// We joined mid-stream: this may be the rest of a message.
		s.mode = modeHunt
		return true
	}
	s.mode = modeIgnore
	d.stats.NonSIP++
	return true
}

// hunt looks for a SIP start line at the beginning of a line, dropping
// what comes before it (the tail of a message whose start we missed, or
// the bytes after a gap). RFC 3261 §18.3: a stream has no other way to
// find message boundaries again.
func (d *Decoder) hunt(s *tcpStream) bool {
	b := s.data()
	if len(b) == 0 {
		return false
	}
	if tlsStart(b) && s.bufOff() == 0 && !s.secure {
		d.startTLS(s)
		return true
	}
	start := 0
	for {
		if start < len(b) && isSIPStart(b[start:]) && bytes.IndexByte(b[start:], '\n') >= 0 {
			s.consume(start)
			s.mode = modeSIP
			return true
		}
		nl := bytes.IndexByte(b[start:], '\n')
		if nl < 0 {
			break
		}
		start += nl + 1
	}
	if !s.secure {
		// Joined in the middle of a TLS record: resynchronise on the
		// next two records in a row, to say the session began before
		// the capture rather than call its bytes "not SIP".
		if p := tlsResync(b); p >= 0 {
			s.consume(p)
			d.startTLS(s)
			return true
		}
	}
	// No start line yet: keep only the last partial line.
	drop := start
	if len(b)-drop > maxStartWait {
		drop = len(b) - maxStartWait
	}
	if drop > 0 {
		d.stats.NonSIP++
		s.consume(drop)
	}
	return false
}

// drainSIP frames SIP messages by Content-Length (RFC 3261 §18.3).
func (d *Decoder) drainSIP(s *tcpStream, p *pkt) bool {
	for {
		if k := skipCRLF(s.data()); k > 0 {
			s.consume(k)
		}
		b := s.data()
		if len(b) == 0 {
			return false
		}
		n, err := frameLen(b, true, d.opts.MaxLine)
		switch {
		case err == nil && n > 0 && n <= d.opts.MaxMessage:
			from := s.bufOff()
			frames, at := d.framesFor(s, from, from+int64(n))
			if at.IsZero() {
				at = p.time
			}
			tr := TCP
			if s.secure {
				tr = TLS
			}
			d.emitStream(p, tr, s.key.src, s.key.dst, b[:n], frames, at, nil)
			s.consume(n)
		case errors.Is(err, ErrTruncated) && len(b) <= d.opts.MaxMessage:
			return false // wait for more
		default:
			// Not a SIP message, or one larger than we accept: skip its
			// start line and look for the next one.
			d.stats.Malformed++
			switch {
			case errors.Is(err, errLineTooLong):
				// --limit-line: a line that cannot be parsed is not
				// waited for up to the message limit.
				d.stats.Limits.Line++
			case err == nil && n > d.opts.MaxMessage || errors.Is(err, ErrTruncated):
				d.stats.Limits.Message++
			}
			nl := bytes.IndexByte(b, '\n')
			if nl < 0 {
				nl = len(b) - 1
			}
			s.consume(nl + 1)
			s.mode = modeHunt
			return true
		}
	}
}

// emitHook, when set (by tests), sees every message the stream layers
// offer to emit before it is parsed.
var emitHook func(tr Transport, src, dst netip.AddrPort, raw []byte, frames []FrameRef, at time.Time, hep *HEPInfo)

// emitStream hands one framed message to emit.
func (d *Decoder) emitStream(p *pkt, tr Transport, src, dst netip.AddrPort, raw []byte, frames []FrameRef, at time.Time, hep *HEPInfo) {
	if emitHook != nil {
		emitHook(tr, src, dst, raw, frames, at, hep)
	}
	d.emit(p, tr, src, dst, raw, frames, at, hep)
}
