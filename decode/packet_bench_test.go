package decode

import (
	"path/filepath"
	"testing"

	"github.com/sipscope/sipscope/capture"
)

// BenchmarkFrame decodes one Ethernet/IPv4/UDP SIP frame per iteration
// with a no-op handler: the steady-state per-packet cost.
func BenchmarkFrame(b *testing.B) {
	msg := []byte("INVITE sip:bob@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1-0\r\n" +
		"From: sipp <sip:sipp@192.0.2.1:5060>;tag=1SIPpTag001\r\n" +
		"To: sut <sip:service@192.0.2.2:5060>\r\n" +
		"Call-ID: 1-12345@192.0.2.1\r\nCSeq: 1 INVITE\r\n" +
		"Contact: sip:sipp@192.0.2.1:5060\r\nMax-Forwards: 70\r\nSubject: Performance Test\r\n" +
		"Content-Type: application/sdp\r\nContent-Length: 129\r\n\r\n" +
		"v=0\r\no=user1 53655765 2353687637 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" +
		"m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
	f := frameOf(1, capture.LinkEthernet, tEth(0x0800, tIPv4(17, 1, false, 0, tUDP(5060, 5060, msg))), t0)
	d := New(Options{}, nopHandler{})
	b.ReportAllocs()
	b.SetBytes(int64(len(f.Data)))
	b.ResetTimer()
	for b.Loop() {
		d.Frame(f)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}

// BenchmarkCorpusFrames decodes the frames of a real mixed capture (SIP,
// RTP, background traffic) held in memory.
func BenchmarkCorpusFrames(b *testing.B) {
	frames := readFrames(b, filepath.Join(corpusDir(b), "heplify", "FAX-Call-t38-CA-TDM-SIP-FB-1.pcap"), 1<<20)
	d := New(Options{}, nopHandler{})
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		d.Frame(&frames[n%len(frames)])
		n++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}

// BenchmarkFrameRTP decodes an Ethernet/IPv4/UDP RTP frame: the packet
// layers alone, since the payload is not SIP (most frames of a call).
func BenchmarkFrameRTP(b *testing.B) {
	rtp := make([]byte, 172)
	rtp[0], rtp[1] = 0x80, 0x08
	f := frameOf(1, capture.LinkEthernet, tEth(0x0800, tIPv4(17, 1, false, 0, tUDP(16384, 16386, rtp))), t0)
	d := New(Options{}, nopHandler{})
	b.ReportAllocs()
	for b.Loop() {
		d.Frame(f)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}
