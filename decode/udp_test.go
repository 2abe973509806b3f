package decode

import (
	"testing"

	"github.com/sipscope/sipscope/capture"
)

// TestUDPZeroAlloc: the steady-state path of an unfragmented UDP SIP
// frame allocates nothing in the packet layers (and, with the parser's
// zero-allocation Parse, nothing at all).
func TestUDPZeroAlloc(t *testing.T) {
	parserReady(t)
	cases := map[string][]byte{
		"eth/ipv4/udp": tEth(0x0800, tIPv4(17, 1, false, 0, tUDP(5060, 5080, tSIP("alloc")))),
		"eth/vlan/ipv4/gre/ipv4/udp": tEth(0x8100, append([]byte{0, 100, 0x08, 0},
			tIPv4(47, 2, false, 0, append([]byte{0, 0, 0x08, 0}, tIPv4(17, 1, false, 0, tUDP(5060, 5080, tSIP("alloc")))...))...)),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			d := New(Options{}, nopHandler{})
			f := frameOf(1, capture.LinkEthernet, b, t0)
			d.Frame(f) // warm up: interns the path
			if d.Stats().SIPMessages != 1 {
				t.Fatalf("no message decoded: %+v", d.Stats())
			}
			if n := testing.AllocsPerRun(200, func() { d.Frame(f) }); n != 0 {
				t.Errorf("got %v allocations per frame, want 0", n)
			}
		})
	}
}

func TestUDPSplit(t *testing.T) {
	parserReady(t)
	a, b := tSIP("one"), tSIP("two")
	cases := []struct {
		name    string
		payload []byte
		want    []string // Call-IDs
		nonSIP  int64
	}{
		{"two messages", append(append([]byte{}, a...), b...), []string{"one", "two"}, 0},
		{"keepalives around", append(append(append([]byte("\r\n\r\n"), a...), "\r\n"...), b...), []string{"one", "two"}, 0},
		{"crlf only", []byte("\r\n"), nil, 1},
		{"zeros", []byte{0, 0, 0, 0}, nil, 1},
		{"empty", nil, nil, 1},
		{"junk after body", append(append([]byte{}, a...), "garbage"...), []string{"one"}, 0},
		{"rtp", []byte{0x80, 0x08, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4}, nil, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &recorder{}
			d := New(Options{}, r)
			d.Frame(frameOf(1, capture.LinkEthernet, tEth(0x0800, tIPv4(17, 1, false, 0, tUDP(40000, 5060, c.payload))), t0))
			var got []string
			for _, m := range r.msgs {
				got = append(got, m.CallID)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %q, want %q", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("got %q, want %q", got, c.want)
				}
			}
			if st := d.Stats(); st.NonSIP != c.nonSIP || st.Malformed != 0 {
				t.Errorf("got nonSIP %d malformed %d, want %d 0", st.NonSIP, st.Malformed, c.nonSIP)
			}
		})
	}
}

func TestICMPCorpus(t *testing.T) {
	parserReady(t)
	r, st := decodeFile(t, corpusDir(t)+"/ipfixprobe/ipfixprobe-sip.pcap", Options{})
	if len(r.events) != 5 || st.ICMPEvents != 5 {
		t.Fatalf("got %d events (stats %+v), want 5", len(r.events), st)
	}
	for _, e := range r.events {
		if e.Kind != "icmp" || e.Method == "" || e.Detail == "" || !e.Src.IsValid() {
			t.Errorf("event %+v", e)
		}
		t.Logf("frame %d: %s from %s: %s %s -> %s Call-ID %q CSeq %d %s", e.Frame, e.Detail, e.From, e.Method, e.Src, e.Dst, e.CallID, e.CSeq, e.CSeqMethod)
	}
}
