package decode

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// FuzzTCPStream splits a valid SIP stream into random segments, delivers
// them reordered and partly duplicated, and checks that the same messages
// come out as from one in-order segment.
func FuzzTCPStream(f *testing.F) {
	f.Add(stSIP("INVITE", 1, 100)+"\r\n\r\n"+stSIP("ACK", 2, 0)+stSIP("BYE", 3, 7), uint64(1))
	f.Add("SIP/2.0 200 OK\r\nl: 3\r\n\r\nabc"+stSIP("OPTIONS", 9, 0), uint64(42))
	f.Fuzz(func(t *testing.T, stream string, seed uint64) {
		if len(stream) == 0 || len(stream) > 1<<16 {
			return
		}
		run := func(segs [][2]int) []string {
			var out []string
			emitHook = func(_ Transport, _, _ netip.AddrPort, raw []byte, _ []FrameRef, _ time.Time, _ *HEPInfo) {
				out = append(out, string(raw))
			}
			defer func() { emitHook = nil }()
			d := stDecoder(Options{})
			d.onTCP(stPkt(1, stA, stB, nil), stSeg(1, 5060, 0, stSYN, ""))
			for i, s := range segs {
				b := stSeg(1, 5060, uint32(1+s[0]), stACK, stream[s[0]:s[1]])
				d.onTCP(stPkt(int64(i+2), stA, stB, b), b)
			}
			d.Flush()
			if d.Stats().TCPGaps != 0 {
				t.Fatalf("gap in a complete stream: %+v", segs)
			}
			return out
		}
		want := run([][2]int{{0, len(stream)}})

		r := rand.New(rand.NewPCG(seed, seed>>7))
		var segs [][2]int
		for at := 0; at < len(stream); {
			n := 1 + r.IntN(200)
			if at+n > len(stream) {
				n = len(stream) - at
			}
			segs = append(segs, [2]int{at, at + n})
			at += n
		}
		// Reorder within a window and retransmit some, overlapping.
		for i := range segs {
			j := i + r.IntN(4)
			if j < len(segs) {
				segs[i], segs[j] = segs[j], segs[i]
			}
		}
		for i := 0; i < len(segs)/3; i++ {
			s := segs[r.IntN(len(segs))]
			if s[1]-s[0] > 2 {
				s[0]++ // an overlapping piece
			}
			segs = append(segs, s)
		}
		got := run(segs)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}

// FuzzTCPSegments feeds arbitrary bytes as TCP segments: no panic, bounded
// state.
func FuzzTCPSegments(f *testing.F) {
	f.Add(stSeg(1, 5060, 0, stSYN, ""), stSeg(1, 5060, 1, stACK, stSIP("INVITE", 1, 3)))
	f.Add(stSeg(1, 80, 0, stACK, stWSReq), stSeg(1, 80, uint32(len(stWSReq)), stACK, stWSFrame(true, 1, true, false, "SIP/2.0 200 OK\r\n\r\n")))
	var prev []byte
	stSeeds(f, "heplify/sip_ipv4_tcp_fragmented.pcap", func(sp stPacket) {
		if sp.proto == 6 && len(sp.l4) > 20 && sp.p.frame.Number < 60 {
			if prev != nil {
				f.Add(prev, sp.l4)
			}
			prev = sp.l4
		}
	})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		d := stDecoder(Options{MaxTCPBuffer: 4096, MaxMessage: 4096})
		for i, s := range [][]byte{a, b, a, b} {
			d.onTCP(stPkt(int64(i+1), stA, stB, s), s)
		}
		d.Flush()
		if len(d.tcp.streams) != 0 {
			t.Fatal("streams left after Flush")
		}
	})
}

// FuzzWebSocket decodes arbitrary bytes as the frames after an upgrade.
func FuzzWebSocket(f *testing.F) {
	f.Add([]byte(stWSFrame(true, wsText, true, false, stSIP("INVITE", 1, 10))), uint8(7))
	f.Add([]byte(stWSFrame(false, wsText, false, false, "SIP/2.0 ")+stWSFrame(true, 0, false, true, "200 OK\r\n\r\n")), uint8(3))
	f.Fuzz(func(t *testing.T, frames []byte, split uint8) {
		d := stDecoder(Options{MaxMessage: 8192})
		seq := uint32(1)
		send := func(b []byte) {
			s := stSeg(1, 8080, seq, stACK, string(b))
			d.onTCP(stPkt(int64(seq), stA, stB, s), s)
			seq += uint32(len(b))
		}
		send([]byte(stWSReq))
		k := int(split)
		if k > len(frames) {
			k = len(frames)
		}
		send(frames[:k])
		send(frames[k:])
		d.Flush()
	})
}

// FuzzSCTP decodes arbitrary SCTP packets.
func FuzzSCTP(f *testing.F) {
	f.Add(stSCTP(stChunk(3, 1, 0, stSIP("INVITE", 1, 3))))
	f.Add(stSCTP(stChunk(2, 1, 0, "INVITE sip:a SIP/2.0\r\n"), stChunk(1, 2, 0, "\r\n")))
	stSeeds(f, "heplify/sip_sctp.pcap", func(sp stPacket) {
		if sp.proto == 132 {
			f.Add(sp.l4)
		}
	})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := stDecoder(Options{MaxTCPBuffer: 4096})
		d.onSCTP(stPkt(1, stA, stB, b), b)
		d.onSCTP(stPkt(2, stA, stB, b), b)
		d.Flush()
	})
}

// FuzzHEP decodes arbitrary bytes as HEP.
func FuzzHEP(f *testing.F) {
	sip := []byte(stSIP("INVITE", 1, 20))
	f.Add(stHEP3SIP(17, 1, hepPayload, sip))
	f.Add(stHEP3SIP(17, 1, hepCompressed, stZip("gzip", sip)))
	f.Add(stHEP3SIP(17, 1, hepCompressed, stZip("zlib", sip)))
	f.Add(stHEP12(1, string(sip)))
	f.Add(stHEP12(2, string(sip)))
	for _, name := range []string{"hep-wireshark/hep.pcap", "hep-wireshark/hep3_compressed.pcapng"} {
		stSeeds(f, name, func(sp stPacket) {
			if sp.hasPorts {
				f.Add(sp.l4)
			}
		})
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d := stDecoder(Options{MaxMessage: 4096})
		d.onHEP(stPkt(1, stA, stB, b), 1, 9060, b)
	})
}

// stSeeds reads packets of a corpus capture for seeding, doing nothing
// when the corpus is absent.
func stSeeds(f *testing.F, name string, fn func(sp stPacket)) {
	p := filepath.Join("..", "..", "shared", "corpus", name)
	if _, err := os.Stat(p); err != nil {
		return
	}
	stReadCapture(f, p, fn)
}
