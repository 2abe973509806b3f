// Command genstream writes the byte-exact stream-layer edge cases in
// testdata/stream/ (TCP reordering and gaps, WebSocket framing, SCTP
// bundling, HEP v1/v2/v3): the captures real peers do not produce on
// demand. Run from the module root:
//
//	go run ./scripts/genstream [-out testdata/stream]
//
// Every frame is Ethernet/IPv4 with correct IPv4, TCP and UDP checksums
// (SCTP's CRC32c too), timestamps start at 2024-01-01T00:00:00Z and step
// 10 ms, so the output is the same on every run.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"fmt"
	"hash/crc32"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

var (
	client = netip.MustParseAddr("192.0.2.10")
	server = netip.MustParseAddr("192.0.2.20")
	agent  = netip.MustParseAddr("198.51.100.5")
	homer  = netip.MustParseAddr("198.51.100.9")
)

// capFile collects frames for one pcap.
type capFile struct {
	t      time.Time
	frames [][]byte
	times  []time.Time
}

func newCap() *capFile { return &capFile{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *capFile) add(ipPayload []byte, proto byte, src, dst netip.Addr) {
	ip := ipv4(proto, src, dst, ipPayload)
	eth := append([]byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00}, ip...)
	c.frames = append(c.frames, eth)
	c.times = append(c.times, c.t)
	c.t = c.t.Add(10 * time.Millisecond)
}

func (c *capFile) write(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		f.Close()
		return err
	}
	for i, b := range c.frames {
		ci := gopacket.CaptureInfo{Timestamp: c.times[i], CaptureLength: len(b), Length: len(b)}
		if err := w.WritePacket(ci, b); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

func csum(b []byte, sum uint32) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

var ipID uint16

func ipv4(proto byte, src, dst netip.Addr, payload []byte) []byte {
	ipID++
	h := make([]byte, 20)
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
	binary.BigEndian.PutUint16(h[4:], ipID)
	h[6] = 0x40 // DF
	h[8] = 64
	h[9] = proto
	s, d := src.As4(), dst.As4()
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	binary.BigEndian.PutUint16(h[10:], csum(h, 0))
	return append(h, payload...)
}

func pseudo(proto byte, src, dst netip.Addr, n int) uint32 {
	s, d := src.As4(), dst.As4()
	var sum uint32
	for _, a := range [][4]byte{s, d} {
		sum += uint32(binary.BigEndian.Uint16(a[0:])) + uint32(binary.BigEndian.Uint16(a[2:]))
	}
	return sum + uint32(proto) + uint32(n)
}

const (
	fin = 0x01
	syn = 0x02
	psh = 0x08
	ack = 0x10
)

func tcp(src, dst netip.AddrPort, seq, ackn uint32, flags byte, payload string) []byte {
	b := make([]byte, 20, 20+len(payload))
	binary.BigEndian.PutUint16(b[0:], src.Port())
	binary.BigEndian.PutUint16(b[2:], dst.Port())
	binary.BigEndian.PutUint32(b[4:], seq)
	binary.BigEndian.PutUint32(b[8:], ackn)
	b[12] = 5 << 4
	b[13] = flags
	binary.BigEndian.PutUint16(b[14:], 65535)
	b = append(b, payload...)
	binary.BigEndian.PutUint16(b[16:], csum(b, pseudo(6, src.Addr(), dst.Addr(), len(b))))
	return b
}

func udp(src, dst netip.AddrPort, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(b[0:], src.Port())
	binary.BigEndian.PutUint16(b[2:], dst.Port())
	binary.BigEndian.PutUint16(b[4:], uint16(8+len(payload)))
	b = append(b, payload...)
	c := csum(b, pseudo(17, src.Addr(), dst.Addr(), len(b)))
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(b[6:], c)
	return b
}

// conn is one TCP connection being written, with its sequence numbers.
type conn struct {
	c          *capFile
	cli, srv   netip.AddrPort
	cseq, sseq uint32
}

func newConn(c *capFile, cport, sport uint16) *conn {
	k := &conn{c: c, cli: netip.AddrPortFrom(client, cport), srv: netip.AddrPortFrom(server, sport), cseq: 1000, sseq: 5000}
	c.add(tcp(k.cli, k.srv, k.cseq, 0, syn, ""), 6, client, server)
	c.add(tcp(k.srv, k.cli, k.sseq, k.cseq+1, syn|ack, ""), 6, server, client)
	k.cseq++
	k.sseq++
	c.add(tcp(k.cli, k.srv, k.cseq, k.sseq, ack, ""), 6, client, server)
	return k
}

// at sends client bytes at a relative offset without moving the stream on.
func (k *conn) at(off int, s string) {
	k.c.add(tcp(k.cli, k.srv, k.cseq+uint32(off), k.sseq, psh|ack, s), 6, client, server)
}

func (k *conn) send(s string) {
	k.at(0, s)
	k.cseq += uint32(len(s))
}

func (k *conn) reply(s string) {
	k.c.add(tcp(k.srv, k.cli, k.sseq, k.cseq, psh|ack, s), 6, server, client)
	k.sseq += uint32(len(s))
}

func (k *conn) close() {
	k.c.add(tcp(k.cli, k.srv, k.cseq, k.sseq, fin|ack, ""), 6, client, server)
	k.c.add(tcp(k.srv, k.cli, k.sseq, k.cseq+1, fin|ack, ""), 6, server, client)
}

// sip returns a request (or, with a numeric method, a response) with a
// body of n bytes.
func sip(method string, cseq int, n int, transport string) string {
	start := method + " sip:bob@example.com SIP/2.0"
	m := method
	if method[0] >= '0' && method[0] <= '9' {
		start, m = "SIP/2.0 "+method+" OK", "INVITE"
	}
	h := start + "\r\n" +
		"Via: SIP/2.0/" + transport + " 192.0.2.10:5060;branch=z9hG4bK-" + fmt.Sprint(cseq) + "\r\n" +
		"From: <sip:alice@example.com>;tag=a1\r\n" +
		"To: <sip:bob@example.com>\r\n" +
		"Call-ID: genstream-" + fmt.Sprint(cseq) + "@192.0.2.10\r\n" +
		fmt.Sprintf("CSeq: %d %s\r\n", cseq, m)
	if n == 0 {
		return h + "Content-Length: 0\r\n\r\n"
	}
	body := "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
	for len(body) < n {
		body += "a=x-pad:" + strings.Repeat("p", 60) + "\r\n"
	}
	body = body[:n-2] + "\r\n"
	return h + "Content-Type: application/sdp\r\n" + fmt.Sprintf("Content-Length: %d\r\n\r\n", n) + body
}

func wsFrame(fin bool, op byte, mask bool, long bool, payload string) string {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	var m byte
	if mask {
		m = 0x80
	}
	switch n := len(payload); {
	case long || n >= 1<<16:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	case n < 126:
		b = append(b, m|byte(n))
	default:
		b = append(b, m|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	}
	p := []byte(payload)
	if mask {
		key := []byte{0xa1, 0xb2, 0xc3, 0xd4}
		b = append(b, key...)
		for i := range p {
			p[i] ^= key[i&3]
		}
	}
	return string(append(b, p...))
}

const wsReq = "GET /sip HTTP/1.1\r\nHost: 192.0.2.20:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n"
const wsResp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sip\r\n\r\n"

func wsConn(c *capFile) *conn {
	k := newConn(c, 50000, 8080)
	k.send(wsReq)
	k.reply(wsResp)
	return k
}

func sctpPacket(chunks ...[]byte) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint16(b[0:], 5060)
	binary.BigEndian.PutUint16(b[2:], 5060)
	binary.BigEndian.PutUint32(b[4:], 0x01020304)
	for _, c := range chunks {
		b = append(b, c...)
	}
	// RFC 9260 Appendix A: CRC32c over the packet with the field zeroed,
	// stored little-endian.
	binary.LittleEndian.PutUint32(b[8:], crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
	return b
}

func dataChunk(flags byte, tsn uint32, stream, ssn uint16, data string) []byte {
	b := make([]byte, 16)
	b[0], b[1] = 0, flags
	binary.BigEndian.PutUint16(b[2:], uint16(16+len(data)))
	binary.BigEndian.PutUint32(b[4:], tsn)
	binary.BigEndian.PutUint16(b[8:], stream)
	binary.BigEndian.PutUint16(b[10:], ssn)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func hep3(payloadType uint16, payload []byte, sec uint32) []byte {
	b := []byte("HEP3\x00\x00")
	chunk := func(typ uint16, v []byte) {
		b = binary.BigEndian.AppendUint16(b, 0)
		b = binary.BigEndian.AppendUint16(b, typ)
		b = binary.BigEndian.AppendUint16(b, uint16(6+len(v)))
		b = append(b, v...)
	}
	s, d := client.As4(), server.As4()
	chunk(0x0001, []byte{2})
	chunk(0x0002, []byte{17})
	chunk(0x0003, s[:])
	chunk(0x0004, d[:])
	chunk(0x0007, binary.BigEndian.AppendUint16(nil, 5060))
	chunk(0x0008, binary.BigEndian.AppendUint16(nil, 5060))
	chunk(0x0009, binary.BigEndian.AppendUint32(nil, sec))
	chunk(0x000a, binary.BigEndian.AppendUint32(nil, 250000))
	chunk(0x000b, []byte{1})
	chunk(0x000c, binary.BigEndian.AppendUint32(nil, 2001))
	chunk(0x000e, []byte("secret"))
	chunk(0x0011, []byte("genstream-1@192.0.2.10"))
	chunk(0x0013, []byte("genstream-node"))
	chunk(payloadType, payload)
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)))
	return b
}

func hep12(version byte, payload string, sec uint32) []byte {
	s, d := client.As4(), server.As4()
	b := []byte{version, 16, 2, 17, 0x13, 0xc4, 0x13, 0xc4}
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	if version == 2 {
		b[1] = 28
		b = binary.LittleEndian.AppendUint32(b, sec)
		b = binary.LittleEndian.AppendUint32(b, 250000)
		b = binary.LittleEndian.AppendUint16(b, 2001)
		b = append(b, 0, 0)
	}
	return append(b, payload...)
}

func hepFile(mk func(i int, msg string) []byte) *capFile {
	c := newCap()
	src, dst := netip.AddrPortFrom(agent, 40000), netip.AddrPortFrom(homer, 9060)
	for i, m := range []string{sip("INVITE", 1, 200, "UDP"), sip("200", 1, 200, "UDP"), sip("ACK", 1, 0, "UDP")} {
		c.add(udp(src, dst, mk(i, m)), 17, agent, homer)
	}
	return c
}

func main() {
	out := flag.String("out", "testdata/stream", "output directory")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	files := map[string]func() *capFile{
		// One INVITE over 3 segments sent 3,1,2 with a retransmission of
		// 1 and a segment overlapping 1 and 2; then 3 messages in one
		// segment.
		"tcp-ooo": func() *capFile {
			c := newCap()
			k := newConn(c, 40001, 5060)
			inv := sip("INVITE", 1, 600, "TCP")
			a, b := len(inv)/3, 2*len(inv)/3
			k.at(b, inv[b:])
			k.at(0, inv[:a])
			k.at(0, inv[:a])
			k.at(a-10, inv[a-10:b+5])
			k.cseq += uint32(len(inv))
			k.reply(sip("200", 1, 0, "TCP"))
			k.send(sip("ACK", 1, 0, "TCP") + sip("BYE", 2, 0, "TCP") + sip("OPTIONS", 3, 0, "TCP"))
			k.close()
			return c
		},
		// INVITE, a lost segment in the middle of the second message (a
		// MESSAGE), then a BYE: 2 messages and one gap.
		"tcp-gap": func() *capFile {
			c := newCap()
			k := newConn(c, 40002, 5060)
			k.send(sip("INVITE", 1, 300, "TCP"))
			msg := sip("MESSAGE", 2, 300, "TCP")
			k.send(msg[:100])
			k.cseq += uint32(len(msg) - 200) // lost
			k.send(msg[len(msg)-100:])
			k.send(sip("BYE", 3, 0, "TCP"))
			k.close()
			return c
		},
		"ws-masked-small": func() *capFile {
			c := newCap()
			k := wsConn(c)
			small := "OPTIONS sip:bob@example.com SIP/2.0\r\nCall-ID: ws1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
			k.send(wsFrame(true, 1, true, false, small))
			k.reply(wsFrame(true, 1, false, false, "SIP/2.0 200 OK\r\nCall-ID: ws1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"))
			k.send(wsFrame(true, 9, true, false, "ping"))
			k.reply(wsFrame(true, 10, false, false, "ping"))
			k.close()
			return c
		},
		"ws-fragmented": func() *capFile {
			c := newCap()
			k := wsConn(c)
			inv := sip("INVITE", 1, 400, "WS")
			k.send(wsFrame(false, 1, true, false, inv[:150]))
			k.send(wsFrame(true, 9, true, false, ""))
			k.send(wsFrame(false, 0, true, false, inv[150:300]) + wsFrame(true, 0, true, false, inv[300:]))
			k.reply(wsFrame(true, 2, false, false, sip("200", 1, 0, "WS")))
			k.close()
			return c
		},
		"ws-64bit-length": func() *capFile {
			c := newCap()
			k := wsConn(c)
			inv := sip("INVITE", 1, 300, "WS")
			f := wsFrame(true, 1, true, true, inv)
			k.send(f[:200])
			k.send(f[200:])
			k.close()
			return c
		},
		"sctp-bundled": func() *capFile {
			c := newCap()
			inv := sip("INVITE", 1, 400, "SCTP")
			c.add(sctpPacket(dataChunk(0x03, 1, 0, 0, sip("OPTIONS", 9, 0, "SCTP")), dataChunk(0x03, 2, 1, 0, sip("REGISTER", 8, 0, "SCTP"))), 132, client, server)
			c.add(sctpPacket(dataChunk(0x02, 3, 0, 1, inv[:200])), 132, client, server)
			c.add(sctpPacket(dataChunk(0x01, 4, 0, 1, inv[200:]), dataChunk(0x03, 5, 2, 0, sip("BYE", 7, 0, "SCTP"))), 132, client, server)
			return c
		},
		"hep1": func() *capFile {
			return hepFile(func(i int, m string) []byte { return hep12(1, m, 0) })
		},
		"hep2": func() *capFile {
			return hepFile(func(i int, m string) []byte { return hep12(2, m, 1700000000+uint32(i)) })
		},
		"hep3": func() *capFile {
			return hepFile(func(i int, m string) []byte { return hep3(0x000f, []byte(m), 1700000000+uint32(i)) })
		},
		"hep3-gzip": func() *capFile {
			return hepFile(func(i int, m string) []byte {
				var buf bytes.Buffer
				w := gzip.NewWriter(&buf)
				w.Write([]byte(m))
				w.Close()
				return hep3(0x0010, buf.Bytes(), 1700000000+uint32(i))
			})
		},
	}
	for name, mk := range files {
		ipID = 0 // IP ids restart in every file: output independent of map order
		if err := mk().write(filepath.Join(*out, name+".pcap")); err != nil {
			fmt.Fprintln(os.Stderr, "genstream:", err)
			os.Exit(1)
		}
	}
}
