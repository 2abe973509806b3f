package correlate

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sipscope/sipscope/decode"
)

// BenchmarkInbandDTMF measures the detector on the speech of the clean
// SIPp call (240-byte A-law packets), and on the corpus' fax call (G.711
// fax tones: most blocks loud, so past the energy gate), where it runs in
// BenchmarkCallsMedia: the cost it adds per RTP packet.
func BenchmarkInbandDTMF(b *testing.B) {
	for _, c := range []struct{ name, path string }{
		{"speech", filepath.Join("..", "testdata", "media", "clean.pcap")},
		{"fax", filepath.Join("..", "..", "shared", "corpus", "heplify", "FAX-Call-t38-CA-TDM-SIP-FB-1.pcap")},
	} {
		b.Run(c.name, func(b *testing.B) {
			if _, err := os.Stat(c.path); err != nil {
				b.Skipf("no capture %s: %v", c.path, err)
			}
			var pkts []RTPPacket
			t := &testing.T{}
			mediaFile(t, c.path, MediaOptions{Sink: func(p *RTPPacket) {
				if decode.G711Law(p.Encoding) == decode.NotG711 {
					return
				}
				q := *p
				q.Payload = append([]byte(nil), p.Payload...)
				pkts = append(pkts, q)
			}})
			if len(pkts) == 0 {
				b.Fatal("no G.711 packets")
			}
			d := NewInbandDTMF()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d.Packet(&pkts[i%len(pkts)])
			}
		})
	}
}

// BenchmarkDTMF measures the RFC 4733 decoder on the same audio packets,
// which it only looks at: what it costs every stream.
func BenchmarkDTMF(b *testing.B) {
	p := &RTPPacket{Encoding: "PCMA", Payload: make([]byte, 160)}
	d := NewDTMF()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		d.Packet(p)
	}
}
