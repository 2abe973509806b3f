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
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// LinkTypeHEP marks a frame whose Data is one HEP (Homer Encapsulation
// Protocol) packet, as received by a HEP listener: v1/v2 header or HEP3
// chunks, with the original addresses, ports, time and agent inside. It is
// DLT_USER15 (LINKTYPE_USER15, 162), a value reserved for private use, so a
// pcap written with it is read back by sipscope and by no one else.
const LinkTypeHEP LinkType = 162

// HEP3 chunk types (vendor 0) the listener and sender use; decode/hep.go
// reads all of them.
const (
	hepChunkFamily   = 0x0001
	hepChunkProto    = 0x0002
	hepChunkSrc4     = 0x0003
	hepChunkDst4     = 0x0004
	hepChunkSrc6     = 0x0005
	hepChunkDst6     = 0x0006
	hepChunkSport    = 0x0007
	hepChunkDport    = 0x0008
	hepChunkSec      = 0x0009
	hepChunkUsec     = 0x000a
	hepChunkType     = 0x000b
	hepChunkAgentID  = 0x000c
	hepChunkAuthKey  = 0x000e
	hepChunkPayload  = 0x000f
	hepChunkNodeName = 0x0013
)

// maxHEP is the largest HEP3 packet: its length field is 16 bits.
const maxHEP = 65535

// HEPOptions configures a HEP listener.
type HEPOptions struct {
	// Password, when set, is the HEP3 auth key (chunk 0x000e) every packet
	// must carry; packets without it or with another one are dropped and
	// counted. HEP v1 and v2 have no key and are dropped too.
	Password string
	// Queue is how many packets wait between the network and Next before
	// more are dropped and counted as a flood (default 8192).
	Queue int
	// MaxConns bounds concurrent TCP connections (default 256).
	MaxConns int
}

// HEPStats counts what a HEP listener received. All counts are since the
// listener started.
type HEPStats struct {
	Packets     uint64 // HEP packets queued for Next
	Bad         uint64 // datagrams or TCP frames that are not HEP
	BadPassword uint64 // HEP packets without the right auth key
	Dropped     uint64 // good packets dropped because Next fell behind (flood)
	Conns       uint64 // TCP connections accepted
	Refused     uint64 // TCP connections refused over MaxConns
}

// HEPListener receives HEP over UDP or TCP. It is a Source: each HEP packet
// is a Frame of link type LinkTypeHEP. Reading the network happens in
// goroutines of its own that never wait for Next: when the queue is full a
// packet is dropped and counted, so a flood cannot stall capture.
// Next is for one goroutine; Stats and Addr may be called from any.
type HEPListener struct {
	spec  string
	opts  HEPOptions
	ctx   context.Context
	stop  context.CancelFunc
	queue chan heldPacket
	udp   net.PacketConn
	tcp   net.Listener
	wg    sync.WaitGroup
	n     int64
	conns atomic.Int64

	packets, bad, badPass, dropped, accepted, refused atomic.Uint64
}

type heldPacket struct {
	at   time.Time
	data []byte
}

// ListenHEP listens for HEP at spec, "udp:ADDR:PORT" or "tcp:ADDR:PORT"
// (ADDR may be empty for all addresses, PORT 0 for any free port; see
// Addr). Over TCP each packet is framed by its HEP3 length field. The
// listener stops, and Next returns io.EOF, when ctx ends or on Close.
// The Source returned is a *HEPListener.
func ListenHEP(ctx context.Context, spec string, opts HEPOptions) (Source, error) {
	network, addr, err := splitHEPSpec(spec)
	if err != nil {
		return nil, err
	}
	if opts.Queue <= 0 {
		opts.Queue = 8192
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 256
	}
	l := &HEPListener{spec: spec, opts: opts, queue: make(chan heldPacket, opts.Queue)}
	l.ctx, l.stop = context.WithCancel(ctx)
	var lc net.ListenConfig
	if network == "udp" {
		c, err := lc.ListenPacket(l.ctx, "udp", addr)
		if err != nil {
			l.stop()
			return nil, fmt.Errorf("hep listen %s: %w", spec, err)
		}
		if uc, ok := c.(*net.UDPConn); ok {
			uc.SetReadBuffer(4 << 20) // best effort: absorb bursts in the kernel
		}
		l.udp = c
		l.wg.Add(1)
		go l.readUDP()
	} else {
		ln, err := lc.Listen(l.ctx, "tcp", addr)
		if err != nil {
			l.stop()
			return nil, fmt.Errorf("hep listen %s: %w", spec, err)
		}
		l.tcp = ln
		l.wg.Add(1)
		go l.acceptTCP()
	}
	// Closing the sockets is what wakes the blocked reads.
	context.AfterFunc(l.ctx, func() {
		if l.udp != nil {
			l.udp.Close()
		}
		if l.tcp != nil {
			l.tcp.Close()
		}
	})
	return l, nil
}

// splitHEPSpec splits "udp:ADDR:PORT" into network and address.
func splitHEPSpec(spec string) (network, addr string, err error) {
	network, addr, ok := strings.Cut(spec, ":")
	if !ok || (network != "udp" && network != "tcp") {
		return "", "", fmt.Errorf("hep address %q: want udp:ADDR:PORT or tcp:ADDR:PORT", spec)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", "", fmt.Errorf("hep address %q: want udp:ADDR:PORT or tcp:ADDR:PORT: %v", spec, err)
	}
	return network, addr, nil
}

// Addr is the address the listener is bound to.
func (l *HEPListener) Addr() net.Addr {
	if l.udp != nil {
		return l.udp.LocalAddr()
	}
	return l.tcp.Addr()
}

// Stats returns the listener's counts so far.
func (l *HEPListener) Stats() HEPStats {
	return HEPStats{Packets: l.packets.Load(), Bad: l.bad.Load(), BadPassword: l.badPass.Load(),
		Dropped: l.dropped.Load(), Conns: l.accepted.Load(), Refused: l.refused.Load()}
}

// Next waits for the next HEP packet. f.Data is owned by f until the next
// call; f.Time is when it arrived (the HEP header has the capture time).
func (l *HEPListener) Next(f *Frame) error {
	select {
	case p := <-l.queue:
		l.n++
		*f = Frame{File: l.spec, Number: l.n, Time: p.at, Link: LinkTypeHEP, Data: p.data, OrigLen: len(p.data)}
		return nil
	case <-l.ctx.Done():
		// Hand over what was already queued before reporting the end.
		select {
		case p := <-l.queue:
			l.n++
			*f = Frame{File: l.spec, Number: l.n, Time: p.at, Link: LinkTypeHEP, Data: p.data, OrigLen: len(p.data)}
			return nil
		default:
		}
		return io.EOF
	}
}

// Warnings reports dropped packets, naming the listener.
func (l *HEPListener) Warnings() []string {
	s := l.Stats()
	var w []string
	if s.Bad > 0 {
		w = append(w, fmt.Sprintf("%s: %d packets that are not HEP dropped", l.spec, s.Bad))
	}
	if s.BadPassword > 0 {
		w = append(w, fmt.Sprintf("%s: %d HEP packets with a wrong or missing password dropped", l.spec, s.BadPassword))
	}
	if s.Dropped > 0 {
		w = append(w, fmt.Sprintf("%s: %d HEP packets dropped because the queue was full", l.spec, s.Dropped))
	}
	if s.Refused > 0 {
		w = append(w, fmt.Sprintf("%s: %d TCP connections refused (more than %d)", l.spec, s.Refused, l.opts.MaxConns))
	}
	return w
}

// Close stops the listener and waits for its goroutines.
func (l *HEPListener) Close() error {
	l.stop()
	l.wg.Wait()
	return nil
}

// offer checks one packet and queues a copy without waiting.
func (l *HEPListener) offer(b []byte) {
	switch checkHEP(b, l.opts.Password) {
	case hepBad:
		l.bad.Add(1)
		return
	case hepBadPassword:
		l.badPass.Add(1)
		return
	}
	p := heldPacket{at: time.Now().UTC(), data: bytes.Clone(b)}
	select {
	case l.queue <- p:
		l.packets.Add(1)
	default:
		l.dropped.Add(1)
	}
}

func (l *HEPListener) readUDP() {
	defer l.wg.Done()
	buf := make([]byte, maxHEP+1)
	for {
		n, _, err := l.udp.ReadFrom(buf)
		if err != nil {
			if l.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			continue // e.g. ICMP errors surfacing on the socket
		}
		l.offer(buf[:n])
	}
}

func (l *HEPListener) acceptTCP() {
	defer l.wg.Done()
	for {
		c, err := l.tcp.Accept()
		if err != nil {
			if l.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // EMFILE and friends: do not spin
			continue
		}
		if l.conns.Add(1) > int64(l.opts.MaxConns) {
			l.conns.Add(-1)
			l.refused.Add(1)
			c.Close()
			continue
		}
		l.accepted.Add(1)
		l.wg.Add(1)
		go l.readTCP(c)
	}
}

// readTCP reads HEP3 packets framed by their length field. A stream that
// loses the framing (no "HEP3" where a packet must start) is closed: there
// is no way to find the next packet boundary.
func (l *HEPListener) readTCP(c net.Conn) {
	defer l.wg.Done()
	defer l.conns.Add(-1)
	defer c.Close()
	stop := context.AfterFunc(l.ctx, func() { c.Close() })
	defer stop()
	buf := make([]byte, maxHEP)
	for {
		if _, err := io.ReadFull(c, buf[:6]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(buf[4:6]))
		if string(buf[:4]) != "HEP3" || n < 6 {
			l.bad.Add(1)
			return
		}
		if _, err := io.ReadFull(c, buf[6:n]); err != nil {
			return
		}
		l.offer(buf[:n])
	}
}

type hepCheck int

const (
	hepOK hepCheck = iota
	hepBad
	hepBadPassword
)

// checkHEP tells a HEP packet from junk and checks its auth key. It reads
// only the framing (the decoder parses the rest): HEP3 magic, length and
// chunk list; for v1/v2 the version byte and a plausible header length.
func checkHEP(b []byte, password string) hepCheck {
	if len(b) >= 6 && string(b[:4]) == "HEP3" {
		n := int(binary.BigEndian.Uint16(b[4:6]))
		if n < 6 || n > len(b) {
			return hepBad
		}
		var key []byte
		var hasKey bool
		for off := 6; off < n; {
			if off+6 > n {
				return hepBad
			}
			vendor := binary.BigEndian.Uint16(b[off:])
			typ := binary.BigEndian.Uint16(b[off+2:])
			cl := int(binary.BigEndian.Uint16(b[off+4:]))
			if cl < 6 || off+cl > n {
				return hepBad
			}
			if vendor == 0 && typ == hepChunkAuthKey {
				key, hasKey = b[off+6:off+cl], true
			}
			off += cl
		}
		if password != "" && (!hasKey || string(bytes.TrimRight(key, "\x00")) != password) {
			return hepBadPassword
		}
		return hepOK
	}
	// HEP v1/v2 (hep_hdr: version, length, family, protocol): no key.
	if len(b) >= 8 && (b[0] == 1 || b[0] == 2) && int(b[1]) <= len(b) {
		if password != "" {
			return hepBadPassword
		}
		return hepOK
	}
	return hepBad
}

// HEPSendOptions configures a HEP sender.
type HEPSendOptions struct {
	ID       uint32 // capture agent id (chunk 0x000c), Homer's "node id"
	Name     string // capture node name (chunk 0x0013); omitted when empty
	Password string // auth key (chunk 0x000e); omitted when empty
}

// HEPSender sends SIP messages as HEPv3 to a collector (Homer's
// heplify-server, another sipscope, sngrep -L). It is safe for concurrent
// use.
type HEPSender struct {
	spec    string
	network string
	addr    string
	opts    HEPSendOptions
	mu      sync.Mutex
	conn    net.Conn
	buf     []byte
}

// NewHEPSender connects to spec ("udp:HOST:PORT" or "tcp:HOST:PORT").
// Over TCP a broken connection is dialled again on the next Send.
func NewHEPSender(spec string, opts HEPSendOptions) (*HEPSender, error) {
	network, addr, err := splitHEPSpec(spec)
	if err != nil {
		return nil, err
	}
	s := &HEPSender{spec: spec, network: network, addr: addr, opts: opts}
	if s.conn, err = net.DialTimeout(network, addr, 5*time.Second); err != nil {
		return nil, fmt.Errorf("hep send %s: %w", spec, err)
	}
	return s, nil
}

// Send sends one SIP message: src and dst are its original addresses,
// proto its IP protocol (17 UDP, 6 TCP, 132 SCTP), t its capture time.
// payload is not retained.
func (s *HEPSender) Send(src, dst netip.AddrPort, proto uint8, t time.Time, payload []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	s.buf, err = AppendHEP3(s.buf[:0], s.opts, src, dst, proto, t, payload)
	if err != nil {
		return fmt.Errorf("hep send %s: %w", s.spec, err)
	}
	if s.conn == nil {
		if s.conn, err = net.DialTimeout(s.network, s.addr, 5*time.Second); err != nil {
			s.conn = nil
			return fmt.Errorf("hep send %s: %w", s.spec, err)
		}
	}
	if _, err = s.conn.Write(s.buf); err != nil {
		if s.network == "tcp" {
			s.conn.Close()
			s.conn = nil
		}
		return fmt.Errorf("hep send %s: %w", s.spec, err)
	}
	return nil
}

// Close closes the connection.
func (s *HEPSender) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}

// AppendHEP3 appends the HEPv3 encoding of one SIP message to b, with the
// generic (vendor 0) chunks Homer's heplify-server reads: family, IP
// protocol, addresses, ports, seconds and microseconds, protocol type 1
// (SIP), capture agent id, auth key and node name when set, and the
// payload. Both addresses must be of one family.
func AppendHEP3(b []byte, o HEPSendOptions, src, dst netip.AddrPort, proto uint8, t time.Time, payload []byte) ([]byte, error) {
	sa, da := src.Addr().Unmap(), dst.Addr().Unmap()
	if !sa.IsValid() || !da.IsValid() || sa.Is4() != da.Is4() {
		return b, fmt.Errorf("addresses %v and %v are not both IPv4 or both IPv6", src, dst)
	}
	start := len(b)
	b = append(b, "HEP3\x00\x00"...)
	chunk := func(typ uint16, v []byte) {
		b = binary.BigEndian.AppendUint16(b, 0)
		b = binary.BigEndian.AppendUint16(b, typ)
		b = binary.BigEndian.AppendUint16(b, uint16(6+len(v)))
		b = append(b, v...)
	}
	u16 := func(typ, v uint16) { chunk(typ, binary.BigEndian.AppendUint16(nil, v)) }
	u32 := func(typ uint16, v uint32) { chunk(typ, binary.BigEndian.AppendUint32(nil, v)) }
	if sa.Is4() {
		chunk(hepChunkFamily, []byte{2}) // AF_INET
		chunk(hepChunkProto, []byte{proto})
		s4, d4 := sa.As4(), da.As4()
		chunk(hepChunkSrc4, s4[:])
		chunk(hepChunkDst4, d4[:])
	} else {
		chunk(hepChunkFamily, []byte{10}) // AF_INET6
		chunk(hepChunkProto, []byte{proto})
		s6, d6 := sa.As16(), da.As16()
		chunk(hepChunkSrc6, s6[:])
		chunk(hepChunkDst6, d6[:])
	}
	u16(hepChunkSport, src.Port())
	u16(hepChunkDport, dst.Port())
	u32(hepChunkSec, uint32(t.Unix()))
	u32(hepChunkUsec, uint32(t.Nanosecond()/1000))
	chunk(hepChunkType, []byte{1}) // SIP
	u32(hepChunkAgentID, o.ID)
	if o.Password != "" {
		chunk(hepChunkAuthKey, []byte(o.Password))
	}
	if o.Name != "" {
		chunk(hepChunkNodeName, []byte(o.Name))
	}
	if len(b)-start+6+len(payload) > maxHEP {
		return b[:start], fmt.Errorf("message of %d bytes too long for HEP3 (at most %d in all)", len(payload), maxHEP)
	}
	chunk(hepChunkPayload, payload)
	binary.BigEndian.PutUint16(b[start+4:], uint16(len(b)-start))
	return b, nil
}
