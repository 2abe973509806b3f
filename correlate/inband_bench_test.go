package correlate

import (
	"path/filepath"
	"testing"
)

// BenchmarkInbandDTMF measures the detector on the speech of the clean
// SIPp call (240-byte A-law packets): the cost it adds per RTP packet.
func BenchmarkInbandDTMF(b *testing.B) {
	var pkts []RTPPacket
	t := &testing.T{}
	mediaFile(t, filepath.Join("..", "testdata", "media", "clean.pcap"), MediaOptions{Sink: func(p *RTPPacket) {
		q := *p
		q.Payload = append([]byte(nil), p.Payload...)
		pkts = append(pkts, q)
	}})
	if len(pkts) == 0 {
		b.Fatal("no packets")
	}
	d := NewInbandDTMF()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Packet(&pkts[i%len(pkts)])
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
