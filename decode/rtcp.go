package decode

import "encoding/binary"

// RTCP packet types (RFC 3550 §12.1, RFC 3611 §2).
const (
	RTCPSR   = 200
	RTCPRR   = 201
	RTCPSDES = 202
	RTCPBYE  = 203
	RTCPAPP  = 204
	RTCPXR   = 207
)

// Bounds on what one compound packet may fill in (the storage is reused).
const (
	maxRTCPBlocks = 64
	maxRTCPSR     = 16
)

// RTCP is what sipscope reads of one compound RTCP packet (RFC 3550 §6):
// the sender reports, every reception report block (of SRs and RRs) and
// the RFC 3611 VoIP metrics blocks of XR packets. Other packets (SDES,
// BYE, APP, feedback) are counted only.
//
// Why not pion/rtcp: Unmarshal returns a slice of interface values, one
// allocation per packet and per report; ParseRTCP reuses r's slices, so a
// caller that keeps one RTCP value allocates nothing in the steady state.
type RTCP struct {
	SR      []SenderReport
	Blocks  []ReportBlock
	VoIP    []XRVoIP
	Packets int // RTCP packets in the compound packet
	RRs     int // RR packets
	XRs     int // XR packets
	Other   int // SDES, BYE, APP, feedback and unknown packets
}

// SenderReport is the sender info of an SR (RFC 3550 §6.4.1).
type SenderReport struct {
	SSRC    uint32 // the sender
	NTP     uint64 // NTP timestamp, 32.32 fixed point
	RTPTime uint32
	Packets uint32 // sender's packet count
	Octets  uint32 // sender's octet count
}

// ReportBlock is one reception report block (RFC 3550 §6.4.1): what
// Reporter received of the source SSRC.
type ReportBlock struct {
	Reporter       uint32 // SSRC of the SR or RR packet's sender
	SSRC           uint32 // the source the report is about
	FractionLost   uint8  // fixed point, /256, since the previous report
	CumulativeLost int32  // 24-bit signed
	HighestSeq     uint32 // extended highest sequence number received
	Jitter         uint32 // interarrival jitter, timestamp units
	LSR, DLSR      uint32 // last SR (middle 32 bits of its NTP), delay since it (1/65536 s)
}

// XRVoIP is an RFC 3611 §4.7 VoIP Metrics Report Block.
type XRVoIP struct {
	Reporter    uint32
	SSRC        uint32
	LossRate    uint8 // fraction lost, /256
	DiscardRate uint8 // fraction discarded (late), /256
	RoundTrip   uint16
	EndSystem   uint16 // ms
	RFactor     uint8  // 127 unavailable
	MOSLQ       uint8  // MOS x10, 127 unavailable
	MOSCQ       uint8
	JBNominal   uint16 // ms
}

// ParseRTCP parses the compound RTCP packet b into r, resetting r but
// keeping the capacity of its slices. A packet cut short ends the parse
// with ErrTruncated; what came before it is kept in r.
func ParseRTCP(b []byte, r *RTCP) error {
	*r = RTCP{SR: r.SR[:0], Blocks: r.Blocks[:0], VoIP: r.VoIP[:0]}
	if !IsRTCP(b) {
		return ErrNotRTP
	}
	for len(b) > 0 {
		if len(b) < 4 || b[0]>>6 != 2 {
			return ErrTruncated
		}
		// RFC 3550 §6.4.1: length in 32-bit words minus one.
		n := 4 * (int(binary.BigEndian.Uint16(b[2:])) + 1)
		if n > len(b) {
			return ErrTruncated
		}
		p := b[:n]
		b = b[n:]
		r.Packets++
		count := int(p[0] & 0x1f)
		switch p[1] {
		case RTCPSR:
			if len(p) < 28 {
				return ErrTruncated
			}
			ssrc := binary.BigEndian.Uint32(p[4:])
			if len(r.SR) < maxRTCPSR {
				r.SR = append(r.SR, SenderReport{
					SSRC: ssrc, NTP: binary.BigEndian.Uint64(p[8:]), RTPTime: binary.BigEndian.Uint32(p[16:]),
					Packets: binary.BigEndian.Uint32(p[20:]), Octets: binary.BigEndian.Uint32(p[24:]),
				})
			}
			r.blocks(ssrc, p[28:], count)
		case RTCPRR:
			if len(p) < 8 {
				return ErrTruncated
			}
			r.RRs++
			r.blocks(binary.BigEndian.Uint32(p[4:]), p[8:], count)
		case RTCPXR:
			if len(p) < 8 {
				return ErrTruncated
			}
			r.XRs++
			r.xr(binary.BigEndian.Uint32(p[4:]), p[8:])
		default:
			r.Other++
		}
	}
	return nil
}

// blocks reads count report blocks of 24 bytes from b.
func (r *RTCP) blocks(reporter uint32, b []byte, count int) {
	for i := 0; i < count && len(b) >= 24 && len(r.Blocks) < maxRTCPBlocks; i++ {
		cum := int32(binary.BigEndian.Uint32(b[4:])<<8) >> 8 // sign-extend 24 bits
		r.Blocks = append(r.Blocks, ReportBlock{
			Reporter: reporter, SSRC: binary.BigEndian.Uint32(b),
			FractionLost: b[4], CumulativeLost: cum,
			HighestSeq: binary.BigEndian.Uint32(b[8:]), Jitter: binary.BigEndian.Uint32(b[12:]),
			LSR: binary.BigEndian.Uint32(b[16:]), DLSR: binary.BigEndian.Uint32(b[20:]),
		})
		b = b[24:]
	}
}

// xr reads the report blocks of an XR packet (RFC 3611 §3), keeping the
// VoIP metrics blocks (type 7, 36 bytes with its header).
func (r *RTCP) xr(reporter uint32, b []byte) {
	for len(b) >= 4 {
		bt := b[0]
		n := 4 * (int(binary.BigEndian.Uint16(b[2:])) + 1)
		if n > len(b) {
			return
		}
		if bt == 7 && n >= 36 && len(r.VoIP) < maxRTCPBlocks {
			v := b[4:]
			r.VoIP = append(r.VoIP, XRVoIP{
				Reporter: reporter, SSRC: binary.BigEndian.Uint32(v),
				LossRate: v[4], DiscardRate: v[5],
				RoundTrip: binary.BigEndian.Uint16(v[12:]), EndSystem: binary.BigEndian.Uint16(v[14:]),
				RFactor: v[20], MOSLQ: v[22], MOSCQ: v[23],
				JBNominal: binary.BigEndian.Uint16(v[26:]),
			})
		}
		b = b[n:]
	}
}
