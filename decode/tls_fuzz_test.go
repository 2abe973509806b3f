package decode

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// tlsSeedStreams returns the two directions' TCP payloads of a capture of
// testdata/tls (one connection each), client first.
func tlsSeedStreams(t testing.TB, path string) (client, server []byte) {
	stReadCapture(t, path, func(sp stPacket) {
		if sp.proto != layers.IPProtocolTCP || len(sp.l4) < 20 {
			return
		}
		payload := sp.l4[int(sp.l4[12]>>4)*4:]
		if sp.l4[2] == 5061>>8 && sp.l4[3] == 5061&0xff {
			client = append(client, payload...)
		} else {
			server = append(server, payload...)
		}
	})
	return client, server
}

// tlsFuzzKeys holds the key logs of every capture in testdata/tls, so that
// the seeds decrypt and the fuzzer mutates records that get that far.
func tlsFuzzKeys(t testing.TB) *KeyLog {
	k := NewKeyLog()
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "tls", "*.keys"))
	for _, f := range files {
		one, err := ReadKeyLogFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for cr, s := range one.m {
			k.m[cr] = s
		}
	}
	return k
}

// runTLSStreams feeds two directions of a TLS connection to a decoder in
// segments of at most seg bytes, alternating between the directions, and
// returns the messages decoded.
func runTLSStreams(keys *KeyLog, client, server []byte, seg int) ([]stMsg, Stats) {
	var out []stMsg
	emitHook = func(tr Transport, src, dst netip.AddrPort, raw []byte, _ []FrameRef, _ time.Time, _ *HEPInfo) {
		out = append(out, stMsg{tr: tr, src: src, dst: dst, raw: string(raw)})
	}
	defer func() { emitHook = nil }()
	d := New(Options{Keys: keys}, stNopHandler{})
	n := int64(1)
	d.onTCP(stPkt(n, stA, stB, nil), stSeg(40000, 5061, 0, stSYN, ""))
	n++
	d.onTCP(stPkt(n, stB, stA, nil), stSeg(5061, 40000, 0, stSYN|stACK, ""))
	var co, so int
	for co < len(client) || so < len(server) {
		if co < len(client) {
			k := min(seg, len(client)-co)
			n++
			b := stSeg(40000, 5061, uint32(1+co), stACK, string(client[co:co+k]))
			d.onTCP(stPkt(n, stA, stB, b), b)
			co += k
		}
		if so < len(server) {
			k := min(seg, len(server)-so)
			n++
			b := stSeg(5061, 40000, uint32(1+so), stACK, string(server[so:so+k]))
			d.onTCP(stPkt(n, stB, stA, b), b)
			so += k
		}
	}
	d.Flush()
	return out, d.Stats()
}

// TestTLSSeedStreams delivers the two directions of real connections in
// segments of 64 bytes, 1448 bytes and whole streams, alternating between
// the directions: out of causal order (a side's records before the other
// side's hello they need), which the record layer must ride out by holding
// them. Every message of tshark's reading comes out each time. These are
// also the fuzz seeds: the fuzzer starts from streams that decrypt.
func TestTLSSeedStreams(t *testing.T) {
	keys := tlsFuzzKeys(t)
	for _, name := range []string{"tls13-aes128gcm", "tls12-ecdhe-aes128gcm", "tls12-ecdhe-cbc-sha", "openssl-tls13-chacha20",
		"openssl-tls12-cbc-etm", "openssl-tls10-cbc", "openssl-tls10-cbc-mte", "wss", "tls13-hrr"} {
		base := filepath.Join("..", "testdata", "tls", name)
		c, s := tlsSeedStreams(t, base+".pcap")
		want := len(tsharkRows(t, base+".tshark.tsv"))
		for _, seg := range []int{64, 1448, 1 << 20} {
			msgs, st := runTLSStreams(keys, c, s, seg)
			if len(msgs) != want || st.TLSBadRecords != 0 || st.Encrypted != 0 {
				t.Errorf("%s in %d-byte segments: %d messages, want %d; stats %+v", name, seg, len(msgs), want, st)
			}
			for _, m := range msgs {
				if m.tr != TLS && m.tr != WSS || !isSIPStart([]byte(m.raw)) {
					t.Errorf("%s: bad message %s %.40q", name, m.tr, m.raw)
				}
			}
		}
	}
}

// FuzzTLSRecords feeds mutated TLS connections (seeded from the real
// captures of testdata/tls, with their keys) through the record layer,
// handshake parser and ciphers: nothing may panic or hang, and whatever
// comes out is a SIP message over tls or wss.
func FuzzTLSRecords(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "tls", "*.pcap"))
	for _, p := range files {
		c, s := tlsSeedStreams(f, p)
		f.Add(c, s, uint16(64))
	}
	f.Add([]byte("\x16\x03\x01\x00\x04\x01\x00\x00\x00"), []byte("\x16\x03\x03\x00\x04\x02\x00\x00\x00\x14\x03\x03\x00\x01\x01"), uint16(3))
	keys := tlsFuzzKeys(f)
	f.Fuzz(func(t *testing.T, client, server []byte, seg uint16) {
		if len(client)+len(server) > 1<<15 {
			return
		}
		// Segments of at least 16 bytes: smaller ones only make the TCP
		// layer slow (it keeps a frame per segment), not the TLS layer
		// different (TestTLSSeedStreams and the classify wait cover them).
		msgs, st := runTLSStreams(keys, client, server, 16+int(seg%2048))
		for _, m := range msgs {
			if m.tr != TLS && m.tr != WSS {
				t.Fatalf("message over %s from a TLS stream", m.tr)
			}
			if !strings.Contains(m.raw, "SIP/2.0") {
				t.Fatalf("not SIP: %.60q", m.raw)
			}
		}
		if st.TLSDecrypted > st.TLSSessions || st.TLSNoKeys > st.TLSSessions {
			t.Fatalf("inconsistent stats %+v", st)
		}
	})
}

// FuzzKeyLog reads arbitrary key log text: lines are taken or counted as
// skipped, never a panic.
func FuzzKeyLog(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "tls", "*.keys"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("# comment\r\nCLIENT_RANDOM zz 00\n\nCLIENT_RANDOM 00 00 00\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		k := NewKeyLog()
		if err := k.Read(bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		if k.Len() > k.lines {
			t.Fatalf("%d sessions from %d lines", k.Len(), k.lines)
		}
		for _, s := range k.m {
			if s.master != nil && len(s.master) != 48 {
				t.Fatalf("master secret of %d bytes", len(s.master))
			}
		}
	})
}

// BenchmarkTLSDecrypt decodes a TLS 1.3 connection (handshake, two calls)
// delivered in 1448-byte segments: key derivation, AES-GCM and SIP framing.
func BenchmarkTLSDecrypt(b *testing.B) {
	keys := tlsFuzzKeys(b)
	c, s := tlsSeedStreams(b, filepath.Join("..", "testdata", "tls", "tls13-aes128gcm.pcap"))
	b.ReportAllocs()
	b.SetBytes(int64(len(c) + len(s)))
	for b.Loop() {
		if msgs, _ := runTLSStreams(keys, c, s, 1448); len(msgs) != 12 {
			b.Fatalf("got %d messages, want 12", len(msgs))
		}
	}
}
