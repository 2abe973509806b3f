package capture

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TestTCPSynth checks the frames of a clear TCP conversation: payloads cut
// at synthMSS, sequence numbers continuing per direction and acknowledging
// the other one, checksums that gopacket's decoder accepts, IPv4 and IPv6.
func TestTCPSynth(t *testing.T) {
	for _, tc := range []struct{ a, b string }{{"10.0.0.1:40000", "10.0.0.2:5061"}, {"[2001:db8::1]:40000", "[2001:db8::2]:5061"}} {
		a, b := netip.MustParseAddrPort(tc.a), netip.MustParseAddrPort(tc.b)
		s := NewTCPSynth()
		big := bytes.Repeat([]byte("x"), 2*synthMSS+10)
		var all []Frame
		for _, m := range []struct {
			src, dst netip.AddrPort
			p        []byte
		}{{a, b, big}, {b, a, []byte("SIP/2.0 200 OK\r\n\r\n")}, {a, b, []byte("ACK")}} {
			fs, err := s.Frames(time.Unix(1, 0), m.src, m.dst, m.p)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, fs...)
		}
		if len(all) != 5 {
			t.Fatalf("%s: got %d frames, want 5 (3 for the big payload)", tc.a, len(all))
		}
		var seqs, acks []uint32
		var got []byte
		for _, f := range all {
			p := gopacket.NewPacket(f.Data, layers.LayerTypeEthernet, gopacket.Default)
			tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
			if tcp == nil || p.ErrorLayer() != nil {
				t.Fatalf("%s: frame does not decode: %v", tc.a, p)
			}
			seqs, acks = append(seqs, tcp.Seq), append(acks, tcp.Ack)
			if tcp.DstPort == 5061 {
				got = append(got, tcp.Payload...)
			}
		}
		want := []uint32{1, 1 + synthMSS, 1 + 2*synthMSS, 1, uint32(1 + len(big))}
		for i := range want {
			if seqs[i] != want[i] {
				t.Errorf("%s: frame %d seq %d, want %d", tc.a, i, seqs[i], want[i])
			}
		}
		if acks[3] != uint32(1+len(big)) || acks[4] != 1+uint32(len("SIP/2.0 200 OK\r\n\r\n")) {
			t.Errorf("%s: acks %v", tc.a, acks)
		}
		if !bytes.Equal(got, append(append([]byte{}, big...), "ACK"...)) {
			t.Errorf("%s: the client's bytes do not come back whole", tc.a)
		}
	}
}
