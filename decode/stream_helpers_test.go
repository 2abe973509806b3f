package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/sipscope/sipscope/capture"
)

// Helpers shared by the stream-layer tests (tcp, ws, sctp, hep).

// stMsg is one message the stream layers offered to emit, copied.
type stMsg struct {
	tr       Transport
	src, dst netip.AddrPort
	raw      string
	frames   []int64 // frame numbers
	at       time.Time
	hep      *HEPInfo
}

// stRecord installs emitHook for the test and returns the list it fills.
func stRecord(t testing.TB) *[]stMsg {
	t.Helper()
	var got []stMsg
	emitHook = func(tr Transport, src, dst netip.AddrPort, raw []byte, frames []FrameRef, at time.Time, hep *HEPInfo) {
		m := stMsg{tr: tr, src: src, dst: dst, raw: string(raw), at: at}
		for _, f := range frames {
			m.frames = append(m.frames, f.Number)
		}
		if hep != nil {
			h := *hep
			m.hep = &h
		}
		got = append(got, m)
	}
	t.Cleanup(func() { emitHook = nil })
	return &got
}

type stNopHandler struct{}

func (stNopHandler) Message(*Message) {}
func (stNopHandler) Event(*Event)     {}

func stDecoder(o Options) *Decoder { return New(o, stNopHandler{}) }

var (
	stA = netip.MustParseAddr("10.0.0.1")
	stB = netip.MustParseAddr("10.0.0.2")
	stT = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
)

// stPkt makes the pkt of frame n at stT+n ms carrying data.
func stPkt(n int64, src, dst netip.Addr, data []byte) *pkt {
	at := stT.Add(time.Duration(n) * time.Millisecond)
	f := &capture.Frame{File: "test", Number: n, Time: at, Data: data, OrigLen: len(data)}
	return &pkt{frame: f, time: at, src: src, dst: dst,
		frames: []FrameRef{{File: "test", Number: n, Time: at, Data: data, OrigLen: len(data)}}}
}

// TCP flags.
const (
	stFIN = 0x01
	stSYN = 0x02
	stRST = 0x04
	stACK = 0x10
)

// stSeg builds a TCP header and payload.
func stSeg(sport, dport uint16, seq uint32, flags byte, payload string) []byte {
	b := make([]byte, 20, 20+len(payload))
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint32(b[4:], seq)
	b[12] = 5 << 4
	b[13] = flags
	return append(b, payload...)
}

// stSIP returns a SIP request with a body of n bytes.
func stSIP(method string, cseq, n int) string {
	body := bytes.Repeat([]byte("x"), n)
	return method + " sip:bob@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK" + method + "\r\n" +
		"Call-ID: abc@10.0.0.1\r\n" +
		"CSeq: " + itoa(cseq) + " " + method + "\r\n" +
		"Content-Length: " + itoa(n) + "\r\n\r\n" + string(body)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// stCorpus returns the path of a corpus file or skips the test.
func stCorpus(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "shared", "corpus", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("corpus file %s not available: %v", name, err)
	}
	return p
}

// stPacket is one packet of a capture file with its layers found by
// gopacket, so these tests do not depend on our own packet layers.
type stPacket struct {
	p        *pkt
	proto    layers.IPProtocol
	l4       []byte // TCP or SCTP packet, or UDP payload
	sport    uint16
	dport    uint16
	hasPorts bool
}

// stReadCapture reads a pcap or pcapng file and yields IP packets.
func stReadCapture(t testing.TB, path string, fn func(sp stPacket)) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type reader interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var r reader
	var link layers.LinkType
	if pr, err := pcapgo.NewReader(bytes.NewReader(data)); err == nil {
		r, link = pr, pr.LinkType()
	} else if nr, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.DefaultNgReaderOptions); err == nil {
		r, link = nr, nr.LinkType()
	} else {
		t.Fatalf("read %s: %v", path, err)
	}
	for n := int64(1); ; n++ {
		b, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		pk := gopacket.NewPacket(b, link, gopacket.Default)
		var sp stPacket
		p := &pkt{frame: &capture.Frame{File: path, Number: n, Time: ci.Timestamp.UTC(), Data: b, OrigLen: ci.Length},
			time: ci.Timestamp.UTC(), frames: []FrameRef{{File: path, Number: n, Time: ci.Timestamp.UTC(), Data: b, OrigLen: ci.Length}}}
		var payload []byte
		switch ip := pk.NetworkLayer().(type) {
		case *layers.IPv4:
			p.src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
			p.dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
			sp.proto, payload = ip.Protocol, ip.Payload
		case *layers.IPv6:
			p.src, _ = netip.AddrFromSlice(ip.SrcIP)
			p.dst, _ = netip.AddrFromSlice(ip.DstIP)
			sp.proto, payload = ip.NextHeader, ip.Payload
		default:
			continue
		}
		sp.p, sp.l4 = p, payload
		if sp.proto == layers.IPProtocolUDP && len(payload) >= 8 {
			sp.sport = binary.BigEndian.Uint16(payload[0:])
			sp.dport = binary.BigEndian.Uint16(payload[2:])
			sp.l4, sp.hasPorts = payload[8:], true
		}
		fn(sp)
	}
}

// stFeed decodes a capture through the stream layers: TCP and SCTP
// packets and UDP payloads offered to onHEP.
func stFeed(t testing.TB, d *Decoder, path string) {
	stReadCapture(t, path, func(sp stPacket) {
		switch sp.proto {
		case layers.IPProtocolTCP:
			d.onTCP(sp.p, sp.l4)
		case layers.IPProtocolSCTP:
			d.onSCTP(sp.p, sp.l4)
		case layers.IPProtocolUDP:
			d.onHEP(sp.p, sp.sport, sp.dport, sp.l4)
		}
	})
	d.Flush()
}
