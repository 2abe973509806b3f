package decode

import (
	"net/netip"
	"time"
)

// Transport is how a SIP message travelled: "udp", "tcp", "tls", "ws",
// "wss" or "sctp". For messages that arrived inside HEP it is the
// transport the HEP header names.
type Transport string

// Transports.
const (
	UDP  Transport = "udp"
	TCP  Transport = "tcp"
	TLS  Transport = "tls"
	WS   Transport = "ws"
	WSS  Transport = "wss"
	SCTP Transport = "sctp"
)

// FrameRef names one captured frame that carried (part of) a message: every
// IP fragment and every TCP segment counts.
type FrameRef struct {
	Source  int       // index of the input (see capture.Frame.Source)
	File    string    // input name
	Number  int64     // 1-based frame number within the input
	Time    time.Time // capture time of the frame
	Link    uint16    // pcap LINKTYPE_ of Data
	OrigLen int       // length on the wire
	// Data is the frame's captured bytes, so that a per-call pcap can be
	// written without the original file. While a message is handed to a
	// Handler it may alias decoder buffers; Message.Clone copies it.
	Data []byte
}

// HEPInfo is what a HEP (Homer encapsulation protocol) header said about a
// message that arrived inside it.
type HEPInfo struct {
	Version   int    // 1, 2 or 3
	AgentID   uint32 // capture agent id (HEP3 chunk 0x000c)
	AgentName string // capture agent name / node name (HEP3 chunk 0x0013), if any
	Proto     int    // HEP protocol type (1 = SIP)
	// Collector is the address the HEP packet itself was sent to/from.
	CollectorSrc, CollectorDst netip.AddrPort
}

// NameAddr is a From, To or Contact value: RFC 3261 §20.10 name-addr or
// addr-spec with parameters.
type NameAddr struct {
	Display string // display name without quotes
	URI     string // the URI without angle brackets
	User    string // user part of the URI ("" when none)
	Host    string // host[:port] part of the URI
	Tag     string // tag parameter
}

// AddrHeader is a From, To or Contact header value as Parse keeps it: the
// value as written and its tag parameter, which dialog matching reads on
// every message. The rest (display name, URI, user, host) is split only
// when asked, by Parse and the accessors, each of which parses the value
// again: most messages are never asked, and splitting three URIs per
// message was a fifth of decoding (see BenchmarkDecodeOnly). A consumer
// that reads several parts of one value calls Parse once.
type AddrHeader struct {
	Value string // the header value without surrounding white space; the first value of a Contact list
	Tag   string // the tag parameter (RFC 3261 §19.3), "" when none
}

// Parse splits the value into its parts (RFC 3261 §20.10, §20.20, §20.39).
func (a AddrHeader) Parse() NameAddr { return parseNameAddr(a.Value) }

// URI returns the URI without angle brackets.
func (a AddrHeader) URI() string { return a.Parse().URI }

// User returns the user part of the URI ("" when none).
func (a AddrHeader) User() string { return a.Parse().User }

// Host returns the host[:port] part of the URI.
func (a AddrHeader) Host() string { return a.Parse().Host }

// Display returns the display name without quotes.
func (a AddrHeader) Display() string { return a.Parse().Display }

// Via is one Via header value (RFC 3261 §20.42).
type Via struct {
	Transport string // e.g. "UDP" from SIP/2.0/UDP
	SentBy    string // host[:port]
	Branch    string
	Received  string
	RPort     string
}

// Header is one header line as it stood in the message, in order, with
// folded continuation lines joined. Name is as written (compact forms kept);
// use Message.Header to look up by canonical name.
type Header struct {
	Name  string
	Value string
}

// Message is one SIP message with everything a capture tells about it.
//
// Ownership: a Message produced by Parse or handed to a Handler aliases the
// bytes it was parsed from (all string fields, Raw, Body and FrameRef.Data
// point into decoder buffers) and is valid only until Parse is called again
// or the Handler returns. Clone makes a copy that owns its memory with one
// allocation for the bytes.
type Message struct {
	// Addressing and timing, set by the decoder (Parse leaves them zero).
	Time      time.Time // time of the frame that completed the message
	File      string    // input the message came from
	Frames    []FrameRef
	Src, Dst  netip.AddrPort
	Transport Transport
	Encap     string   // encapsulation path, e.g. "eth/vlan:100/ipv4/gre/eth/ipv4/udp"
	HEP       *HEPInfo // non-nil when the message arrived inside HEP
	Events    []Event  // ICMP errors and similar that quoted this message (filled by later stages)
	// Duplicate says the datagram that carried the message was a second
	// copy of one just seen (a capture on two interfaces, a mirror port):
	// the same message again, not a retransmission. See Stats.Duplicates.
	Duplicate bool

	// Start line.
	Request    bool
	Method     string // request method; "" on responses
	RequestURI string
	Status     int    // response status code; 0 on requests
	Reason     string // response reason phrase
	Version    string // "SIP/2.0"

	// Headers, in order.
	Headers []Header

	// Frequently used header values, parsed once.
	CallID string
	CSeq   uint32
	// Warnings records every leniency the parser applied. (Here beside
	// CSeq, two 4-byte fields filling one word: a Message is 624 bytes,
	// in the 640-byte size class; see TestMessageSize.)
	Warnings      Warning
	CSeqMethod    string
	From, To      AddrHeader
	Via           []Via
	Contact       AddrHeader
	UserAgent     string // User-Agent, or Server on responses when there is no User-Agent
	ReasonHeader  string // Reason header (RFC 3326), raw
	Warning       string // Warning header, raw
	ContentType   string
	ContentLength int // -1 when the header is absent
	MaxForwards   int // -1 when absent

	Body  []byte
	SDP   *SDP   // parsed SDP body or SDP part of a multipart body; nil when none
	Parts []Part // parts of a multipart body; nil otherwise

	// Raw is the message exactly as it was on the wire (after reassembly).
	Raw []byte

	// scratch holds storage Parse reuses from one message to the next
	// (header, Via, part and SDP slices, the buffer folded header values
	// are joined in). Clone does not copy it.
	scratch *scratch
}

// Part is one part of a multipart body (RFC 2046 §5.1).
type Part struct {
	ContentType string
	Headers     []Header
	Body        []byte
}

// SDP is a session description (RFC 4566 / RFC 8866), parsed leniently.
type SDP struct {
	Origin     string // o= line, raw
	Session    string // s=
	Connection string // c= address (session level)
	Direction  string // session-level sendrecv/sendonly/recvonly/inactive ("" when absent)
	Media      []Media
	Raw        []byte
}

// Media is one m= section.
type Media struct {
	Type       string // audio, video, image, application
	Port       int
	Proto      string // RTP/AVP, RTP/SAVP, udptl, ...
	Formats    []string
	Connection string // c= address at media level, else the session's
	Direction  string // sendrecv/sendonly/recvonly/inactive; inherits session level
	RTCP       string // a=rtcp value, raw
	RTPMap     []RTPMap
	Crypto     []string // a=crypto values, raw
}

// RTPMap is one a=rtpmap attribute.
type RTPMap struct {
	Payload  int
	Encoding string // e.g. PCMU
	Clock    int
	Params   string
}

// Warning is a set of leniencies applied while parsing; each names the rule
// it bent (see the constants).
type Warning uint32

// Event is something other than a SIP message that the capture says about a
// SIP message, such as an ICMP error quoting a request (the reason a request
// never got an answer).
type Event struct {
	Time     time.Time
	File     string
	Frame    int64
	Kind     string         // e.g. "icmp"
	Detail   string         // e.g. "destination unreachable: port unreachable"
	From     netip.Addr     // who sent the error
	Src, Dst netip.AddrPort // addresses of the quoted datagram
	// What could be read of the quoted SIP message (may be cut short).
	CallID     string
	CSeq       uint32
	CSeqMethod string
	Method     string
}
