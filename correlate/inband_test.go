package correlate

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipscope/sipscope/decode"
)

// TestInbandDTMFCaptures: the tones rtpmangle wrote over packets 40-44,
// 70-74 and 100-104 of the caller's audio (150 ms each, 30 ms packets) are
// found as 1, 5, # at their times; the speech of sip-tester's recording,
// in every other capture, gives no digit.
func TestInbandDTMFCaptures(t *testing.T) {
	files, _ := filepath.Glob("../testdata/media/*.pcap")
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			d := NewInbandDTMF()
			ss, _ := mediaFile(t, path, MediaOptions{Sink: d.Packet})
			var got []string
			for _, s := range ss {
				evs := d.Events(StreamKey{Src: s.Src, Dst: s.Dst, SSRC: s.SSRC})
				if len(evs) == 0 {
					continue
				}
				got = append(got, s.Src.String()+" "+Digits(evs))
				if !strings.HasSuffix(path, "dtmf-inband.pcap") {
					continue
				}
				for i, e := range evs {
					// 150 ms of tone in blocks of 25.6 ms: 5 or 6 blocks.
					if e.Duration < 120*time.Millisecond || e.Duration > 160*time.Millisecond || e.Source != "inband" {
						t.Errorf("digit %s: %v %s, want about 150 ms inband", e.Digit, e.Duration, e.Source)
					}
					// Packet 40 is 39 packets (1.17 s) into the stream, 70 is 2.07 s, 100 is 2.97 s.
					want := s.Start.Add(time.Duration(39+30*i) * 30 * time.Millisecond)
					if d := e.Start.Sub(want); d < -60*time.Millisecond || d > 60*time.Millisecond {
						t.Errorf("digit %s at +%v, want about +%v", e.Digit, e.Start.Sub(s.Start), want.Sub(s.Start))
					}
				}
			}
			want := "[]"
			if strings.HasSuffix(path, "dtmf-inband.pcap") {
				want = "[127.0.0.1:10000 15#]"
			}
			if fmt.Sprint(got) != want {
				t.Errorf("in-band digits %v, want %s", got, want)
			}
		})
	}
}

// alawNearest encodes by search: the code whose G.711 value is nearest.
func alawNearest(v float64) byte {
	best, bd := byte(0), math.Inf(1)
	for c := 0; c < 256; c++ {
		if d := math.Abs(float64(decode.ALaw(byte(c))) - v); d < bd {
			best, bd = byte(c), d
		}
	}
	return best
}

// tonePackets makes 20 ms A-law packets of the sum of sines (amplitude a
// each) lasting ms, then 100 ms of silence.
func tonePackets(k StreamKey, freqs []float64, a float64, ms int) []*RTPPacket {
	var out []*RTPPacket
	n := 0
	for t := 0; t < ms+100; t += 20 {
		p := &RTPPacket{Key: k, Encoding: "PCMA", ClockRate: 8000, Arrival: t0.Add(time.Duration(t) * time.Millisecond), Payload: make([]byte, 160)}
		for i := range p.Payload {
			var v float64
			if t < ms {
				for _, f := range freqs {
					v += a * math.Sin(2*math.Pi*f*float64(n)/8000)
				}
			}
			p.Payload[i] = alawNearest(v)
			n++
		}
		out = append(out, p)
	}
	return out
}

func TestInbandDTMFKeys(t *testing.T) {
	k := StreamKey{SSRC: 1}
	keys := "123A456B789C*0#D"
	for i, key := range keys {
		d := NewInbandDTMF()
		for _, p := range tonePackets(k, []float64{dtmfRows[i/4], dtmfCols[i%4]}, 6000, 100) {
			d.Packet(p)
		}
		if got := Digits(d.Events(k)); got != string(key) {
			t.Errorf("%c: detected %q", key, got)
		}
	}
	for _, tt := range []struct {
		name  string
		freqs []float64
		a     float64
		ms    int
	}{
		{"one tone", []float64{770}, 8000, 200},
		{"too short (30 ms)", []float64{770, 1336}, 6000, 30},
		{"too quiet", []float64{770, 1336}, 100, 200},
		{"between the keys", []float64{730, 1270}, 6000, 200},
	} {
		d := NewInbandDTMF()
		for _, p := range tonePackets(k, tt.freqs, tt.a, tt.ms) {
			d.Packet(p)
		}
		if evs := d.Events(k); len(evs) != 0 {
			t.Errorf("%s: detected %q", tt.name, Digits(evs))
		}
	}
}

// everyBlock is the detector without the odd-block saving: every block of
// 205 samples analysed, the reference TestInbandSkipExact holds Packet to.
type everyBlock struct {
	blk   [inbandN]byte
	n     int
	at    time.Time
	state inbandState
}

func (e *everyBlock) packet(p *RTPPacket) {
	law := decode.G711Law(p.Encoding)
	for i, b := range p.Payload {
		if e.n == 0 {
			e.at = p.Arrival.Add(time.Duration(i) * 125 * time.Microsecond)
		}
		e.blk[e.n] = b
		e.n++
		if e.n == inbandN {
			e.state.advance(detectDTMF(&e.blk, &g711Float[law], &g711Square[law]), e.at)
			e.n = 0
		}
	}
}

// TestInbandSkipExact: skipping the odd blocks between two blocks without
// a digit finds exactly the digits, times and durations of analysing every
// block: on every capture of testdata/media, and on tones of every length
// from 30 to 130 ms that start anywhere within a block (the shortest runs
// of two blocks, whose parity decides what is skipped).
func TestInbandSkipExact(t *testing.T) {
	compare := func(t *testing.T, name string, pkts []*RTPPacket) {
		t.Helper()
		d := NewInbandDTMF()
		ref := map[StreamKey]*everyBlock{}
		for _, p := range pkts {
			d.Packet(p)
			if decode.G711Law(p.Encoding) == decode.NotG711 {
				continue
			}
			if ref[p.Key] == nil {
				ref[p.Key] = &everyBlock{state: inbandState{cand: -1}}
			}
			ref[p.Key].packet(p)
		}
		for k, r := range ref {
			got, want := d.Events(k), r.state.events
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s %v: got %v, want (every block analysed) %v", name, k, got, want)
			}
		}
	}
	files, _ := filepath.Glob("../testdata/media/*.pcap")
	for _, path := range files {
		var pkts []*RTPPacket
		mediaFile(t, path, MediaOptions{Sink: func(p *RTPPacket) {
			q := *p
			q.Payload = append([]byte(nil), p.Payload...)
			pkts = append(pkts, &q)
		}})
		compare(t, filepath.Base(path), pkts)
	}
	k := StreamKey{SSRC: 1}
	var digits int
	for ms := 30; ms <= 130; ms += 10 {
		for lead := 0; lead < 60; lead += 3 {
			// lead ms of silence, then the tone: its start moves across blocks.
			pkts := tonePackets(k, []float64{852, 1477}, 6000, lead+ms)
			for _, p := range pkts {
				for i := range p.Payload {
					if p.Arrival.Add(time.Duration(i)*125*time.Microsecond).Sub(t0) < time.Duration(lead)*time.Millisecond {
						p.Payload[i] = 0xD5 // A-law zero
					}
				}
			}
			compare(t, fmt.Sprintf("%d ms tone after %d ms", ms, lead), pkts)
			d := NewInbandDTMF()
			for _, p := range pkts {
				d.Packet(p)
			}
			digits += len(d.Events(k))
		}
	}
	if digits == 0 {
		t.Error("no tone found a digit: the comparison compared nothing")
	}
}
