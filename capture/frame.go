package capture

import (
	"io"
	"time"
)

// LinkType is a pcap LINKTYPE_ value (https://www.tcpdump.org/linktypes.html).
// It is a plain integer so that the domain types stay free of gopacket types.
type LinkType uint16

// Link types sipscope decodes.
const (
	LinkNull      LinkType = 0   // BSD loopback: 4-byte host-order address family
	LinkEthernet  LinkType = 1   // Ethernet II
	LinkPPP       LinkType = 9   // PPP
	LinkRaw       LinkType = 101 // raw IPv4 or IPv6
	LinkLoop      LinkType = 108 // OpenBSD loopback: 4-byte network-order address family
	LinkLinuxSLL  LinkType = 113 // Linux cooked capture v1
	LinkIPv4      LinkType = 228 // raw IPv4
	LinkIPv6      LinkType = 229 // raw IPv6
	LinkLinuxSLL2 LinkType = 276 // Linux cooked capture v2
)

// Frame is one captured packet as read from a file or an interface.
//
// Data aliases the reader's buffer: it is valid only until the next call to
// Source.Next. A stage that keeps the bytes copies them.
type Frame struct {
	Source  int       // index of the input in the list given to Open (0-based)
	File    string    // the input's name as the user gave it ("-" for standard input)
	Number  int64     // 1-based frame number within that input
	Time    time.Time // capture time, UTC
	Link    LinkType  // link type of Data
	Data    []byte    // captured bytes (may be shorter than OrigLen)
	OrigLen int       // length on the wire
}

// Source yields frames in capture order. Next returns io.EOF at the end of
// all inputs. A Source is not safe for concurrent use.
type Source interface {
	// Next fills f with the next frame. The previous frame's Data is
	// invalidated.
	Next(f *Frame) error
	// Warnings returns problems met so far that did not stop reading
	// (a capture cut short, a damaged block), each naming its file.
	Warnings() []string
	io.Closer
}
