package decode

import (
	"hash/maphash"
	"net/netip"
	"time"

	"github.com/sipscope/sipscope/capture"
)

// Handler receives what the decoder finds. The *Message and *Event passed
// alias decoder buffers and are valid only until the call returns; a handler
// that keeps one calls Clone.
type Handler interface {
	Message(m *Message)
	Event(e *Event)
}

// Options bound the decoder's memory and time. Zero values mean defaults.
type Options struct {
	MaxMessage   int           // largest SIP message accepted (default 256 KiB)
	FragTimeout  time.Duration // capture time an incomplete IP datagram is kept (default 30s)
	MaxFragBytes int           // bytes held for reassembly across all datagrams, frames included (default 24 MiB)
	TCPTimeout   time.Duration // capture time an idle TCP stream is kept (default 5m)
	MaxTCPBuffer int           // bytes buffered per TCP direction waiting for a gap (default 1 MiB)
	// MaxFragDatagrams bounds the incomplete IP datagrams held at once
	// (default 8192); beyond it the oldest is dropped.
	MaxFragDatagrams int
	// MaxTCPStreams bounds the TCP directions followed at once (default
	// 65536); beyond it an idle one is ended.
	MaxTCPStreams int
	// MaxHeaders bounds the header lines of one message or body part
	// (default 256); a message with more is malformed.
	MaxHeaders int
	// MaxLine bounds one start or header line (default 16 KiB).
	MaxLine int
	// MaxSDPMedia bounds the m= lines of one SDP body kept (default 64);
	// further ones are not parsed.
	MaxSDPMedia int
	// MaxHEP bounds one HEP packet (default 65535, what HEP3's 16-bit
	// length allows); a larger one is dropped.
	MaxHEP int
	// DupWindow is how far apart in capture time two copies of one UDP
	// datagram are taken for a duplicate frame rather than a resend
	// (default 100ms; negative turns duplicate detection off). See dup.go.
	DupWindow time.Duration
	// Keys, when set, holds the TLS session secrets (an NSS key log,
	// see KeyLog) to decrypt SIP over TLS and WSS with. The decoder only
	// reads it. Secrets from pcapng Decryption Secrets Blocks are added
	// with AddSecrets.
	Keys *KeyLog
	// MoreKeys, when set, is called when a TLS session's secrets are
	// not in Keys, before its records are counted as not decrypted. It
	// may add to Keys (a live capture re-reading a key log its peers are
	// still writing) and reports whether it did. It runs on the
	// decoder's goroutine.
	MoreKeys func() bool
}

func (o Options) withDefaults() Options {
	if o.MaxMessage <= 0 {
		o.MaxMessage = 256 << 10
	}
	if o.FragTimeout <= 0 {
		o.FragTimeout = 30 * time.Second
	}
	if o.MaxFragBytes <= 0 {
		// 24 MiB holds ~8000 incomplete 1500-byte fragments: a flood of
		// first fragments that never complete peaks well under 100 MB of
		// process memory (issue 13), while real reassembly holds a few.
		o.MaxFragBytes = 24 << 20
	}
	if o.MaxFragDatagrams <= 0 {
		o.MaxFragDatagrams = 8192
	}
	if o.MaxTCPStreams <= 0 {
		o.MaxTCPStreams = 1 << 16
	}
	if o.MaxHeaders <= 0 {
		o.MaxHeaders = maxHeaders
	}
	if o.MaxLine <= 0 {
		o.MaxLine = maxLine
	}
	if o.MaxSDPMedia <= 0 {
		o.MaxSDPMedia = maxMedia
	}
	if o.MaxHEP <= 0 {
		o.MaxHEP = 65535
	}
	if o.TCPTimeout <= 0 {
		o.TCPTimeout = 5 * time.Minute
	}
	if o.MaxTCPBuffer <= 0 {
		o.MaxTCPBuffer = 1 << 20
	}
	if o.DupWindow == 0 {
		o.DupWindow = defaultDupWindow
	}
	return o
}

// Stats counts what the decoder saw, including everything it could not
// decode. Every frame ends up in exactly one of the frame-level counters
// or contributes to a message.
type Stats struct {
	Frames           int64 // frames read
	SIPMessages      int64 // SIP messages decoded
	NonSIP           int64 // transport payloads that were not SIP (RTP, DNS, ...)
	NonIP            int64 // frames with no IP inside (ARP, STP, ...)
	UnsupportedLink  int64 // frames of a link type or tunnel we cannot read
	Malformed        int64 // frames or payloads whose headers are broken
	Truncated        int64 // frames cut short by the snap length, or messages cut at the end of input
	Fragments        int64 // IP fragments seen
	FragmentsExpired int64 // IP fragments dropped because their datagram never completed
	TCPSegments      int64 // TCP segments with payload on streams that carry SIP
	TCPGaps          int64 // gaps in TCP streams (lost segments) skipped
	WebSocketFrames  int64 // WebSocket frames decoded
	SCTPChunks       int64 // SCTP DATA chunks decoded
	HEPPackets       int64 // HEP packets decoded
	ICMPEvents       int64 // ICMP errors quoting SIP
	Encrypted        int64 // TLS records not decrypted (no keys, wrong keys, joined mid-session)
	// TLS (tls.go): sessions seen, sessions with at least one record
	// decrypted, records decrypted, sessions whose keys are not in the
	// key log (named by TLSMissing), TLS streams joined after their
	// handshake, records that failed to decrypt (wrong keys) and
	// sessions with a cipher suite we do not decrypt.
	TLSSessions    int64
	TLSDecrypted   int64
	TLSRecords     int64
	TLSNoKeys      int64
	TLSMidSession  int64
	TLSBadRecords  int64
	TLSUnsupported int64
	Warnings       int64 // messages decoded with a parser leniency
	// Duplicates counts SIP datagrams captured twice within
	// Options.DupWindow (same addresses, IP ID, bytes): their messages are
	// delivered with Message.Duplicate set.
	Duplicates int64
	// Overlaps counts SIP datagrams dropped because another input held the
	// same frame (same capture time, addresses, IP ID and bytes): two files
	// of one capture, such as a capture and an extract of it.
	Overlaps int64
	// Limits counts the times each bound of Options bit.
	Limits LimitStats
}

// LimitStats counts, per bound of Options, how often it bit: what was
// dropped (or, for the caches, the oldest state evicted) to stay within it.
type LimitStats struct {
	Message       int64 // messages longer than MaxMessage dropped
	Headers       int64 // messages with more than MaxHeaders header lines
	Line          int64 // messages with a line longer than MaxLine
	SDPMedia      int64 // SDP bodies with more than MaxSDPMedia m= lines (the rest not parsed)
	TCPStreams    int64 // streams ended because MaxTCPStreams were open
	TCPBuffer     int64 // gaps skipped because MaxTCPBuffer bytes waited behind them
	FragDatagrams int64 // oldest incomplete datagrams dropped to stay within MaxFragDatagrams
	FragBytes     int64 // oldest incomplete datagrams dropped to stay within MaxFragBytes
	FragAge       int64 // incomplete datagrams dropped after FragTimeout
	HEP           int64 // HEP packets longer than MaxHEP dropped
}

// Decoder turns captured frames into SIP messages. It is not safe for
// concurrent use: one goroutine feeds it frames in capture order.
type Decoder struct {
	opts  Options
	h     Handler
	stats Stats

	msg   Message   // reused for every message handed to h
	encap encapPath // path of the frame being decoded
	paths map[string]string
	// lastPath is the encapsulation path of the last message delivered:
	// most messages of a capture share it, so deliver skips the map.
	lastPath string

	// state owned by the packet layers (link.go, ip.go)
	ip *ipState
	// state owned by the stream layers (tcp.go, ws.go, sctp.go, hep.go)
	tcp *tcpState
	// recent SIP datagrams, to tell duplicate frames (dup.go)
	dup dupState

	// dg, when the Handler implements DatagramHandler, gets candidate
	// RTP/RTCP datagrams (rtp.go) in dgram, reused.
	dg    DatagramHandler
	dgram Datagram
	// TLS sessions beyond one connection (tls.go)
	tls tlsState
}

// New returns a decoder that reports to h.
func New(opts Options, h Handler) *Decoder {
	d := &Decoder{opts: opts.withDefaults(), h: h, paths: make(map[string]string)}
	d.ip = newIPState(d.opts)
	d.dup.seed = maphash.MakeSeed()
	d.tcp = newTCPState(d.opts)
	if dg, ok := h.(DatagramHandler); ok {
		d.dg = dg
	}
	if hf, ok := h.(HandlerFuncs); ok && hf.OnDatagram == nil {
		d.dg = nil
	}
	d.msg.scratch = &scratch{lim: parseLimits{line: d.opts.MaxLine, headers: d.opts.MaxHeaders, media: d.opts.MaxSDPMedia}}
	return d
}

// countLimits adds the bounds the last parse into d.msg ran into to
// Stats.Limits.
func (d *Decoder) countLimits() {
	h := d.msg.scratch.hit
	if h == 0 {
		return
	}
	if h&hitLine != 0 {
		d.stats.Limits.Line++
	}
	if h&hitHeaders != 0 {
		d.stats.Limits.Headers++
	}
	if h&hitMedia != 0 {
		d.stats.Limits.SDPMedia++
	}
}

// Stats returns the counters so far.
func (d *Decoder) Stats() Stats { return d.stats }

// Frame decodes one frame. f.Data is not retained after Frame returns
// unless copied.
func (d *Decoder) Frame(f *capture.Frame) {
	d.stats.Frames++
	d.link(f)
}

// Flush ends the input: buffered TCP data that never formed a whole message
// is counted as truncated, incomplete IP datagrams as expired.
func (d *Decoder) Flush() {
	d.flushIP()
	d.flushTCP()
}

// pkt is what the network layers learned about one transport payload; it
// is handed to the transport decoders (udp, tcp, sctp, hep).
type pkt struct {
	frame    *capture.Frame
	time     time.Time
	src, dst netip.Addr
	frames   []FrameRef // frames that carried this IP datagram (several after reassembly)
	ipid     uint32     // IPv4 Identification or IPv6 flow label of the innermost IP header
	dup      bool       // the datagram is a duplicate frame (dup.go)
}

// encapPath accumulates the layer names of the frame being decoded without
// allocating; intern turns it into a string shared by all messages with the
// same path.
type encapPath struct {
	b []byte
}

func (e *encapPath) reset() { e.b = e.b[:0] }
func (e *encapPath) push(s string) {
	if len(e.b) > 0 {
		e.b = append(e.b, '/')
	}
	e.b = append(e.b, s...)
}
func (e *encapPath) mark() int      { return len(e.b) }
func (e *encapPath) truncate(n int) { e.b = e.b[:n] }

// path returns the current encapsulation path as an interned string.
func (d *Decoder) path() string {
	if s, ok := d.paths[string(d.encap.b)]; ok {
		return s
	}
	s := string(d.encap.b)
	if len(d.paths) < 4096 {
		d.paths[s] = s
	}
	return s
}

// emit parses raw as a SIP message, fills in addressing and hands it to the
// handler. raw and frames may alias buffers that are reused after emit
// returns. It reports whether raw parsed as SIP.
func (d *Decoder) emit(p *pkt, tr Transport, src, dst netip.AddrPort, raw []byte, frames []FrameRef, at time.Time, hep *HEPInfo) bool {
	err := Parse(raw, &d.msg)
	d.countLimits()
	if err != nil {
		d.stats.Malformed++
		return false
	}
	d.deliver(p, tr, src, dst, frames, at, hep)
	return true
}

// deliver fills in the addressing of the message just parsed into d.msg
// and hands it to the handler.
func (d *Decoder) deliver(p *pkt, tr Transport, src, dst netip.AddrPort, frames []FrameRef, at time.Time, hep *HEPInfo) {
	m := &d.msg
	m.Time = at
	if p != nil && p.frame != nil {
		m.File = p.frame.File
	}
	m.Frames = frames
	m.Src, m.Dst = src, dst
	m.Transport = tr
	if d.lastPath == "" || string(d.encap.b) != d.lastPath {
		d.lastPath = d.path()
	}
	m.Encap = d.lastPath
	m.HEP = hep
	m.Duplicate = p != nil && p.dup
	d.stats.SIPMessages++
	if m.Warnings != 0 {
		d.stats.Warnings++
	}
	d.h.Message(m)
}
