package decode

import (
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
)

// rtpPacket builds an RTP packet by hand (RFC 3550 §5.1).
func rtpPacket(pt uint8, marker bool, seq uint16, ts, ssrc uint32, csrc int, ext []byte, payload []byte, pad int) []byte {
	b := make([]byte, 12, 64)
	b[0] = 2<<6 | byte(csrc)
	if len(ext) > 0 {
		b[0] |= 0x10
	}
	if pad > 0 {
		b[0] |= 0x20
	}
	b[1] = pt
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	for i := 0; i < csrc; i++ {
		b = binary.BigEndian.AppendUint32(b, uint32(i+1))
	}
	if len(ext) > 0 {
		b = append(b, 0xbe, 0xde)
		b = binary.BigEndian.AppendUint16(b, uint16(len(ext)/4))
		b = append(b, ext...)
	}
	b = append(b, payload...)
	for i := 1; i < pad; i++ {
		b = append(b, 0)
	}
	if pad > 0 {
		b = append(b, byte(pad))
	}
	return b
}

func TestParseRTP(t *testing.T) {
	tests := []struct {
		name    string
		b       []byte
		want    RTP
		payload string
		err     error
	}{
		{"plain", rtpPacket(8, false, 1000, 160, 0xDEE0EE8F, 0, nil, []byte("abcd"), 0),
			RTP{PayloadType: 8, Seq: 1000, Timestamp: 160, SSRC: 0xDEE0EE8F}, "abcd", nil},
		{"marker, CSRC, extension, padding", rtpPacket(101, true, 65535, 1, 7, 2, []byte{1, 2, 3, 4}, []byte("xy"), 3),
			RTP{PayloadType: 101, Marker: true, Seq: 65535, Timestamp: 1, SSRC: 7, CSRCCount: 2, Extension: true, Padding: true}, "xy", nil},
		{"version 1", append([]byte{1 << 6}, make([]byte, 11)...), RTP{}, "", ErrNotRTP},
		{"short", []byte{0x80, 8, 0, 1}, RTP{}, "", ErrNotRTP},
		{"CSRC beyond the end", rtpPacket(0, false, 1, 1, 1, 0, nil, nil, 0)[:12:12], RTP{}, "", nil},
		{"padding longer than the packet", append(rtpPacket(0, false, 1, 1, 1, 0, nil, nil, 0), 200), RTP{}, "", ErrTruncated},
	}
	tests[4].b = append([]byte{}, tests[4].b...)
	tests[4].b[0] |= 3 // three CSRCs announced, none there
	tests[4].err = ErrTruncated
	tests[5].b[0] |= 0x20 // the P bit, so the last octet (200) counts padding
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r RTP
			err := ParseRTP(tc.b, &r)
			if !errors.Is(err, tc.err) {
				t.Fatalf("got error %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			got := r
			got.Payload = nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if string(r.Payload) != tc.payload {
				t.Errorf("payload: got %q, want %q", r.Payload, tc.payload)
			}
		})
	}
}

// rtcpRR builds an RR from reporter with one report block about ssrc.
func rtcpRR(reporter, ssrc uint32, fraction uint8, cum int32, jitter uint32) []byte {
	b := []byte{2<<6 | 1, RTCPRR, 0, 7}
	b = binary.BigEndian.AppendUint32(b, reporter)
	b = binary.BigEndian.AppendUint32(b, ssrc)
	b = binary.BigEndian.AppendUint32(b, uint32(fraction)<<24|uint32(cum)&0xffffff)
	b = binary.BigEndian.AppendUint32(b, 70000)
	b = binary.BigEndian.AppendUint32(b, jitter)
	b = binary.BigEndian.AppendUint32(b, 0x11112222)
	b = binary.BigEndian.AppendUint32(b, 65536)
	return b
}

func TestParseRTCP(t *testing.T) {
	// A compound packet: RR with a block (cumulative lost -3: duplicates),
	// SDES, then an XR with a VoIP metrics block (RFC 3611 §4.7).
	b := rtcpRR(0xAAAA, 0xBBBB, 64, -3, 80)
	b = append(b, 2<<6|1, RTCPSDES, 0, 1, 0, 0, 0, 1)
	xr := []byte{2 << 6, RTCPXR, 0, 10}
	xr = binary.BigEndian.AppendUint32(xr, 0xAAAA)
	blk := make([]byte, 36)
	blk[0], blk[3] = 7, 8
	binary.BigEndian.PutUint32(blk[4:], 0xBBBB)
	blk[8], blk[9] = 13, 2 // loss, discard /256
	binary.BigEndian.PutUint16(blk[16:], 42)
	blk[24], blk[26], blk[27] = 88, 41, 39
	binary.BigEndian.PutUint16(blk[30:], 60)
	b = append(b, append(xr, blk...)...)

	var r RTCP
	if err := ParseRTCP(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.Packets != 3 || r.RRs != 1 || r.XRs != 1 || r.Other != 1 {
		t.Errorf("got %d packets (%d RR, %d XR, %d other), want 3 (1, 1, 1)", r.Packets, r.RRs, r.XRs, r.Other)
	}
	if len(r.Blocks) != 1 {
		t.Fatalf("got %d report blocks, want 1", len(r.Blocks))
	}
	want := ReportBlock{Reporter: 0xAAAA, SSRC: 0xBBBB, FractionLost: 64, CumulativeLost: -3, HighestSeq: 70000, Jitter: 80, LSR: 0x11112222, DLSR: 65536}
	if r.Blocks[0] != want {
		t.Errorf("got %+v, want %+v", r.Blocks[0], want)
	}
	wantXR := XRVoIP{Reporter: 0xAAAA, SSRC: 0xBBBB, LossRate: 13, DiscardRate: 2, RoundTrip: 42, RFactor: 88, MOSLQ: 41, MOSCQ: 39, JBNominal: 60}
	if len(r.VoIP) != 1 || r.VoIP[0] != wantXR {
		t.Errorf("got XR %+v, want [%+v]", r.VoIP, wantXR)
	}
	// Parsing again into the same value gives the same (reset, not appended).
	if err := ParseRTCP(b, &r); err != nil || len(r.Blocks) != 1 || len(r.VoIP) != 1 {
		t.Errorf("second parse: %v, %d blocks, %d XR; want 1 and 1", err, len(r.Blocks), len(r.VoIP))
	}
	// Cut short: the RR is kept, the error says truncated.
	if err := ParseRTCP(b[:len(b)-4], &r); !errors.Is(err, ErrTruncated) || len(r.Blocks) != 1 {
		t.Errorf("cut: got %v with %d blocks, want ErrTruncated with 1", err, len(r.Blocks))
	}
	if IsRTCP(rtpPacket(8, true, 1, 1, 1, 0, nil, nil, 0)) {
		t.Error("IsRTCP: PCMA with marker taken for RTCP")
	}
}

// TestRTPAllocs: the parsers run per packet and allocate nothing once the
// RTCP value's slices have grown.
func TestRTPAllocs(t *testing.T) {
	p := rtpPacket(8, false, 1, 160, 1, 0, nil, make([]byte, 160), 0)
	c := rtcpRR(1, 2, 0, 0, 0)
	var r RTP
	var rc RTCP
	ParseRTCP(c, &rc)
	if n := testing.AllocsPerRun(1000, func() {
		ParseRTP(p, &r)
		ParseRTCP(c, &rc)
	}); n != 0 {
		t.Errorf("got %v allocations per packet, want 0", n)
	}
}

func FuzzParseRTP(f *testing.F) {
	f.Add(rtpPacket(8, false, 1000, 160, 0xDEE0EE8F, 0, nil, []byte("abcd"), 0))
	f.Add(rtpPacket(101, true, 65535, 1, 7, 2, []byte{1, 2, 3, 4}, []byte("xy"), 3))
	f.Add(rtcpRR(1, 2, 3, -4, 5))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r RTP
		if ParseRTP(b, &r) == nil && len(r.Payload) > len(b) {
			t.Fatalf("payload of %d bytes from %d", len(r.Payload), len(b))
		}
		var rc RTCP
		ParseRTCP(b, &rc)
		if len(rc.Blocks) > maxRTCPBlocks || len(rc.SR) > maxRTCPSR {
			t.Fatal("bounds exceeded")
		}
	})
}
