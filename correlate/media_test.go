package correlate

import (
	"encoding/binary"
	"net/netip"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sipscope/sipscope/decode"
)

func rtpBytes(pt uint8, seq uint16, ts, ssrc uint32) []byte {
	b := make([]byte, 12+160)
	b[0], b[1] = 0x80, pt
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	return b
}

// sdpMsg is an INVITE (or its 200 when resp) of call cid whose SDP
// announces addr for PCMA and telephone-event, sent from sig.
func sdpMsg(t testing.TB, cid string, resp bool, at time.Time, sig netip.AddrPort, addr netip.AddrPort) *decode.Message {
	t.Helper()
	start := "INVITE sip:b@x SIP/2.0\r\n"
	if resp {
		start = "SIP/2.0 200 OK\r\n"
	}
	body := "v=0\r\no=- 1 1 IN IP4 " + addr.Addr().String() + "\r\ns=-\r\nc=IN IP4 " + addr.Addr().String() +
		"\r\nt=0 0\r\nm=audio " + itoa(int(addr.Port())) + " RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
	raw := start + "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=caller\r\nTo: <sip:b@x>" +
		map[bool]string{true: ";tag=callee"}[resp] + "\r\nCall-ID: " + cid + "\r\nCSeq: 1 INVITE\r\n" +
		"Content-Type: application/sdp\r\nContent-Length: " + itoa(len(body)) + "\r\n\r\n" + body
	var m decode.Message
	if err := decode.Parse([]byte(raw), &m); err != nil {
		t.Fatal(err)
	}
	m.Time, m.Src = at, sig
	return &m
}

func itoa(n int) string { return strconv.Itoa(n) }

var (
	caller    = netip.MustParseAddrPort("10.0.0.1:10000")
	callee    = netip.MustParseAddrPort("10.0.0.2:20000")
	callerSig = netip.MustParseAddrPort("10.0.0.1:5060")
	calleeSig = netip.MustParseAddrPort("10.0.0.2:5060")
)

// TestMediaLinks: streams find their call and direction from the offer
// and answer; two directions with one SSRC stay two streams; a later
// call taking the same ports (a SIPp run) gets its own streams.
func TestMediaLinks(t *testing.T) {
	md := NewMedia(MediaOptions{})
	at := t0
	md.Message(sdpMsg(t, "c1", false, at, callerSig, caller))
	md.Message(sdpMsg(t, "c1", true, at, calleeSig, callee))
	send := func(src, dst netip.AddrPort, seq uint16, ssrc uint32) {
		md.Datagram(&decode.Datagram{Time: at, Src: src, Dst: dst, Payload: rtpBytes(8, seq, uint32(seq)*160, ssrc)})
	}
	for i := uint16(0); i < 50; i++ {
		at = at.Add(20 * time.Millisecond) // one packet each way every 20 ms
		if i != 10 && i != 11 {            // two lost
			send(caller, callee, 100+i, 0xAA)
		}
		send(callee, caller, 500+i, 0xAA) // the same SSRC back (SIPp replays one recording)
	}
	send(callee, caller, 520, 0xAA) // late duplicate
	// The next call on the same ports and SSRC.
	at = at.Add(time.Second)
	md.Message(sdpMsg(t, "c2", false, at, callerSig, caller))
	md.Message(sdpMsg(t, "c2", true, at, calleeSig, callee))
	for i := uint16(0); i < 5; i++ {
		at = at.Add(20 * time.Millisecond)
		send(caller, callee, 100+i, 0xAA)
	}
	got := md.Streams()
	if len(got) != 3 {
		t.Fatalf("got %d streams, want 3", len(got))
	}
	fwd, back, next := got[0], got[1], got[2]
	if fwd.CallID != "c1" || fwd.Direction != DirectionFromCaller || fwd.Link != LinkSDP || fwd.Codec != "PCMA" {
		t.Errorf("caller's stream: got call %q %s %s %s, want c1 from-caller sdp PCMA", fwd.CallID, fwd.Direction, fwd.Link, fwd.Codec)
	}
	if fwd.Packets != 48 || fwd.Expected != 50 || fwd.Lost != 2 {
		t.Errorf("caller's stream: got %d packets of %d expected, %d lost; want 48, 50, 2", fwd.Packets, fwd.Expected, fwd.Lost)
	}
	if back.Direction != DirectionFromCallee || back.Packets != 51 || back.Duplicates != 1 || back.Lost != -1 {
		t.Errorf("callee's stream: got %s, %d packets, %d duplicates, lost %d; want from-callee, 51, 1, -1",
			back.Direction, back.Packets, back.Duplicates, back.Lost)
	}
	if next.CallID != "c2" || next.Packets != 5 {
		t.Errorf("next call: got call %q with %d packets, want c2 with 5", next.CallID, next.Packets)
	}
	// 20 ms arrivals for 160-sample (20 ms) packets: no jitter.
	if fwd.JitterMaxMs > 1e-6 || fwd.MaxDeltaMs != 60 {
		t.Errorf("caller's stream: got jitter %v, max delta %v ms; want 0, 60", fwd.JitterMaxMs, fwd.MaxDeltaMs)
	}
}

// TestMediaNAT: the caller announces a private address; its RTP comes
// from, and the callee's goes to, the address its signalling came from.
func TestMediaNAT(t *testing.T) {
	md := NewMedia(MediaOptions{})
	public := netip.MustParseAddrPort("203.0.113.7:10000")
	md.Message(sdpMsg(t, "n1", false, t0, netip.MustParseAddrPort("203.0.113.7:5060"), netip.MustParseAddrPort("192.168.1.5:10000")))
	md.Message(sdpMsg(t, "n1", true, t0, calleeSig, callee))
	for i := uint16(0); i < 3; i++ {
		at := t0.Add(time.Duration(i+1) * 20 * time.Millisecond)
		md.Datagram(&decode.Datagram{Time: at, Src: public, Dst: callee, Payload: rtpBytes(8, i, uint32(i)*160, 1)})
		md.Datagram(&decode.Datagram{Time: at, Src: callee, Dst: public, Payload: rtpBytes(8, i, uint32(i)*160, 2)})
	}
	for _, s := range md.Streams() {
		if s.CallID != "n1" {
			t.Errorf("%v>%v: got call %q, want n1", s.Src, s.Dst, s.CallID)
		}
		if s.Src == callee && s.Link != LinkNAT {
			t.Errorf("callee's stream to the public address: got link %s, want nat", s.Link)
		}
	}
}

// TestMediaAllocs: a packet of a known stream allocates nothing.
func TestMediaAllocs(t *testing.T) {
	md := NewMedia(MediaOptions{})
	md.Message(sdpMsg(t, "c1", false, t0, callerSig, caller))
	dg := &decode.Datagram{Time: t0, Src: callee, Dst: caller, Payload: rtpBytes(8, 1, 160, 9)}
	md.Datagram(dg)
	seq := uint16(1)
	n := testing.AllocsPerRun(1000, func() {
		seq++
		binary.BigEndian.PutUint16(dg.Payload[2:], seq)
		dg.Time = dg.Time.Add(20 * time.Millisecond)
		md.Datagram(dg)
	})
	if n != 0 {
		t.Errorf("got %v allocations per packet, want 0", n)
	}
}

// TestMediaRTCP: the RTCP of the heplify capture reaches the streams its
// report blocks are about.
func TestMediaRTCP(t *testing.T) {
	path := filepath.Join(corpusDir, "heplify/rtp_rtcp_sip_ipv4_udp.pcap")
	ours, stats := mediaFile(t, path, MediaOptions{})
	if stats.RTCP == 0 {
		t.Fatal("no RTCP read")
	}
	with := 0
	for _, s := range ours {
		if s.RTCP != nil && s.RTCP.RR > 0 {
			with++
		}
	}
	if with < 2 {
		t.Errorf("got %d streams with reception reports, want the call's two at least", with)
	}
}

// TestMediaSilent: Silent is true for a call whose SDP the tracker read
// and whose RTP it has not seen, false once a stream of it came and for a
// call it does not know; the next call on the same ports and SSRC (a SIPp
// run) is silent until its own RTP, which supersedes the last call's
// stream.
func TestMediaSilent(t *testing.T) {
	md := NewMedia(MediaOptions{Handoff: func(*Stream) {}})
	at := t0
	if md.Silent("c1") {
		t.Error("a call the tracker does not know: Silent")
	}
	md.Message(sdpMsg(t, "c1", false, at, callerSig, caller))
	md.Message(sdpMsg(t, "c1", true, at, calleeSig, callee))
	if !md.Silent("c1") {
		t.Error("offer and answer, no RTP: not Silent")
	}
	send := func(seq uint16) {
		at = at.Add(20 * time.Millisecond)
		md.Datagram(&decode.Datagram{Time: at, Src: caller, Dst: callee, Payload: rtpBytes(8, seq, uint32(seq)*160, 0xAA)})
	}
	send(1)
	if md.Silent("c1") {
		t.Error("after a packet of its stream: Silent")
	}
	at = at.Add(time.Second)
	md.Message(sdpMsg(t, "c2", false, at, callerSig, caller))
	md.Message(sdpMsg(t, "c2", true, at, calleeSig, callee))
	if !md.Silent("c2") || md.Silent("c1") {
		t.Errorf("next call on the same ports: Silent c2 %v (want true), c1 %v (want false)", md.Silent("c2"), md.Silent("c1"))
	}
	send(2)
	if md.Silent("c2") {
		t.Error("the next call after its RTP: Silent")
	}
}
