package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

func listenHEP(t *testing.T, spec string, o HEPOptions) *HEPListener {
	t.Helper()
	src, err := ListenHEP(context.Background(), spec, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src.(*HEPListener)
}

// nextTimeout reads one frame or fails after a while.
func nextTimeout(t *testing.T, l *HEPListener, f *Frame) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	select {
	case p := <-l.queue:
		*f = Frame{File: l.spec, Link: LinkTypeHEP, Data: p.data, Time: p.at}
	case <-ctx.Done():
		t.Fatalf("no HEP packet within 5s (stats %+v)", l.Stats())
	}
}

// TestHEPRoundTrip sends messages with our sender and receives them with
// our listener over loopback UDP and TCP, IPv4 and IPv6, and checks every
// chunk survived.
func TestHEPRoundTrip(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			l := listenHEP(t, network+":127.0.0.1:0", HEPOptions{Password: "s3cret"})
			spec := network + ":" + l.Addr().String()
			opts := HEPSendOptions{ID: 4242, Name: "edge-1", Password: "s3cret"}
			s, err := NewHEPSender(spec, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			at := time.Date(2026, 12, 3, 11, 0, 0, 123456000, time.UTC)
			cases := []struct {
				src, dst netip.AddrPort
				proto    uint8
			}{
				{netip.MustParseAddrPort("192.0.2.1:5060"), netip.MustParseAddrPort("198.51.100.7:5080"), 17},
				{netip.MustParseAddrPort("[2001:db8::1]:5061"), netip.MustParseAddrPort("[2001:db8::2]:40000"), 6},
			}
			for i, c := range cases {
				payload := []byte(fmt.Sprintf("OPTIONS sip:%d@example.com SIP/2.0\r\nCall-ID: %d\r\n\r\n", i, i))
				if err := s.Send(c.src, c.dst, c.proto, at, payload); err != nil {
					t.Fatal(err)
				}
				var f Frame
				if err := l.Next(&f); err != nil {
					t.Fatal(err)
				}
				if f.Link != LinkTypeHEP || f.File != network+":127.0.0.1:0" {
					t.Errorf("frame link %d file %q, want %d and the spec", f.Link, f.File, LinkTypeHEP)
				}
				ch := chunks(t, f.Data)
				want := map[uint16][]byte{
					hepChunkProto: {c.proto}, hepChunkType: {1}, hepChunkNodeName: []byte("edge-1"),
					hepChunkAuthKey: []byte("s3cret"), hepChunkPayload: payload,
					hepChunkAgentID: binary.BigEndian.AppendUint32(nil, 4242),
					hepChunkSport:   binary.BigEndian.AppendUint16(nil, c.src.Port()),
					hepChunkDport:   binary.BigEndian.AppendUint16(nil, c.dst.Port()),
					hepChunkSec:     binary.BigEndian.AppendUint32(nil, uint32(at.Unix())),
					hepChunkUsec:    binary.BigEndian.AppendUint32(nil, 123456),
				}
				if c.src.Addr().Is4() {
					want[hepChunkFamily] = []byte{2}
					want[hepChunkSrc4] = c.src.Addr().AsSlice()
					want[hepChunkDst4] = c.dst.Addr().AsSlice()
				} else {
					want[hepChunkFamily] = []byte{10}
					want[hepChunkSrc6] = c.src.Addr().AsSlice()
					want[hepChunkDst6] = c.dst.Addr().AsSlice()
				}
				for typ, v := range want {
					if !bytes.Equal(ch[typ], v) {
						t.Errorf("message %d chunk %#x = %q, want %q", i, typ, ch[typ], v)
					}
				}
			}
			if st := l.Stats(); st.Packets != 2 || st.Bad+st.BadPassword+st.Dropped != 0 {
				t.Errorf("stats %+v, want 2 packets and no drops", st)
			}
		})
	}
}

// chunks maps a HEP3 packet's chunk types to values.
func chunks(t *testing.T, b []byte) map[uint16][]byte {
	t.Helper()
	if string(b[:4]) != "HEP3" || int(binary.BigEndian.Uint16(b[4:])) != len(b) {
		t.Fatalf("not a HEP3 packet of length %d: %q", len(b), b[:6])
	}
	m := map[uint16][]byte{}
	for off := 6; off < len(b); {
		n := int(binary.BigEndian.Uint16(b[off+4:]))
		m[binary.BigEndian.Uint16(b[off+2:])] = b[off+6 : off+n]
		off += n
	}
	return m
}

// TestHEPDrops checks junk, wrong passwords and a flood are counted and
// dropped while the listener keeps working.
func TestHEPDrops(t *testing.T) {
	l := listenHEP(t, "udp:127.0.0.1:0", HEPOptions{Password: "pw", Queue: 4})
	c, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	src, dst := netip.MustParseAddrPort("10.0.0.1:5060"), netip.MustParseAddrPort("10.0.0.2:5060")
	good, _ := AppendHEP3(nil, HEPSendOptions{ID: 1, Password: "pw"}, src, dst, 17, time.Now(), []byte("BYE sip:a SIP/2.0\r\n\r\n"))
	wrong, _ := AppendHEP3(nil, HEPSendOptions{ID: 1, Password: "nope"}, src, dst, 17, time.Now(), []byte("BYE sip:a SIP/2.0\r\n\r\n"))
	none, _ := AppendHEP3(nil, HEPSendOptions{ID: 1}, src, dst, 17, time.Now(), []byte("BYE sip:a SIP/2.0\r\n\r\n"))
	short := append([]byte(nil), good...)
	binary.BigEndian.PutUint16(short[4:], uint16(len(good)+10)) // claims more than it has
	for _, b := range [][]byte{[]byte("hello"), short, wrong, none} {
		c.Write(b)
	}
	// A flood: nobody calls Next, the queue holds 4.
	for i := 0; i < 50; i++ {
		c.Write(good)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if st := l.Stats(); st.Packets+st.Dropped >= 50 && st.Bad == 2 && st.BadPassword == 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	st := l.Stats()
	if st.Bad != 2 || st.BadPassword != 2 || st.Packets != 4 || st.Dropped != 46 {
		t.Errorf("stats %+v, want 2 bad, 2 bad password, 4 queued, 46 dropped", st)
	}
	if len(l.Warnings()) != 3 {
		t.Errorf("warnings %q, want three", l.Warnings())
	}
	var f Frame
	for i := 0; i < 4; i++ {
		nextTimeout(t, l, &f)
		if !bytes.Equal(f.Data, good) {
			t.Fatalf("frame %d is not the good packet", i)
		}
	}
}

// TestHEPTCPFraming sends packets split and glued across TCP writes, then
// a stream that is not HEP3, which is counted and closed.
func TestHEPTCPFraming(t *testing.T) {
	l := listenHEP(t, "tcp:127.0.0.1:0", HEPOptions{})
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	src, dst := netip.MustParseAddrPort("10.0.0.1:5060"), netip.MustParseAddrPort("10.0.0.2:5060")
	var all []byte
	var want [][]byte
	for i := 0; i < 3; i++ {
		b, _ := AppendHEP3(nil, HEPSendOptions{ID: uint32(i)}, src, dst, 6, time.Now(), bytes.Repeat([]byte{'x'}, 100*i+1))
		want = append(want, b)
		all = append(all, b...)
	}
	c.Write(all[:3])
	time.Sleep(20 * time.Millisecond)
	c.Write(all[3:50])
	time.Sleep(20 * time.Millisecond)
	c.Write(all[50:])
	for i := range want {
		var f Frame
		nextTimeout(t, l, &f)
		if !bytes.Equal(f.Data, want[i]) {
			t.Fatalf("packet %d: got %d bytes, want %d", i, len(f.Data), len(want[i]))
		}
	}
	c.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("connection not closed after junk")
	}
	if st := l.Stats(); st.Bad != 1 || st.Conns != 1 {
		t.Errorf("stats %+v, want 1 bad, 1 connection", st)
	}
}

func TestHEPListenEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	src, err := ListenHEP(ctx, "udp:127.0.0.1:0", HEPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	var f Frame
	if err := src.Next(&f); !errors.Is(err, io.EOF) {
		t.Errorf("Next after cancel = %v, want io.EOF", err)
	}
	if err := src.Close(); err != nil {
		t.Error(err)
	}
	for _, spec := range []string{"udp", "sctp:127.0.0.1:9060", "udp:127.0.0.1", "tcp:nohost"} {
		if _, err := ListenHEP(context.Background(), spec, HEPOptions{}); err == nil {
			t.Errorf("ListenHEP(%q) accepted it", spec)
		}
	}
	if _, err := AppendHEP3(nil, HEPSendOptions{}, netip.MustParseAddrPort("10.0.0.1:1"),
		netip.MustParseAddrPort("[::1]:2"), 17, time.Now(), nil); err == nil {
		t.Error("AppendHEP3 with mixed families accepted it")
	}
}

// FuzzCheckHEP: the listener's framing check never panics, and what it
// accepts has a length field that fits.
func FuzzCheckHEP(f *testing.F) {
	good, _ := AppendHEP3(nil, HEPSendOptions{ID: 1, Name: "n", Password: "pw"}, netip.MustParseAddrPort("10.0.0.1:5060"),
		netip.MustParseAddrPort("10.0.0.2:5060"), 17, time.Unix(1700000000, 0), []byte("OPTIONS sip:a SIP/2.0\r\n\r\n"))
	f.Add(good, "pw")
	f.Add(good, "")
	f.Add([]byte{2, 16, 2, 17, 0x13, 0xc4, 0x13, 0xc5, 10, 1, 1, 1, 10, 1, 1, 2}, "")
	f.Fuzz(func(t *testing.T, b []byte, pw string) {
		if checkHEP(b, pw) == hepOK && len(b) >= 6 && string(b[:4]) == "HEP3" {
			if n := int(binary.BigEndian.Uint16(b[4:6])); n > len(b) {
				t.Fatalf("accepted a HEP3 length %d over %d bytes", n, len(b))
			}
		}
	})
}
