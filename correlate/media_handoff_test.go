package correlate

import (
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sipscope/sipscope/decode"
)

// eventBytes is an RFC 4733 packet (PT 101) for digit code, ended or not.
func eventBytes(seq uint16, ts, ssrc uint32, code int, end bool, dur uint16) []byte {
	b := rtpBytes(101, seq, ts, ssrc)[:12+4]
	b[12] = byte(code)
	b[13] = 10 // volume
	if end {
		b[13] |= 0x80
	}
	binary.BigEndian.PutUint16(b[14:], dur)
	return b
}

// handoffRun is the media tracker wired as the importer wires it: streams
// handed on as they end, each with the RFC 4733 digits of its own.
type handoffRun struct {
	md   *Media
	dtmf *DTMF
	got  []Stream
}

func newHandoffRun() *handoffRun {
	r := &handoffRun{dtmf: NewDTMF()}
	r.md = NewMedia(MediaOptions{Sink: r.dtmf.Packet, Handoff: func(s *Stream) {
		s.DTMFEvents = r.dtmf.Take(StreamKey{Src: s.Src, Dst: s.Dst, SSRC: s.SSRC})
		s.DTMF = Digits(s.DTMFEvents)
		r.got = append(r.got, *s)
	}})
	return r
}

// TestMediaHandoffBounded: a long run of calls, one after the other, each
// on new ports and SSRCs (the worst case for maps keyed by them), each
// ending with End as the correlator's sink does: the tracker hands every
// stream on shortly after its call ends, and its streams, calls and
// endpoints stay at what one call needs, however many calls went by.
func TestMediaHandoffBounded(t *testing.T) {
	const calls = 3000
	r := newHandoffRun()
	at := t0
	maxLive, maxCalls, maxEP := 0, 0, 0
	for i := 0; i < calls; i++ {
		cid := "call-" + itoa(i)
		a := netip.AddrPortFrom(caller.Addr(), uint16(10000+2*i))
		b := netip.AddrPortFrom(callee.Addr(), uint16(30000+2*i))
		r.md.Message(sdpMsg(t, cid, false, at, callerSig, a))
		r.md.Message(sdpMsg(t, cid, true, at, calleeSig, b))
		for j := uint16(0); j < 50; j++ {
			at = at.Add(20 * time.Millisecond)
			r.md.Datagram(&decode.Datagram{Time: at, Src: a, Dst: b, Payload: rtpBytes(8, j, uint32(j)*160, uint32(2*i))})
			r.md.Datagram(&decode.Datagram{Time: at, Src: b, Dst: a, Payload: rtpBytes(8, j, uint32(j)*160, uint32(2*i+1))})
		}
		r.md.End(cid, at) // the BYE's 200
		at = at.Add(1500 * time.Millisecond)
		st := r.md.Stats()
		maxLive, maxCalls, maxEP = max(maxLive, st.Live), max(maxCalls, st.Calls), max(maxEP, st.Endpoints)
	}
	r.md.Flush()
	st := r.md.Stats()
	t.Logf("%d calls: at most %d streams, %d calls, %d endpoints tracked at once; %d handed on", calls, maxLive, maxCalls, maxEP, st.HandedOn)
	// A call ends 1.5 s before the next starts, within Linger (2 s): the
	// previous call's two streams wait for the next sweep.
	if maxLive > 4 || maxCalls > 2 || maxEP > 16 {
		t.Errorf("tracked at once: got %d streams, %d calls, %d endpoints; want at most 4, 2, 16 (two calls' worth)", maxLive, maxCalls, maxEP)
	}
	if st.Live != 0 || st.Calls != 0 || st.Endpoints != 0 {
		t.Errorf("after Flush: got %d streams, %d calls, %d endpoints; want none", st.Live, st.Calls, st.Endpoints)
	}
	if len(r.got) != 2*calls || st.HandedOn != 2*calls {
		t.Fatalf("handed on: got %d streams (%d counted), want %d", len(r.got), st.HandedOn, 2*calls)
	}
	for _, s := range r.got {
		if s.CallID == "" || s.Packets != 50 || s.Lost != 0 || s.Link != LinkSDP {
			t.Fatalf("stream %v>%v: got call %q, %d packets, %d lost, link %s; want its call, 50, 0, sdp", s.Src, s.Dst, s.CallID, s.Packets, s.Lost, s.Link)
		}
	}
	if n := len(r.dtmf.streams); n != 0 {
		t.Errorf("DTMF decoder: got %d streams left, want 0", n)
	}
}

// TestMediaHandoffReuse: SIPp's calls reuse one 5-tuple and SSRC; each
// call's stream keeps the digits it carried (the DTMF state is the
// stream's own), and RTP still in flight after the BYE stays in its
// stream.
func TestMediaHandoffReuse(t *testing.T) {
	r := newHandoffRun()
	at := t0
	for i, code := range []int{1, 2, 11} {
		cid := "c" + itoa(i)
		r.md.Message(sdpMsg(t, cid, false, at, callerSig, caller))
		r.md.Message(sdpMsg(t, cid, true, at, calleeSig, callee))
		seq := uint16(0)
		send := func(p []byte) {
			at = at.Add(20 * time.Millisecond)
			r.md.Datagram(&decode.Datagram{Time: at, Src: caller, Dst: callee, Payload: p})
			seq++
		}
		for j := 0; j < 20; j++ {
			send(rtpBytes(8, seq, uint32(seq)*160, 0xAA))
		}
		for j := 0; j < 3; j++ {
			send(eventBytes(seq, 20*160, 0xAA, code, false, uint16(160*(j+1))))
		}
		for j := 0; j < 3; j++ { // RFC 4733 §2.5.1.4: the end sent three times
			send(eventBytes(seq, 20*160, 0xAA, code, true, 640))
		}
		r.md.End(cid, at)
		send(rtpBytes(8, seq, uint32(seq)*160, 0xAA)) // after the BYE
		at = at.Add(3 * time.Second)
	}
	r.md.Flush()
	if len(r.got) != 3 {
		t.Fatalf("got %d streams, want 3", len(r.got))
	}
	for i, want := range []string{"1", "2", "#"} {
		s := r.got[i]
		if s.CallID != "c"+itoa(i) || s.DTMF != want || s.Packets != 27 {
			t.Errorf("stream %d: got call %q, DTMF %q, %d packets; want c%d, %q, 27", i, s.CallID, s.DTMF, s.Packets, i, want)
		}
	}
}

// TestMediaHandoffIdle: a stream no SDP announced is handed on once
// silent for Idle; one announced waits for its call to end.
func TestMediaHandoffIdle(t *testing.T) {
	r := newHandoffRun()
	at := t0
	r.md.Message(sdpMsg(t, "c", false, at, callerSig, caller))
	r.md.Message(sdpMsg(t, "c", true, at, calleeSig, callee))
	h1, h2 := netip.MustParseAddrPort("10.9.9.1:40000"), netip.MustParseAddrPort("10.9.9.2:40002")
	for j := uint16(0); j < 10; j++ {
		at = at.Add(20 * time.Millisecond)
		r.md.Datagram(&decode.Datagram{Time: at, Src: h1, Dst: h2, Payload: rtpBytes(0, j, uint32(j)*160, 7)})
		r.md.Datagram(&decode.Datagram{Time: at, Src: caller, Dst: callee, Payload: rtpBytes(8, j, uint32(j)*160, 8)})
	}
	at = at.Add(6 * time.Minute)
	r.md.Message(&decode.Message{CallID: "other", Time: at}) // the clock moves on
	if len(r.got) != 1 || r.got[0].Link != LinkHeuristic {
		t.Fatalf("after 6 min: got %d streams handed on, want the heuristic one", len(r.got))
	}
	if st := r.md.Stats(); st.Live != 1 || st.Calls != 1 {
		t.Errorf("after 6 min: got %d streams, %d calls tracked; want the call's 1, 1", st.Live, st.Calls)
	}
}

// TestMediaHandoffTshark: the media core as the importer runs it (a
// correlator ending calls, streams handed on as they end) finds the same
// streams as tshark on every SIPp media capture and the corpus captures
// with RTP, as TestMediaSIPpTshark and TestMediaCorpusTshark do for the
// tracker holding every stream to the end.
func TestMediaHandoffTshark(t *testing.T) {
	files, _ := filepath.Glob("../testdata/media/*.pcap")
	for _, name := range []string{"heplify/rtp_rtcp_sip_ipv4_udp.pcap", "heplify/sip_ipv4_tcp.pcap", "sipp/g711a.pcap",
		"sipp/dtmf_2833_1.pcap", "nDPI/rtp.pcapng", "sngrep/aaa.pcap", "arkime/arkime-gtp-iphone.pcap"} {
		if p := filepath.Join(corpusDir, name); fileExists(p) {
			files = append(files, p)
		}
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			r := newHandoffRun()
			corr := New(Options{Early: true, Summaries: true}, SinkFunc(func(d *Dialog, _ []*Message) error {
				r.md.End(d.CallID, d.End)
				return nil
			}))
			decodeFile(t, path, decode.HandlerFuncs{
				OnMessage: func(m *decode.Message) {
					r.md.Message(m)
					if err := corr.Add(m); err != nil {
						t.Fatal(err)
					}
				},
				OnDatagram: r.md.Datagram,
			})
			if err := corr.Flush(); err != nil {
				t.Fatal(err)
			}
			r.md.Flush()
			compareTshark(t, path, r.got)
			want, _ := mediaFile(t, path, MediaOptions{})
			if len(want) != len(r.got) {
				t.Errorf("got %d streams, want %d (the tracker without handoff)", len(r.got), len(want))
			}
		})
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// BenchmarkMediaHandoff: calls one after another (new ports and SSRCs
// each), 20 packets each way, handed on as they end; reports the most
// streams and calls tracked at once, which stay at one or two calls'
// worth however many calls b.N makes.
func BenchmarkMediaHandoff(b *testing.B) {
	b.ReportAllocs()
	md := NewMedia(MediaOptions{Handoff: func(*Stream) {}})
	at := t0
	i := 0
	for b.Loop() {
		cid := "call-" + itoa(i)
		a := netip.AddrPortFrom(caller.Addr(), uint16(10000+2*(i%20000)))
		c := netip.AddrPortFrom(callee.Addr(), uint16(30000+2*(i%10000)))
		md.Message(sdpMsg(b, cid, false, at, callerSig, a))
		md.Message(sdpMsg(b, cid, true, at, calleeSig, c))
		for j := uint16(0); j < 20; j++ {
			at = at.Add(20 * time.Millisecond)
			md.Datagram(&decode.Datagram{Time: at, Src: a, Dst: c, Payload: rtpBytes(8, j, uint32(j)*160, uint32(2*i))})
			md.Datagram(&decode.Datagram{Time: at, Src: c, Dst: a, Payload: rtpBytes(8, j, uint32(j)*160, uint32(2*i+1))})
		}
		md.End(cid, at)
		at = at.Add(3 * time.Second)
		i++
	}
	st := md.Stats()
	b.ReportMetric(float64(st.MaxLive), "max-streams")
	b.ReportMetric(float64(st.MaxCalls), "max-calls")
}
