package decode

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// stHEP3 builds a HEP3 packet from generic chunks (type, value).
func stHEP3(chunks ...any) []byte {
	b := []byte("HEP3\x00\x00")
	for i := 0; i+1 < len(chunks); i += 2 {
		typ := chunks[i].(int)
		var v []byte
		switch x := chunks[i+1].(type) {
		case uint8:
			v = []byte{x}
		case uint16:
			v = binary.BigEndian.AppendUint16(nil, x)
		case uint32:
			v = binary.BigEndian.AppendUint32(nil, x)
		case string:
			v = []byte(x)
		case []byte:
			v = x
		}
		b = binary.BigEndian.AppendUint16(b, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(typ))
		b = binary.BigEndian.AppendUint16(b, uint16(6+len(v)))
		b = append(b, v...)
	}
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)))
	return b
}

func stHEP3SIP(proto uint8, protoType uint8, payloadType int, payload []byte) []byte {
	return stHEP3(
		hepFamily, uint8(2), hepProto, proto,
		hepSrc4, []byte{192, 168, 1, 1}, hepDst4, []byte{192, 168, 1, 2},
		hepSport, uint16(5060), hepDport, uint16(5080),
		hepSec, uint32(1700000000), hepUsec, uint32(123456),
		hepProtoType, protoType, hepAgentID, uint32(2001),
		hepNodeName, "node-a", hepCorrelation, "corr",
		payloadType, payload)
}

// stHEP12 builds a HEP v1 or v2 IPv4 packet.
func stHEP12(version byte, payload string) []byte {
	b := []byte{version, 16, 2, 17, 0x13, 0xc4, 0x13, 0xc5, 10, 1, 1, 1, 10, 1, 1, 2}
	if version == 2 {
		b[1] = 28
		b = binary.LittleEndian.AppendUint32(b, 1700000000)
		b = binary.LittleEndian.AppendUint32(b, 500000)
		b = binary.LittleEndian.AppendUint16(b, 7)
		b = append(b, 0, 0)
	}
	return append(b, payload...)
}

func stZip(kind string, b []byte) []byte {
	var buf bytes.Buffer
	switch kind {
	case "gzip":
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
	case "zlib":
		w := zlib.NewWriter(&buf)
		w.Write(b)
		w.Close()
	case "deflate":
		w, _ := flate.NewWriter(&buf, flate.BestCompression)
		w.Write(b)
		w.Close()
	}
	return buf.Bytes()
}

func TestHEP(t *testing.T) {
	sip := stSIP("INVITE", 1, 20)
	wantTime := time.Unix(1700000000, 123456000).UTC()
	tests := []struct {
		name     string
		b        []byte
		isHEP    bool
		want     string
		tr       Transport
		version  int
		path     string
		at       time.Time
		agent    uint32
		nodeName string
	}{
		{"hep3", stHEP3SIP(17, 1, hepPayload, []byte(sip)), true, sip, UDP, 3, "hep3", wantTime, 2001, "node-a"},
		{"hep3 tcp", stHEP3SIP(6, 1, hepPayload, []byte(sip)), true, sip, TCP, 3, "hep3", wantTime, 2001, "node-a"},
		{"hep3 tls", stHEP3SIP(22, 1, hepPayload, []byte(sip)), true, sip, TLS, 3, "hep3", wantTime, 2001, "node-a"},
		{"hep3 gzip", stHEP3SIP(17, 1, hepCompressed, stZip("gzip", []byte(sip))), true, sip, UDP, 3, "hep3", wantTime, 2001, "node-a"},
		{"hep3 zlib", stHEP3SIP(132, 1, hepCompressed, stZip("zlib", []byte(sip))), true, sip, SCTP, 3, "hep3", wantTime, 2001, "node-a"},
		{"hep3 deflate", stHEP3SIP(17, 1, hepCompressed, stZip("deflate", []byte(sip))), true, sip, UDP, 3, "hep3", wantTime, 2001, "node-a"},
		{"hep3 rtcp", stHEP3SIP(17, 5, hepPayload, []byte("{\"json\":1}")), true, "", "", 0, "", time.Time{}, 0, ""},
		{"hep3 zip bomb", stHEP3SIP(17, 1, hepCompressed, stZip("gzip", append([]byte(sip), make([]byte, 1<<20)...))), true, "", "", 0, "", time.Time{}, 0, ""},
		{"hep3 broken chunk", []byte("HEP3\x00\x0c\x00\x00\x00\x0f\x00\x09"), true, "", "", 0, "", time.Time{}, 0, ""},
		{"hep1", stHEP12(1, sip), true, sip, UDP, 1, "hep1", time.Time{}, 0, ""},
		{"hep2", stHEP12(2, sip), true, sip, UDP, 2, "hep2", time.Unix(1700000000, 500000000).UTC(), 7, ""},
		{"sip", []byte(sip), false, "", "", 0, "", time.Time{}, 0, ""},
		{"rtp", []byte{0x80, 0x00, 0x12, 0x34, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4}, false, "", "", 0, "", time.Time{}, 0, ""},
		{"stun", []byte{0x01, 0x01, 0x00, 0x0c, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8}, false, "", "", 0, "", time.Time{}, 0, ""},
		{"hep1 lookalike not SIP", stHEP12(1, "\x80\x00 rtp"), false, "", "", 0, "", time.Time{}, 0, ""},
		{"HEP3 magic with bad length", []byte("HEP3\xff\xff"), false, "", "", 0, "", time.Time{}, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := stRecord(t)
			var path string
			emit := emitHook
			d := stDecoder(Options{MaxMessage: 64 << 10})
			emitHook = func(tr Transport, src, dst netip.AddrPort, raw []byte, frames []FrameRef, at time.Time, hep *HEPInfo) {
				path = d.path()
				emit(tr, src, dst, raw, frames, at, hep)
			}
			p := stPkt(1, stA, stB, tc.b)
			if is := d.onHEP(p, 40000, 9060, tc.b); is != tc.isHEP {
				t.Fatalf("onHEP = %v, want %v", is, tc.isHEP)
			}
			if tc.want == "" {
				if len(*got) != 0 {
					t.Fatalf("got %d messages, want none", len(*got))
				}
				return
			}
			if len(*got) != 1 {
				t.Fatalf("got %d messages, want 1 (stats %+v)", len(*got), d.Stats())
			}
			m := (*got)[0]
			if m.raw != tc.want || m.tr != tc.tr || path != tc.path {
				t.Errorf("got %s %s %.30q, want %s %s %.30q", m.tr, path, m.raw, tc.tr, tc.path, tc.want)
			}
			if tc.at.IsZero() {
				tc.at = p.time
			}
			if !m.at.Equal(tc.at) {
				t.Errorf("got time %v, want %v", m.at, tc.at)
			}
			h := m.hep
			if h == nil || h.Version != tc.version || h.AgentID != tc.agent || h.AgentName != tc.nodeName || h.Proto != 1 ||
				h.CollectorSrc != netip.AddrPortFrom(stA, 40000) || h.CollectorDst != netip.AddrPortFrom(stB, 9060) {
				t.Errorf("got HEPInfo %+v", h)
			}
			wantSrc := "192.168.1.1:5060"
			if tc.version < 3 {
				wantSrc = "10.1.1.1:5060"
			}
			if m.src.String() != wantSrc {
				t.Errorf("got src %v, want %s", m.src, wantSrc)
			}
		})
	}
}

func TestHEPCorpus(t *testing.T) {
	tests := []struct {
		file string
		want int
		hep  int64
	}{
		{"hep-wireshark/hep.pcap", 6, 8},
		{"hep-wireshark/hep3_compressed.pcapng", 21, 21},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := stCorpus(t, tc.file)
			got := stRecord(t)
			d := stDecoder(Options{})
			stFeed(t, d, path)
			if len(*got) != tc.want || d.Stats().HEPPackets != tc.hep {
				t.Errorf("got %d messages, %d HEP packets; want %d, %d (stats %+v)", len(*got), d.Stats().HEPPackets, tc.want, tc.hep, d.Stats())
			}
			for _, m := range *got {
				if m.hep == nil || m.hep.Version != 3 || !isSIPStart([]byte(m.raw)) || m.at.IsZero() {
					t.Errorf("bad message %+v %.40q", m.hep, m.raw)
				}
			}
			if len(*got) > 0 && !strings.HasPrefix((*got)[0].raw, "INVITE ") && !strings.HasPrefix((*got)[0].raw, "REGISTER ") {
				t.Errorf("first message %.40q", (*got)[0].raw)
			}
		})
	}
}
