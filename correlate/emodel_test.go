package correlate

import (
	"math"
	"path/filepath"
	"testing"
	"time"
)

// TestEModelByHand checks R and MOS against values worked out by hand
// from the G.107 formulas (Ro-Is = 93.2, A = 0, BurstR = 1):
//
//	Ie,eff = Ie + (95-Ie)*Ppl/(Ppl+Bpl);  R = 93.2 - Idd - Ie,eff
//	MOS = 1 + 0.035R + R(R-60)(100-R)*7e-6
func TestEModelByHand(t *testing.T) {
	g711plc, _ := CodecImpairment("PCMA", true)
	g711, _ := CodecImpairment("pcmu", false)
	g729, _ := CodecImpairment("G729", true)
	tests := []struct {
		name    string
		imp     Impairment
		ppl, ta float64
		r, mos  float64
	}{
		// No loss, 60 ms: Ie,eff = 0, Idd = 0, R = 93.2.
		// MOS = 1 + 3.262 + 93.2*33.2*6.8*7e-6 = 1 + 3.262 + 0.147285824 = 4.409285824.
		{"G.711 clean", g711plc, 0, 60, 93.2, 4.409285824},
		// 1% with PLC: Ie,eff = 95*1/(1+25.1) = 95/26.1 = 3.639847; R = 89.560153.
		// MOS = 1 + 3.134605 + 89.560153*29.560153*10.439847*7e-6 = 1 + 3.134605 + 0.193470 = 4.328075.
		{"G.711 PLC 1%", g711plc, 1, 60, 89.560153, 4.328075},
		// 2% without PLC: Ie,eff = 95*2/(2+4.3) = 190/6.3 = 30.158730; R = 63.041270.
		// MOS = 1 + 2.206444 + 63.041270*3.041270*36.958730*7e-6 = 1 + 2.206444 + 0.049602 = 3.256046.
		{"G.711 no PLC 2%", g711, 2, 60, 63.041270, 3.256046},
		// G.729A 3%: Ie,eff = 11 + 84*3/(3+19) = 11 + 11.454545 = 22.454545; R = 70.745455.
		// MOS = 1 + 2.476091 + 70.745455*10.745455*29.254545*7e-6 = 1 + 2.476091 + 0.155674 = 3.631764.
		{"G.729A 3%", g729, 3, 60, 70.745455, 3.631764},
		// 200 ms: X = log2(2) = 1; Idd = 25*(2^(1/6) - 3*(1+1/729)^(1/6) + 2)
		//   = 25*(1.122462 - 3*1.000229 + 2) = 25*0.121777 = 3.044414; R = 90.155586.
		// MOS = 1 + 3.155446 + 90.155586*30.155586*9.844414*7e-6 = 4.342793.
		{"G.711 200 ms", g711plc, 0, 200, 90.155586, 4.342793},
		// Duplicates outnumbering losses (negative loss) count as no loss.
		{"negative loss", g711plc, -4.2, 60, 93.2, 4.409285824},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := RFactor(tt.imp, tt.ppl, tt.ta)
			if math.Abs(r-tt.r) > 1e-5 {
				t.Errorf("R = %.6f, want %.6f", r, tt.r)
			}
			if m := MOSFromR(r); math.Abs(m-tt.mos) > 1e-5 {
				t.Errorf("MOS = %.6f, want %.6f", m, tt.mos)
			}
		})
	}
	// Annex B bounds.
	if m := MOSFromR(-5); m != 1 {
		t.Errorf("MOS(-5) = %v, want 1", m)
	}
	if m := MOSFromR(120); m != 4.5 {
		t.Errorf("MOS(120) = %v, want 4.5", m)
	}
}

func TestCodecImpairmentNotScored(t *testing.T) {
	for _, c := range []string{"G722", "opus", "GSM", "telephone-event", ""} {
		if _, ok := CodecImpairment(c, true); ok {
			t.Errorf("CodecImpairment(%q) scored, want not scored (no published value cited)", c)
		}
	}
	s := Stream{Codec: "opus", Packets: 500, Expected: 500}
	ss := []Stream{s}
	ScoreStreams(ss, EModelOptions{})
	if ss[0].MOS != nil || ss[0].RFactor != nil {
		t.Errorf("opus stream got MOS %v, want nil (not scored)", *ss[0].MOS)
	}
}

// TestScoreCaptures scores the streams of the SIPp captures: the clean
// G.711 stream scores the G.711 maximum, the lossy one 13 of 150 lost:
// Ppl = 8.6667, Ie,eff = 95*8.6667/(8.6667+25.1) = 24.383021, R = 68.816979,
// MOS = 1 + 2.408594 + 68.816979*8.816979*31.183021*7e-6 = 3.541038.
func TestScoreCaptures(t *testing.T) {
	for _, tt := range []struct {
		file string
		src  string // the stream scored: its source
		r    float64
		mos  float64
	}{
		{"clean.pcap", "127.0.0.1:10000", 93.2, 4.409286},
		{"lossy.pcap", "127.0.0.1:10000", 68.816979, 3.541038},
		{"lossy.pcap", "127.0.0.2:20000", 93.2, 4.409286},
	} {
		t.Run(tt.file+"/"+tt.src, func(t *testing.T) {
			ss, _ := mediaFile(t, filepath.Join("..", "testdata", "media", tt.file), MediaOptions{})
			ScoreStreams(ss, EModelOptions{})
			var found bool
			for _, s := range ss {
				if s.Src.String() != tt.src {
					continue
				}
				found = true
				if s.MOS == nil {
					t.Fatalf("%s: not scored (codec %q, %d packets)", tt.src, s.Codec, s.Packets)
				}
				// Ta = one 30 ms packet + max(20, 2*mean jitter) ms, well under 100 ms: Idd = 0.
				if ta := 30 + max(20, 2*s.JitterMeanMs); ta > 100 {
					t.Fatalf("Ta %.1f ms, the capture's jitter is not what the test expects", ta)
				}
				if math.Abs(*s.RFactor-tt.r) > 0.01 || math.Abs(*s.MOS-tt.mos) > 0.01 {
					t.Errorf("R %.2f MOS %.2f, want %.2f %.2f (lost %d of %d)", *s.RFactor, *s.MOS, tt.r, tt.mos, s.Lost, s.Expected)
				}
			}
			if !found {
				t.Fatalf("no stream from %s in %s", tt.src, tt.file)
			}
		})
	}
}

// TestScoreDelay: the mouth-to-ear delay is one packet (from its payload
// size) plus a jitter buffer of twice the mean jitter, at least 20 ms; a
// long silence in the stream and a jitter spike do not count.
func TestScoreDelay(t *testing.T) {
	start := time.Unix(0, 0)
	s := Stream{Codec: "PCMA", Packets: 100, Expected: 100, Bytes: 100 * 160, // 20 ms packets
		Start: start, End: start.Add(10 * time.Minute), JitterMeanMs: 50, JitterMaxMs: 3000}
	// Ta = 20 + 2*50 = 120 ms: X = log2(1.2) = 0.263034; X^6 = 3.3119e-4,
	// (X/3)^6 = 4.543e-7: Idd = 25*((1+3.3119e-4)^(1/6) - 3*(1+4.543e-7)^(1/6) + 2)
	//   = 25*(1.0000552 - 3.0000002 + 2) = 25*0.0000550 = 0.001375; R = 93.198625.
	r, _, ok := Score(&s, EModelOptions{})
	if !ok || math.Abs(r-93.198625) > 1e-4 {
		t.Errorf("R %.6f, want 93.198625", r)
	}
	// 150 ms more of network delay: Ta 270 ms, X = log2(2.7) = 1.432959;
	// X^6 = 8.657716, (X/3)^6 = 0.011876: Idd = 25*(9.657716^(1/6) - 3*1.011876^(1/6) + 2)
	//   = 25*(1.459304 - 3.005909 + 2) = 25*0.453395 = 11.335; R = 81.865.
	r, _, _ = Score(&s, EModelOptions{NetworkDelayMs: 150})
	if math.Abs(r-81.865) > 0.01 {
		t.Errorf("R %.3f with 150 ms network delay, want 81.865", r)
	}
}

func TestScoreTooShort(t *testing.T) {
	s := Stream{Codec: "PCMU", Packets: 10, Expected: 10, Start: time.Unix(0, 0), End: time.Unix(0, 0).Add(180 * time.Millisecond)}
	if _, _, ok := Score(&s, EModelOptions{}); ok {
		t.Errorf("a 10-packet stream was scored, want not scored (under %d packets)", minScoredPackets)
	}
}

// TestScoreG722Capture: the SIPp G.722 call (PT 9, rtpmap G722/8000 both
// ways) gives two G722 streams timed on the 8000 Hz RTP clock RFC 3551
// §4.5.2 keeps for G.722 (their jitter is checked against tshark by
// TestMediaSIPpTshark), and neither is scored: R and MOS stay nil, so no
// wideband R reaches the narrowband MOS scale or the low-mos rule.
func TestScoreG722Capture(t *testing.T) {
	ss, _ := mediaFile(t, filepath.Join("..", "testdata", "media", "g722.pcap"), MediaOptions{})
	ScoreStreams(ss, EModelOptions{})
	if len(ss) != 2 {
		t.Fatalf("%d streams, want 2 (one each way)", len(ss))
	}
	for _, s := range ss {
		if s.Codec != "G722" || s.PayloadType != 9 || s.ClockRate != 8000 || s.Packets != 150 {
			t.Errorf("%v>%v: codec %q PT %d clock %d, %d packets; want G722 9 8000, 150", s.Src, s.Dst, s.Codec, s.PayloadType, s.ClockRate, s.Packets)
		}
		if s.RFactor != nil || s.MOS != nil {
			t.Errorf("%v>%v: scored (R %v, MOS %v), want not scored", s.Src, s.Dst, *s.RFactor, *s.MOS)
		}
	}
}
