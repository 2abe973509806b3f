package decode

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipscope/sipscope/capture"
)

// got is what a test keeps of one message handed to the recorder.
type got struct {
	Method, CallID, CSeqMethod, Encap string
	Status                            int
	CSeq                              uint32
	Src, Dst                          string
	Transport                         Transport
	Frames                            []int64 // frame numbers
	FrameLens                         []int   // len(FrameRef.Data)
	Time                              time.Time
	Raw                               string
}

// recorder is a Handler that keeps a summary of every message and event.
type recorder struct {
	msgs   []got
	events []Event
}

func (r *recorder) Message(m *Message) {
	// Strings alias decoder buffers until Message returns: copy them.
	c := strings.Clone
	g := got{Method: c(m.Method), CallID: c(m.CallID), CSeqMethod: c(m.CSeqMethod), Encap: m.Encap, Status: m.Status,
		CSeq: m.CSeq, Src: m.Src.String(), Dst: m.Dst.String(), Transport: m.Transport, Time: m.Time, Raw: string(m.Raw)}
	for _, f := range m.Frames {
		g.Frames = append(g.Frames, f.Number)
		g.FrameLens = append(g.FrameLens, len(f.Data))
	}
	r.msgs = append(r.msgs, g)
}

func (r *recorder) Event(e *Event) { r.events = append(r.events, *e) }

// nopHandler drops everything (for allocation tests and benchmarks).
type nopHandler struct{}

func (nopHandler) Message(*Message) {}
func (nopHandler) Event(*Event)     {}

// decodeFile runs every frame of the capture at path through a new Decoder.
func decodeFile(t testing.TB, path string, opts Options) (*recorder, Stats) {
	t.Helper()
	r := &recorder{}
	d := New(opts, r)
	src, err := capture.Open([]string{path}, capture.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer src.Close()
	var f capture.Frame
	for {
		if err := src.Next(&f); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("read %s: %v", path, err)
			}
			break
		}
		d.Frame(&f)
	}
	d.Flush()
	return r, d.Stats()
}

// corpusDir returns ../shared/corpus relative to the module root, or skips.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "corpus")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("corpus of real captures not found at %s: %v", dir, err)
	}
	return dir
}

// parserReady skips tests that need messages when Parse is still a stub.
func parserReady(t testing.TB) {
	t.Helper()
	var m Message
	if err := Parse([]byte("OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"), &m); err != nil {
		t.Skipf("SIP parser not ready: %v", err)
	}
}

// Frame builders for unit tests.

func tEth(et uint16, payload []byte) []byte {
	b := make([]byte, 14, 14+len(payload))
	b[0], b[6] = 2, 2
	binary.BigEndian.PutUint16(b[12:], et)
	return append(b, payload...)
}

func tIPv4(proto byte, id uint16, more bool, off int, payload []byte) []byte {
	h := make([]byte, 20, 20+len(payload))
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
	binary.BigEndian.PutUint16(h[4:], id)
	ff := uint16(off / 8)
	if more {
		ff |= 0x2000
	}
	binary.BigEndian.PutUint16(h[6:], ff)
	h[8], h[9] = 64, proto
	copy(h[12:], []byte{192, 0, 2, 1, 192, 0, 2, 2})
	return append(h, payload...)
}

func tUDP(sport, dport uint16, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint16(b[4:], uint16(8+len(payload)))
	return append(b, payload...)
}

func tSIP(callID string) []byte {
	return []byte("OPTIONS sip:bob@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n" +
		"From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n" +
		"Call-ID: " + callID + "\r\nCSeq: 7 OPTIONS\r\nContent-Length: 0\r\n\r\n")
}

func frameOf(n int64, link capture.LinkType, data []byte, at time.Time) *capture.Frame {
	return &capture.Frame{File: "t", Number: n, Time: at, Link: link, Data: data, OrigLen: len(data)}
}

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func TestLinkCounters(t *testing.T) {
	arp := tEth(0x0806, make([]byte, 28))
	cases := []struct {
		name string
		link capture.LinkType
		data []byte
		want func(Stats) int64
	}{
		{"unknown link", 147, []byte{1, 2, 3}, func(s Stats) int64 { return s.UnsupportedLink }},
		{"arp", capture.LinkEthernet, arp, func(s Stats) int64 { return s.NonIP }},
		{"802.3 llc", capture.LinkEthernet, tEth(0x0026, make([]byte, 38)), func(s Stats) int64 { return s.NonIP }},
		{"short ethernet", capture.LinkEthernet, []byte{1, 2, 3}, func(s Stats) int64 { return s.Malformed }},
		{"bad ipv4 ihl", capture.LinkEthernet, tEth(0x0800, append([]byte{0x41}, make([]byte, 30)...)), func(s Stats) int64 { return s.Malformed }},
		{"rtp-ish udp", capture.LinkEthernet, tEth(0x0800, tIPv4(17, 1, false, 0, tUDP(4000, 4002, []byte{0x80, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}))), func(s Stats) int64 { return s.NonSIP }},
		{"keepalive", capture.LinkEthernet, tEth(0x0800, tIPv4(17, 1, false, 0, tUDP(5060, 5060, []byte("\r\n\r\n")))), func(s Stats) int64 { return s.NonSIP }},
		{"dtls on 5061", capture.LinkEthernet, tEth(0x0800, tIPv4(17, 1, false, 0, tUDP(5061, 40000, []byte{0x17, 0xfe, 0xfd, 0, 1, 2, 3}))), func(s Stats) int64 { return s.Encrypted }},
		{"ospf", capture.LinkEthernet, tEth(0x0800, tIPv4(89, 1, false, 0, make([]byte, 24))), func(s Stats) int64 { return s.NonSIP }},
		{"null unknown af", capture.LinkNull, []byte{7, 0, 0, 0, 1}, func(s Stats) int64 { return s.NonIP }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := New(Options{}, &recorder{})
			d.Frame(frameOf(1, c.link, c.data, t0))
			if n := c.want(d.Stats()); n != 1 {
				t.Errorf("counter = %d, want 1 (stats %+v)", n, d.Stats())
			}
		})
	}
}

func TestTruncatedBySnapLen(t *testing.T) {
	full := tEth(0x0800, tIPv4(17, 1, false, 0, tUDP(5060, 5060, tSIP("cut"))))
	f := frameOf(1, capture.LinkEthernet, full[:60], t0)
	f.OrigLen = len(full)
	d := New(Options{}, &recorder{})
	d.Frame(f)
	if s := d.Stats(); s.Truncated != 1 || s.Malformed != 0 {
		t.Errorf("got truncated %d malformed %d, want 1 0", s.Truncated, s.Malformed)
	}
}

func TestPathIntern(t *testing.T) {
	d := New(Options{}, nopHandler{})
	d.encap.push("eth")
	d.pushNum("vlan:", 100)
	d.encap.push("ipv4")
	if got := d.path(); got != "eth/vlan:100/ipv4" {
		t.Errorf("got %q, want eth/vlan:100/ipv4", got)
	}
}

func TestLinkPaths(t *testing.T) {
	parserReady(t)
	sip := tIPv4(17, 1, false, 0, tUDP(5060, 5060, tSIP("path")))
	ipv6 := func(next byte, payload []byte) []byte {
		h := make([]byte, 40, 40+len(payload))
		h[0], h[6], h[7] = 0x60, next, 64
		binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
		h[23], h[39] = 1, 2
		return append(h, payload...)
	}
	// hop-by-hop (8 bytes) then an atomic fragment header (RFC 6946), then UDP.
	ext := append([]byte{44, 0, 1, 4, 0, 0, 0, 0}, 17, 0, 0, 0, 0, 0, 0, 9)
	v6 := ipv6(0, append(ext, tUDP(5060, 5060, tSIP("path"))...))
	cases := []struct {
		name  string
		link  capture.LinkType
		data  []byte
		encap string
	}{
		{"ppp hdlc", capture.LinkPPP, append([]byte{0xff, 0x03, 0x00, 0x21}, sip...), "ppp/ipv4/udp"},
		{"ppp compressed", capture.LinkPPP, append([]byte{0x21}, sip...), "ppp/ipv4/udp"},
		{"mpls pw control word", capture.LinkEthernet, tEth(0x8847, append([]byte{0, 0x01, 0x01, 64, 0, 0, 0, 0}, tEth(0x0800, sip)...)), "eth/mpls:16/eth/ipv4/udp"},
		{"mpls pw no control word", capture.LinkEthernet, tEth(0x8847, append([]byte{0, 0x01, 0x01, 64}, tEth(0x0800, sip)...)), "eth/mpls:16/eth/ipv4/udp"},
		{"ipv6 extension headers", capture.LinkIPv6, v6, "ipv6/udp"},
		{"null big-endian", capture.LinkNull, append([]byte{0, 0, 0, 2}, sip...), "null/ipv4/udp"},
		{"gre routing", capture.LinkIPv4, tIPv4(47, 1, false, 0, append([]byte{0x40, 0, 0x08, 0, 0, 0, 0, 0, 0, 2, 0, 4, 1, 2, 3, 4, 0, 0, 0, 0}, sip...)), "ipv4/gre/ipv4/udp"},
		{"erspan3 ip frame", capture.LinkIPv4, tIPv4(47, 1, false, 0, append([]byte{0x10, 0, 0x22, 0xeb, 0, 0, 0, 1, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0}, sip...)), "ipv4/gre/erspan/ipv4/udp"},
		{"sll2 vlan", capture.LinkLinuxSLL2, append([]byte{0x81, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0x08, 0}, sip...), "sll2/vlan:7/ipv4/udp"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &recorder{}
			d := New(Options{}, r)
			d.Frame(frameOf(1, c.link, c.data, t0))
			if len(r.msgs) != 1 {
				t.Fatalf("got %d messages, want 1 (stats %+v)", len(r.msgs), d.Stats())
			}
			if r.msgs[0].Encap != c.encap || r.msgs[0].CallID != "path" {
				t.Errorf("got %q %q, want %q path", r.msgs[0].Encap, r.msgs[0].CallID, c.encap)
			}
		})
	}
}
