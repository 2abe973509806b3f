package correlate

import (
	"math"
	"path/filepath"
	"testing"
	"time"
)

// TestTimelineCaptures: the per-second series of the SIPp captures add up
// to the stream statistics (which agree with tshark): 13 lost in the
// lossy caller stream, and the jittery stream's peak jitter.
func TestTimelineCaptures(t *testing.T) {
	for _, tt := range []struct {
		file        string
		src         string
		packets     int
		lost        int
		minPeakJitt float64
	}{
		{"lossy.pcap", "127.0.0.1:10000", 137, 13, 0},
		{"jitter.pcap", "127.0.0.1:10000", 150, 0, 20},
		// 120 audio and 30 event packets, 6 of them repeated end packets: -6 as tshark says.
		{"dtmf-rfc4733.pcap", "127.0.0.1:10000", 150, -6, 0},
	} {
		t.Run(tt.file, func(t *testing.T) {
			tl := NewStreamTimeline(time.Second)
			ss, _ := mediaFile(t, filepath.Join("..", "testdata", "media", tt.file), MediaOptions{Sink: tl.Packet})
			for _, s := range ss {
				if s.Src.String() != tt.src {
					continue
				}
				pts, cut := tl.Series(StreamKey{Src: s.Src, Dst: s.Dst, SSRC: s.SSRC})
				if cut || len(pts) != 5 {
					t.Fatalf("%d points (cut %v), want 5 for a 4.5 s stream", len(pts), cut)
				}
				var pk, lost int
				var peak float64
				for i, p := range pts {
					pk += p.Packets
					lost += p.Lost
					peak = max(peak, p.MaxMs)
					if want := pts[0].Start.Add(time.Duration(i) * time.Second); !p.Start.Equal(want) {
						t.Errorf("point %d starts %v, want %v", i, p.Start, want)
					}
				}
				if pk != tt.packets || lost != tt.lost {
					t.Errorf("packets %d lost %d over the points, want %d %d", pk, lost, tt.packets, tt.lost)
				}
				if tt.minPeakJitt > 0 {
					if peak < tt.minPeakJitt || math.Abs(peak-s.JitterMaxMs) > max(1, 0.15*s.JitterMaxMs) {
						t.Errorf("peak jitter %.2f ms, stream max %.2f ms", peak, s.JitterMaxMs)
					}
				}
				return
			}
			t.Fatalf("no stream from %s", tt.src)
		})
	}
}
