package decode

import (
	"bufio"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestTCPFraming(t *testing.T) {
	m1, m2, m3 := stSIP("INVITE", 1, 10), stSIP("ACK", 2, 0), stSIP("BYE", 3, 5)
	big := stSIP("MESSAGE", 4, 300)
	const isn = 0xfffffff0 // sequence numbers wrap inside the stream
	type seg struct {
		seq     uint32 // offset from isn+1
		flags   byte
		payload string
	}
	tests := []struct {
		name       string
		segs       []seg
		want       []string
		wantFrames [][]int64
		gaps       int64
	}{
		{
			name:       "three messages in one segment",
			segs:       []seg{{0, stACK, m1 + m2 + m3}},
			want:       []string{m1, m2, m3},
			wantFrames: [][]int64{{2}, {2}, {2}},
		},
		{
			name:       "one message over three segments",
			segs:       []seg{{0, stACK, big[:100]}, {100, stACK, big[100:200]}, {200, stACK, big[200:]}},
			want:       []string{big},
			wantFrames: [][]int64{{2, 3, 4}},
		},
		{
			name: "out of order, retransmitted and overlapping",
			segs: []seg{
				{200, stACK, big[200:]},
				{0, stACK, big[:120]},
				{0, stACK, big[:120]},      // retransmission
				{100, stACK, big[100:250]}, // overlaps both neighbours
			},
			want:       []string{big},
			wantFrames: [][]int64{{3, 5, 2}},
		},
		{
			name:       "keep-alives between messages",
			segs:       []seg{{0, stACK, "\r\n\r\n"}, {4, stACK, m1 + "\r\n"}, {6 + uint32(len(m1)), stACK, "\r\n" + m2}},
			want:       []string{m1, m2},
			wantFrames: [][]int64{{3}, {4}},
		},
		{
			name:       "lost segment",
			segs:       []seg{{0, stACK, m1[:30]}, {uint32(len(m1)), stACK, m2}},
			want:       []string{m2},
			wantFrames: [][]int64{{3}},
			gaps:       1,
		},
		{
			name:       "message split at the first byte",
			segs:       []seg{{0, stACK, m1[:1]}, {1, stACK, m1[1:]}},
			want:       []string{m1},
			wantFrames: [][]int64{{2, 3}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := stRecord(t)
			d := stDecoder(Options{})
			d.onTCP(stPkt(1, stA, stB, nil), stSeg(40000, 5060, isn, stSYN, ""))
			for i, s := range tc.segs {
				n := int64(i + 2)
				data := stSeg(40000, 5060, isn+1+s.seq, s.flags, s.payload)
				d.onTCP(stPkt(n, stA, stB, data), data)
			}
			d.Flush()
			var raws []string
			var frames [][]int64
			for _, m := range *got {
				raws = append(raws, m.raw)
				frames = append(frames, m.frames)
				if m.tr != TCP || m.src.Port() != 40000 || m.dst.Port() != 5060 || m.src.Addr() != stA {
					t.Errorf("got %s %v -> %v, want tcp 10.0.0.1:40000 -> 10.0.0.2:5060", m.tr, m.src, m.dst)
				}
			}
			if !reflect.DeepEqual(raws, tc.want) {
				t.Errorf("got messages %q, want %q", raws, tc.want)
			}
			if !reflect.DeepEqual(frames, tc.wantFrames) {
				t.Errorf("got frames %v, want %v", frames, tc.wantFrames)
			}
			if s := d.Stats(); s.TCPGaps != tc.gaps {
				t.Errorf("got %d gaps, want %d", s.TCPGaps, tc.gaps)
			}
		})
	}
}

func TestTCPTimeOfCompletingSegment(t *testing.T) {
	got := stRecord(t)
	d := stDecoder(Options{})
	m := stSIP("INVITE", 1, 50)
	// Segment 2 (second half) arrives first, segment 3 completes.
	d.onTCP(stPkt(1, stA, stB, nil), stSeg(1, 5060, 100, stSYN, ""))
	s2 := stSeg(1, 5060, 101+40, stACK, m[40:])
	d.onTCP(stPkt(2, stA, stB, s2), s2)
	s3 := stSeg(1, 5060, 101, stACK, m[:40])
	d.onTCP(stPkt(3, stA, stB, s3), s3)
	if len(*got) != 1 {
		t.Fatalf("got %d messages, want 1", len(*got))
	}
	if want := stT.Add(3 * time.Millisecond); !(*got)[0].at.Equal(want) {
		t.Errorf("got time %v, want %v", (*got)[0].at, want)
	}
}

func TestTCPFramesOwnTheirBytes(t *testing.T) {
	var kept []FrameRef
	emitHook = func(tr Transport, _, _ netip.AddrPort, raw []byte, frames []FrameRef, _ time.Time, _ *HEPInfo) {
		kept = append(kept[:0], frames...)
	}
	t.Cleanup(func() { emitHook = nil })
	d := stDecoder(Options{})
	m := stSIP("INVITE", 1, 50)
	a := stSeg(1, 5060, 100, stACK, m[:40])
	d.onTCP(stPkt(1, stA, stB, a), a)
	copy(a, strings.Repeat("Z", len(a))) // the capture reader reuses its buffer
	b := stSeg(1, 5060, 140, stACK, m[40:])
	d.onTCP(stPkt(2, stA, stB, b), b)
	if len(kept) != 2 || string(kept[0].Data[20:]) != m[:40] {
		t.Fatalf("frame 1 data was not kept as a copy: %v", kept)
	}
}

func TestTCPClassification(t *testing.T) {
	tests := []struct {
		name      string
		syn       bool
		payloads  []string
		wantMsgs  int
		nonSIP    int64
		encrypted int64
	}{
		{"http on a SIP port", true, []string{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "more"}, 0, 2, 0},
		{"binary", true, []string{"\x00\x01\x02garbage\n", "x"}, 0, 2, 0},
		// Encrypted counts whole TLS records not decrypted (tls.go).
		{"tls", false, []string{"\x17\x03\x03\x00\x08abcdefgh", "\x17\x03\x03\x00\x04ijkl"}, 0, 0, 2},
		{"mid-stream tail then SIP", false, []string{"o=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\n" + stSIP("BYE", 2, 0)}, 1, 0, 0},
		{"mid-stream SIP", false, []string{stSIP("BYE", 2, 0)}, 1, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := stRecord(t)
			d := stDecoder(Options{})
			seq := uint32(1000)
			if tc.syn {
				d.onTCP(stPkt(1, stA, stB, nil), stSeg(1, 5060, seq-1, stSYN, ""))
			}
			for i, p := range tc.payloads {
				s := stSeg(1, 5060, seq, stACK, p)
				d.onTCP(stPkt(int64(i+2), stA, stB, s), s)
				seq += uint32(len(p))
			}
			d.Flush()
			st := d.Stats()
			if len(*got) != tc.wantMsgs || st.NonSIP != tc.nonSIP || st.Encrypted != tc.encrypted {
				t.Errorf("got %d messages, NonSIP %d, Encrypted %d; want %d, %d, %d",
					len(*got), st.NonSIP, st.Encrypted, tc.wantMsgs, tc.nonSIP, tc.encrypted)
			}
		})
	}
}

func TestTCPEndOfStream(t *testing.T) {
	m := stSIP("INVITE", 1, 50)
	t.Run("flush counts partial message", func(t *testing.T) {
		got := stRecord(t)
		d := stDecoder(Options{})
		s := stSeg(1, 5060, 1, stACK, m[:60])
		d.onTCP(stPkt(1, stA, stB, s), s)
		d.Flush()
		if len(*got) != 0 || d.Stats().Truncated != 1 {
			t.Errorf("got %d messages, %d truncated; want 0, 1", len(*got), d.Stats().Truncated)
		}
	})
	t.Run("idle stream expires", func(t *testing.T) {
		stRecord(t)
		d := stDecoder(Options{TCPTimeout: time.Second})
		s := stSeg(1, 5060, 1, stACK, m[:60])
		d.onTCP(stPkt(1, stA, stB, s), s)
		late := stPkt(5000, stB, stA, nil)
		d.onTCP(late, stSeg(5060, 1, 1, stACK, ""))
		if len(d.tcp.streams) != 0 || d.Stats().Truncated != 1 {
			t.Errorf("got %d streams, %d truncated; want 0, 1", len(d.tcp.streams), d.Stats().Truncated)
		}
	})
	t.Run("fin ends the stream", func(t *testing.T) {
		got := stRecord(t)
		d := stDecoder(Options{})
		s := stSeg(1, 5060, 1, stACK|stFIN, m)
		d.onTCP(stPkt(1, stA, stB, s), s)
		if len(*got) != 1 || len(d.tcp.streams) != 0 {
			t.Errorf("got %d messages, %d streams; want 1, 0", len(*got), len(d.tcp.streams))
		}
	})
	t.Run("rst ends both directions", func(t *testing.T) {
		stRecord(t)
		d := stDecoder(Options{})
		a := stSeg(1, 5060, 1, stACK, m[:20])
		d.onTCP(stPkt(1, stA, stB, a), a)
		b := stSeg(5060, 1, 1, stACK, m[:20])
		d.onTCP(stPkt(2, stB, stA, b), b)
		d.onTCP(stPkt(3, stA, stB, nil), stSeg(1, 5060, 21, stRST, ""))
		if len(d.tcp.streams) != 0 {
			t.Errorf("got %d streams, want 0", len(d.tcp.streams))
		}
	})
	t.Run("buffer bound skips the gap", func(t *testing.T) {
		got := stRecord(t)
		d := stDecoder(Options{MaxTCPBuffer: 1000})
		d.onTCP(stPkt(1, stA, stB, nil), stSeg(1, 5060, 0, stSYN, ""))
		seq := uint32(1 + 10) // first 10 bytes lost
		for i := 0; i < 10; i++ {
			msg := stSIP("OPTIONS", i, 100)
			s := stSeg(1, 5060, seq, stACK, msg)
			d.onTCP(stPkt(int64(i+2), stA, stB, s), s)
			seq += uint32(len(msg))
		}
		if d.Stats().TCPGaps != 1 || len(*got) < 5 {
			t.Errorf("got %d gaps and %d messages before the end; want 1 gap and the messages after it", d.Stats().TCPGaps, len(*got))
		}
		d.Flush()
		if len(*got) != 10 {
			t.Errorf("got %d messages, want 10", len(*got))
		}
	})
}

// stOracle counts the SIP messages tshark found in a capture.
func stOracle(t *testing.T, name string) int {
	f, err := os.Open(stCorpus(t, strings.TrimSuffix(strings.TrimSuffix(name, ".pcap"), ".pcapng")+".tshark.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 6 || cols[0] == "frame" {
			continue
		}
		n += len(strings.Split(cols[5], ","))
	}
	return n
}

func TestTCPCorpus(t *testing.T) {
	tests := []struct {
		file      string
		want      int // -1: tshark's count
		encrypted bool
	}{
		{"heplify/sip_ipv4_tcp.pcap", -1, false},
		{"heplify/sip_ipv4_tcp_fragmented.pcap", -1, false},
		// 8 in tshark's reading, of which 4 are the UDP leg of the proxy.
		{"heplify/sip_ipv4_tcp_retrans.pcap", 4, true}, // has HTTPS noise
		{"suricata-verify/sip-body-large__sip-body-large.pcap", -1, false},
		{"suricata-verify/sip-tcp-method__sip-tcp.pcap", -1, false},
		{"suricata-verify/sip-tcp-pattern-matching__sip.pcap", -1, false},
		{"nDPI/http_on_sip_port.pcap", 0, false},
		{"sngrep/tlssaved.pcap", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := stCorpus(t, tc.file)
			want := tc.want
			if want < 0 {
				want = stOracle(t, tc.file)
			}
			got := stRecord(t)
			d := stDecoder(Options{})
			stFeed(t, d, path)
			if len(*got) != want {
				t.Errorf("got %d messages, want %d (stats %+v)", len(*got), want, d.Stats())
			}
			if st := d.Stats(); (st.Encrypted > 0) != tc.encrypted || st.TCPGaps != 0 {
				t.Errorf("got Encrypted %d, gaps %d; want encrypted %v, no gaps", st.Encrypted, st.TCPGaps, tc.encrypted)
			}
			for _, m := range *got {
				if m.tr != TCP || !isSIPStart([]byte(m.raw)) || len(m.frames) == 0 {
					t.Errorf("bad message %s %v %.40q", m.tr, m.frames, m.raw)
				}
			}
		})
	}
}
