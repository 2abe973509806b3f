package main

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sipscope/sipscope/decode"
)

const recordings = "/usr/share/sip-tester"

func need(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(recordings, name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s absent (apt-get install sip-tester): %v", p, err)
	}
	return p
}

type rtpHdr struct {
	seq  uint16
	ts   uint32
	ssrc uint32
	pt   byte
	t    time.Duration
	port uint16
}

func headers(t *testing.T, path string) []rtpHdr {
	t.Helper()
	_, pkts, err := readPcap(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []rtpHdr
	for _, p := range pkts {
		r, ok := rtpAt(p.data)
		if !ok {
			t.Fatalf("%s: a packet is not RTP", path)
		}
		out = append(out, rtpHdr{binary.BigEndian.Uint16(r[2:]), binary.BigEndian.Uint32(r[4:]), binary.BigEndian.Uint32(r[8:]), r[1] & 0x7f, p.ts, binary.BigEndian.Uint16(addrsOf(p.data)[10:])})
	}
	return out
}

func TestDropAndLoss(t *testing.T) {
	in := need(t, "g711a.pcap")
	out := filepath.Join(t.TempDir(), "x.pcap")
	if err := run(out, []string{in + "@1-150"}, 0, "100-104,7", 0, 1, "", "", ""); err != nil {
		t.Fatal(err)
	}
	h := headers(t, out)
	if len(h) != 144 {
		t.Fatalf("%d packets, want 150 - 6", len(h))
	}
	if h[5].seq+2 != h[6].seq {
		t.Errorf("packet 7 not dropped: seq %d then %d", h[5].seq, h[6].seq)
	}
	// Same seed, same file; another seed, another one.
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	if err := run(a, []string{in}, 10, "", 0, 3, "", "", ""); err != nil {
		t.Fatal(err)
	}
	if err := run(b, []string{in}, 10, "", 0, 3, "", "", ""); err != nil {
		t.Fatal(err)
	}
	ab, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if string(ab) != string(bb) {
		t.Error("same seed gave different files")
	}
	if n := len(headers(t, a)); n < 236*80/100 || n > 236*97/100 {
		t.Errorf("-loss 10 kept %d of 236", n)
	}
}

func TestJitterKeepsOrder(t *testing.T) {
	in := need(t, "g711a.pcap")
	out := filepath.Join(t.TempDir(), "j.pcap")
	if err := run(out, []string{in}, 0, "", 100*time.Millisecond, 5, "", "", ""); err != nil {
		t.Fatal(err)
	}
	orig, h := headers(t, in), headers(t, out)
	moved := 0
	for i := range h {
		if i > 0 && h[i].t < h[i-1].t {
			t.Fatalf("packet %d at %v before packet %d at %v", i+1, h[i].t, i, h[i-1].t)
		}
		if h[i].seq != orig[i].seq || h[i].ts != orig[i].ts {
			t.Fatalf("packet %d RTP header changed", i+1)
		}
		// Times are read relative to the first packet, itself held back
		// by up to 100 ms; keeping order can add up to one more step.
		if d := h[i].t - orig[i].t; d < -100*time.Millisecond || d > 140*time.Millisecond {
			t.Fatalf("packet %d moved by %v", i+1, d)
		} else if d > 5*time.Millisecond || d < -5*time.Millisecond {
			moved++
		}
	}
	if moved < len(h)/2 {
		t.Errorf("only %d of %d packets held back", moved, len(h))
	}
}

// TestJoin: audio, an RFC 4733 digit, audio again become one stream: the
// first file's SSRC and port, sequence numbers that follow on (the
// digit's three end copies keep one number), timestamps on one clock.
func TestJoin(t *testing.T) {
	a, d := need(t, "g711a.pcap"), need(t, "dtmf_2833_1.pcap")
	out := filepath.Join(t.TempDir(), "d.pcap")
	if err := run(out, []string{a + "@1-10", d, a + "@11-20"}, 0, "", 0, 1, "", "", ""); err != nil {
		t.Fatal(err)
	}
	h := headers(t, out)
	if len(h) != 30 {
		t.Fatalf("%d packets, want 10 + 10 + 10", len(h))
	}
	for i := range h {
		if h[i].ssrc != h[0].ssrc || h[i].port != h[0].port {
			t.Fatalf("packet %d: SSRC %#x port %d, want the first's %#x %d", i+1, h[i].ssrc, h[i].port, h[0].ssrc, h[0].port)
		}
	}
	// 10 audio (seq s..s+9), 8 event numbers (3 copies of the last), 10 audio.
	s := h[0].seq
	if h[10].seq != s+10 || h[17].seq != s+17 || h[19].seq != s+17 || h[20].seq != s+18 || h[29].seq != s+27 {
		t.Errorf("sequence numbers %d %d %d %d %d, want %d %d %d %d %d", h[10].seq-s, h[17].seq-s, h[19].seq-s, h[20].seq-s, h[29].seq-s, 10, 17, 17, 18, 27)
	}
	if h[10].pt != 101 || h[20].pt != 8 {
		t.Errorf("payload types %d, %d, want 101, 8", h[10].pt, h[20].pt)
	}
	// The RTP clock follows the capture time at 8 kHz (within a packet).
	for _, i := range []int{10, 20, 29} {
		want := int64(h[i].t-h[0].t) * 8000 / int64(time.Second)
		if got := int64(h[i].ts - h[0].ts); got < want-240 || got > want+240 {
			t.Errorf("packet %d: ts +%d, want about +%d", i+1, got, want)
		}
	}
}

func TestParseList(t *testing.T) {
	set, err := parseList("3, 10-12")
	if err != nil || len(set) != 4 || !set[3] || !set[11] {
		t.Errorf("parseList: %v %v", set, err)
	}
	for _, bad := range []string{"0", "x", "5-2"} {
		if _, err := parseList(bad); err == nil {
			t.Errorf("parseList(%q) accepted", bad)
		}
	}
}

// TestEncoders: every A-law and µ-law code decodes (decode.ALaw/ULaw) to a
// value the encoder maps back to the same code.
func TestEncoders(t *testing.T) {
	for c := 0; c < 256; c++ {
		if got := alaw(decode.ALaw(byte(c))); got != byte(c) {
			t.Errorf("A-law %#02x -> %d -> %#02x", c, decode.ALaw(byte(c)), got)
		}
		want := byte(c)
		if c == 0x7F {
			want = 0xFF // µ-law's two zeros: -0 encodes as +0
		}
		if got := ulaw(decode.ULaw(byte(c))); got != want {
			t.Errorf("µ-law %#02x -> %d -> %#02x", c, decode.ULaw(byte(c)), got)
		}
	}
}

func TestInbandTones(t *testing.T) {
	in := need(t, "g711a.pcap")
	out := filepath.Join(t.TempDir(), "i.pcap")
	if err := run(out, []string{in + "@1-20"}, 0, "", 0, 1, "5@3-4", "", ""); err != nil {
		t.Fatal(err)
	}
	_, pkts, err := readPcap(out)
	if err != nil {
		t.Fatal(err)
	}
	_, orig, _ := readPcap(in)
	r, _ := rtpAt(pkts[2].data)
	// The first sample of the tone is 0 (sin 0), the next ones follow
	// 770 + 1336 Hz.
	for k, want := range []float64{0, 8200*math.Sin(2*math.Pi*770/8000) + 8200*math.Sin(2*math.Pi*1336/8000)} {
		if got := float64(decode.ALaw(r[12+k])); math.Abs(got-want) > 0.07*math.Abs(want)+16 {
			t.Errorf("sample %d: %v, want about %v", k, got, want)
		}
	}
	if string(pkts[4].data) != string(orig[4].data) || string(pkts[1].data) != string(orig[1].data) {
		t.Error("packets outside 3-4 changed")
	}
	if _, err := parseTones("x@1-2"); err == nil {
		t.Error("parseTones accepted the key x")
	}
}

func TestULawSwitch(t *testing.T) {
	in := need(t, "g711a.pcap")
	out := filepath.Join(t.TempDir(), "u.pcap")
	if err := run(out, []string{in + "@1-10"}, 0, "", 0, 1, "", "6-10", ""); err != nil {
		t.Fatal(err)
	}
	_, pkts, _ := readPcap(out)
	_, orig, _ := readPcap(in)
	for i := range pkts {
		r, _ := rtpAt(pkts[i].data)
		o, _ := rtpAt(orig[i].data)
		wantPT := byte(8)
		if i >= 5 {
			wantPT = 0
		}
		if r[1]&0x7f != wantPT {
			t.Fatalf("packet %d: PT %d, want %d", i+1, r[1]&0x7f, wantPT)
		}
		for k := 12; k < len(r); k++ {
			a, u := decode.ALaw(o[k]), decode.ULaw(r[k])
			// µ-law steps are finer than A-law's near zero and coarser at the top: within a step.
			if d := int(a) - int(u); i >= 5 && (d > 1024 || d < -1024 || (a > -200 && a < 200 && (d > 16 || d < -16))) {
				t.Fatalf("packet %d byte %d: A-law %d became µ-law %d", i+1, k, a, u)
			}
		}
	}
}

// TestG722Relabel: -g722 turns PT 8 into 9 on the packets named, marker
// bit, sequence, timestamp and payload bytes untouched.
func TestG722Relabel(t *testing.T) {
	in := need(t, "g711a.pcap")
	out := filepath.Join(t.TempDir(), "g.pcap")
	if err := run(out, []string{in + "@1-10"}, 0, "", 0, 1, "", "", "1-10"); err != nil {
		t.Fatal(err)
	}
	_, pkts, _ := readPcap(out)
	_, orig, _ := readPcap(in)
	if len(pkts) != 10 {
		t.Fatalf("%d packets, want 10", len(pkts))
	}
	for i := range pkts {
		r, _ := rtpAt(pkts[i].data)
		o, _ := rtpAt(orig[i].data)
		if r[1]&0x7f != 9 || r[1]&0x80 != o[1]&0x80 {
			t.Fatalf("packet %d: byte 1 %#02x, want PT 9 with the marker of %#02x", i+1, r[1], o[1])
		}
		if string(r[2:8]) != string(o[2:8]) || string(r[12:]) != string(o[12:]) {
			t.Fatalf("packet %d: sequence, timestamp or payload changed", i+1)
		}
	}
	if err := run(out, []string{in + "@1-10"}, 0, "", 0, 1, "", "1-5", "3-4"); err == nil {
		t.Error("-g722 over µ-law packets: no error, want one (not PT 8)")
	}
}
