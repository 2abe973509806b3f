package capture

import (
	"net"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TCPSynth makes Ethernet frames that carry payloads as a clear TCP
// conversation between the given addresses: what an export of decrypted
// SIP over TLS writes so that any reader (Wireshark, sngrep, sipscope)
// sees the messages without the keys. Each direction's sequence numbers
// continue from its last payload and acknowledge the other direction's, so
// readers reassemble the stream; a payload longer than an Ethernet
// segment is cut into several frames. The MAC addresses are locally
// administered placeholders. A TCPSynth is not safe for concurrent use.
type TCPSynth struct {
	seq map[[2]netip.AddrPort]uint32
	buf gopacket.SerializeBuffer
}

// synthMSS is the payload per frame: an Ethernet MTU less IPv6 and TCP
// headers, so the frames look like what a network carries.
const synthMSS = 1440

// NewTCPSynth returns a TCPSynth with no conversation yet.
func NewTCPSynth() *TCPSynth {
	return &TCPSynth{seq: map[[2]netip.AddrPort]uint32{}, buf: gopacket.NewSerializeBuffer()}
}

// Frames returns the frames carrying payload from src to dst at time t.
// The frames own their data.
func (s *TCPSynth) Frames(t time.Time, src, dst netip.AddrPort, payload []byte) ([]Frame, error) {
	key := [2]netip.AddrPort{src, dst}
	seq, ok := s.seq[key]
	if !ok {
		seq = 1 // as if after the SYN
	}
	ack, ok := s.seq[[2]netip.AddrPort{dst, src}]
	if !ok {
		ack = 1
	}
	var out []Frame
	for first := true; first || len(payload) > 0; first = false {
		n := min(len(payload), synthMSS)
		seg := payload[:n]
		payload = payload[n:]
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}}
		tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()),
			Seq: seq, Ack: ack, ACK: true, PSH: len(payload) == 0, Window: 65535}
		var net gopacket.SerializableLayer
		if src.Addr().Unmap().Is4() && dst.Addr().Unmap().Is4() {
			eth.EthernetType = layers.EthernetTypeIPv4
			ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, Flags: layers.IPv4DontFragment,
				SrcIP: src.Addr().Unmap().AsSlice(), DstIP: dst.Addr().Unmap().AsSlice()}
			tcp.SetNetworkLayerForChecksum(ip)
			net = ip
		} else {
			eth.EthernetType = layers.EthernetTypeIPv6
			ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
				SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
			tcp.SetNetworkLayerForChecksum(ip)
			net = ip
		}
		if err := gopacket.SerializeLayers(s.buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			eth, net, tcp, gopacket.Payload(seg)); err != nil {
			return nil, err
		}
		data := append([]byte(nil), s.buf.Bytes()...)
		out = append(out, Frame{Time: t, Link: LinkEthernet, Data: data, OrigLen: len(data)})
		seq += uint32(n)
	}
	s.seq[key] = seq
	return out, nil
}

// TCPEndpoints returns the TCP source and destination of a frame (any link
// type gopacket reads, VLANs and IP-in-IP included; the innermost IP and
// TCP headers count), for picking a connection's frames out of a capture.
func TCPEndpoints(f *Frame) (src, dst netip.AddrPort, ok bool) {
	p := gopacket.NewPacket(f.Data, layers.LinkType(f.Link), gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if tcp == nil {
		return src, dst, false
	}
	var sa, da netip.Addr
	for _, l := range p.Layers() {
		switch ip := l.(type) {
		case *layers.IPv4:
			sa, _ = netip.AddrFromSlice(ip.SrcIP.To4())
			da, _ = netip.AddrFromSlice(ip.DstIP.To4())
		case *layers.IPv6:
			sa, _ = netip.AddrFromSlice(ip.SrcIP)
			da, _ = netip.AddrFromSlice(ip.DstIP)
		}
	}
	if !sa.IsValid() || !da.IsValid() {
		return src, dst, false
	}
	return netip.AddrPortFrom(sa, uint16(tcp.SrcPort)), netip.AddrPortFrom(da, uint16(tcp.DstPort)), true
}
