package decode

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"time"
)

// Datagram is a UDP payload that is not SIP, HEP or a tunnel and looks like
// RTP or RTCP (RFC 3550 version 2): the decoder hands it to a Handler that
// also implements DatagramHandler, for the media tracker to classify. It
// aliases decoder buffers and is valid only during the call.
type Datagram struct {
	Time     time.Time
	Src, Dst netip.AddrPort
	Payload  []byte
	// Frames are the frames that carried it (several after IP
	// reassembly); their Data aliases decoder buffers.
	Frames []FrameRef
}

// DatagramHandler is implemented by a Handler that wants the candidate RTP
// and RTCP datagrams too. Decoding them costs a Handler that does not
// implement it nothing.
type DatagramHandler interface {
	Datagram(dg *Datagram)
}

// ErrNotRTP means the bytes are not an RTP or RTCP packet (version not 2,
// too short for the header they announce).
var ErrNotRTP = errors.New("not RTP")

// RTP is the fixed header of an RTP packet (RFC 3550 §5.1).
//
// Why not pion/rtp: Header.Unmarshal allocates the CSRC list and the
// extensions for every packet, and this runs for every RTP packet of a
// capture (most of its frames, on a media capture); the media statistics
// need only the fixed header and the payload's place. ParseRTP allocates
// nothing.
type RTP struct {
	Padding     bool
	Extension   bool
	Marker      bool
	CSRCCount   int
	PayloadType uint8
	Seq         uint16
	Timestamp   uint32
	SSRC        uint32
	// Payload aliases the parsed bytes: after the CSRC list and header
	// extension (RFC 3550 §5.3.1), without the padding (§5.1 P bit).
	Payload []byte
}

// IsRTCP reports whether b looks like RTCP rather than RTP: version 2 and
// a second byte in 192-223, the range RFC 5761 §4 reserves so that RTP and
// RTCP can share a port (rtcp-mux); every RTCP packet type (SR 200 ...
// XR 207, and the older FIR/NACK 192/193) falls in it.
func IsRTCP(b []byte) bool {
	return len(b) >= 8 && b[0]>>6 == 2 && b[1] >= 192 && b[1] <= 223
}

// LooksRTP reports whether b may be RTP or RTCP: version 2 and at least
// an RTCP header. It is the decoder's cheap first test.
func LooksRTP(b []byte) bool { return len(b) >= 8 && b[0]>>6 == 2 }

// ParseRTP parses the RTP packet b into r, resetting all of r. r.Payload
// aliases b.
func ParseRTP(b []byte, r *RTP) error {
	*r = RTP{}
	if len(b) < 12 || b[0]>>6 != 2 {
		return ErrNotRTP
	}
	r.Padding = b[0]&0x20 != 0
	r.Extension = b[0]&0x10 != 0
	r.CSRCCount = int(b[0] & 0x0f)
	r.Marker = b[1]&0x80 != 0
	r.PayloadType = b[1] & 0x7f
	r.Seq = binary.BigEndian.Uint16(b[2:])
	r.Timestamp = binary.BigEndian.Uint32(b[4:])
	r.SSRC = binary.BigEndian.Uint32(b[8:])
	n := 12 + 4*r.CSRCCount
	if len(b) < n {
		return ErrTruncated
	}
	if r.Extension {
		// RFC 3550 §5.3.1: 16-bit profile, 16-bit length in words.
		if len(b) < n+4 {
			return ErrTruncated
		}
		n += 4 + 4*int(binary.BigEndian.Uint16(b[n+2:]))
		if len(b) < n {
			return ErrTruncated
		}
	}
	end := len(b)
	if r.Padding {
		// RFC 3550 §5.1: the last octet counts the padding, itself
		// included.
		p := int(b[end-1])
		if p == 0 || end-p < n {
			return ErrTruncated
		}
		end -= p
	}
	r.Payload = b[n:end]
	return nil
}
