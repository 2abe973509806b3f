package decode

import (
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

// TestEncap reads each capture written by scripts/gencap and checks the
// messages and the exact encapsulation path.
func TestEncap(t *testing.T) {
	parserReady(t)
	const u = "@gencap.sipscope"
	cases := []struct {
		file   string
		encap  string
		callID string
		frames []int64 // frames carrying the message (nil: just frame 1)
	}{
		{"vlan", "eth/vlan:100/ipv4/udp", "vlan", nil},
		{"qinq", "eth/qinq:200/vlan:100/ipv4/udp", "qinq", nil},
		{"pppoe", "eth/pppoe/ppp/ipv4/udp", "pppoe", nil},
		{"mpls", "eth/mpls:16/mpls:17/ipv4/udp", "mpls", nil},
		{"sll", "sll/ipv4/udp", "sll", nil},
		{"sll2", "sll2/ipv6/udp", "sll2", nil},
		{"null", "null/ipv4/udp", "null", nil},
		{"loop", "loop/ipv6/udp", "loop", nil},
		{"raw4", "ipv4/udp", "raw4", nil},
		{"raw6", "ipv6/udp", "raw6", nil},
		{"ipip-4in4", "eth/ipv4/ipv4/udp", "4in4", nil},
		{"6in4", "eth/ipv4/ipv6/udp", "6in4", nil},
		{"4in6", "eth/ipv6/ipv4/udp", "4in6", nil},
		{"gre-ip", "eth/vlan:100/ipv4/gre/ipv4/udp", "gre-ip", nil},
		{"gre-teb", "eth/ipv4/gre/eth/ipv4/udp", "gre-teb", nil},
		{"erspan1", "eth/ipv4/gre/erspan/eth/ipv4/udp", "erspan1", nil},
		{"erspan2", "eth/ipv4/gre/erspan/eth/ipv4/udp", "erspan2", nil},
		{"erspan3", "eth/ipv4/gre/erspan/eth/ipv4/udp", "erspan3", nil},
		{"vxlan", "eth/ipv4/udp/vxlan:42/eth/ipv4/udp", "vxlan", nil},
		{"gtpu", "eth/ipv4/udp/gtp/ipv6/udp", "gtpu", nil},
		{"ipv4-frag-reordered", "eth/ipv4/udp", "frag4", []int64{1, 2, 3, 4}},
		{"ipv6-frag-reordered", "eth/ipv6/udp", "frag6", []int64{1, 2, 3, 4, 5}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			r, st := decodeFile(t, filepath.Join("..", "testdata", "encap", c.file+".pcap"), Options{})
			if len(r.msgs) != 1 {
				t.Fatalf("got %d messages, want 1 (stats %+v)", len(r.msgs), st)
			}
			m := r.msgs[0]
			if m.Method != "INVITE" || m.CallID != c.callID+u || m.CSeq != 314159 {
				t.Errorf("got %s %q CSeq %d, want INVITE %q 314159", m.Method, m.CallID, m.CSeq, c.callID+u)
			}
			if m.Encap != c.encap {
				t.Errorf("encap: got %q, want %q", m.Encap, c.encap)
			}
			want := c.frames
			if want == nil {
				want = []int64{1}
			}
			if !reflect.DeepEqual(m.Frames, want) {
				t.Errorf("frames: got %v, want %v", m.Frames, want)
			}
			for i, n := range m.FrameLens {
				if n == 0 {
					t.Errorf("frame ref %d has no bytes", i)
				}
			}
			if st.Malformed != 0 || st.Truncated != 0 || st.FragmentsExpired != 0 {
				t.Errorf("stats: %+v", st)
			}
		})
	}
}

func TestEncapUDPMulti(t *testing.T) {
	parserReady(t)
	r, st := decodeFile(t, filepath.Join("..", "testdata", "encap", "udp-multi.pcap"), Options{})
	var got []string
	for _, m := range r.msgs {
		got = append(got, m.Method+strconv.Itoa(m.Status)+" "+m.CallID)
		if !reflect.DeepEqual(m.Frames, []int64{3}) {
			t.Errorf("frames: got %v, want [3]", m.Frames)
		}
	}
	want := []string{"OPTIONS0 multi-opt@gencap.sipscope", "200 multi-opt@gencap.sipscope", "INVITE0 multi-inv@gencap.sipscope"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if st.Malformed != 0 || st.NonSIP != 2 || st.SIPMessages != 3 {
		t.Errorf("stats: got malformed %d nonsip %d sip %d, want 0 2 3", st.Malformed, st.NonSIP, st.SIPMessages)
	}
}

func TestEncapICMP(t *testing.T) {
	parserReady(t)
	r, st := decodeFile(t, filepath.Join("..", "testdata", "encap", "icmp-unreach.pcap"), Options{})
	if len(r.msgs) != 1 || len(r.events) != 1 || st.ICMPEvents != 1 {
		t.Fatalf("got %d messages %d events (stats %+v), want 1 1", len(r.msgs), len(r.events), st)
	}
	e := r.events[0]
	if e.Kind != "icmp" || e.Detail != "destination unreachable: port unreachable" || e.Frame != 2 ||
		e.From.String() != "198.51.100.20" || e.Src.String() != "192.0.2.10:5060" || e.Dst.String() != "198.51.100.20:5060" ||
		e.Method != "INVITE" || e.CallID != "icmp@gencap.sipscope" || e.CSeq != 314159 || e.CSeqMethod != "INVITE" {
		t.Errorf("event: got %+v", e)
	}
}

// TestCorpusEncap checks the encapsulation paths found in real captures.
func TestCorpusEncap(t *testing.T) {
	parserReady(t)
	dir := corpusDir(t)
	cases := []struct {
		file string
		want map[string]int // encap path -> messages
	}{
		{"nDPI/gre_sip.pcapng", map[string]int{"eth/vlan:142/ipv4/gre/ppp/ipv4/udp": 35, "eth/vlan:155/vlan:1/pppoe/ppp/ipv4/gre/ppp/ipv4/udp": 1}},
		{"heplify/erspan_sip_ipv4_udp.pcapng", map[string]int{"eth/ipv4/gre/eth/ipv4/udp": 140}},
		{"arkime/arkime-gtp-iphone.pcap", map[string]int{"sll/ipv4/udp/gtp/ipv6/tcp": 13, "sll/ipv4/udp/gtp/ipv6/udp": 4}},
		{"PcapPlusPlus/sip_reqs.pcap", map[string]int{"eth/ipv4/udp": 2, "eth/pppoe/ppp/ipv4/udp": 2}},
		{"sngrep/ipv6frag.pcap", map[string]int{"sll/ipv6/udp": 32}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			r, _ := decodeFile(t, filepath.Join(dir, c.file), Options{})
			got := make(map[string]int)
			for _, m := range r.msgs {
				got[m.Encap]++
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}
