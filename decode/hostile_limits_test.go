package decode

import (
	"strings"
	"testing"
	"time"

	"github.com/sipscope/sipscope/capture"
)

// udpSIP wraps a SIP message in Ethernet/IPv4/UDP.
func udpSIP(id uint16, sip string) []byte {
	return tEth(0x0800, tIPv4(17, id, false, 0, tUDP(5060, 5060, []byte(sip))))
}

// TestHostileLimits checks that each parser bound of Options bites at the
// value given, is counted in Stats.Limits, and lets the next message
// through.
func TestHostileLimits(t *testing.T) {
	base := string(tSIP("lim"))
	head, _, _ := strings.Cut(base, "Content-Length")
	many := head + strings.Repeat("X-A: 1\r\n", 20) + "Content-Length: 0\r\n\r\n"
	long := head + "X-Long: " + strings.Repeat("y", 3000) + "\r\nContent-Length: 0\r\n\r\n"
	sdp := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" +
		strings.Repeat("m=audio 4000 RTP/AVP 0\r\n", 6)
	media := head + "Content-Type: application/sdp\r\nContent-Length: " + itoa(len(sdp)) + "\r\n\r\n" + sdp
	cases := []struct {
		name  string
		opts  Options
		sip   string
		msgs  int64 // messages decoded of the two sent
		limit func(LimitStats) int64
	}{
		{"headers", Options{MaxHeaders: 10}, many, 2, func(l LimitStats) int64 { return l.Headers }},
		{"headers default", Options{}, many, 2, func(l LimitStats) int64 { return l.Headers }},
		{"line", Options{MaxLine: 1024}, long, 1, func(l LimitStats) int64 { return l.Line }},
		{"line default", Options{}, long, 2, func(l LimitStats) int64 { return l.Line }},
		{"sdp media", Options{MaxSDPMedia: 4}, media, 2, func(l LimitStats) int64 { return l.SDPMedia }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &recorder{}
			d := New(c.opts, r)
			d.Frame(frameOf(1, capture.LinkEthernet, udpSIP(1, c.sip), t0))
			d.Frame(frameOf(2, capture.LinkEthernet, udpSIP(2, base), t0.Add(time.Millisecond)))
			st := d.Stats()
			if st.SIPMessages != c.msgs {
				t.Errorf("got %d messages, want %d", st.SIPMessages, c.msgs)
			}
			want := 2 - c.msgs
			if c.name == "headers" {
				want = 1 // kept, with its first headers, and counted
			}
			if c.name == "sdp media" {
				want = 1
				var m Message
				if err := Parse([]byte(r.msgs[0].Raw), &m); err != nil || m.SDP == nil {
					t.Fatalf("reparse: %v", err)
				}
				if n := len(m.SDP.Media); n != 6 {
					t.Errorf("Parse (package defaults) kept %d media, want 6", n)
				}
			}
			if got := c.limit(st.Limits); got != want {
				t.Errorf("limit counted %d times, want %d", got, want)
			}
		})
	}
}

// TestHostileFragDatagrams holds at most MaxFragDatagrams incomplete
// datagrams, drops the oldest first, and still completes the newest.
func TestHostileFragDatagrams(t *testing.T) {
	r := &recorder{}
	d := New(Options{MaxFragDatagrams: 5}, r)
	var last [][]byte
	for id := uint16(1); id <= 50; id++ {
		frs := fragments(id, tSIP("flood"), 64)
		d.Frame(frameOf(int64(id), capture.LinkEthernet, frs[0], t0.Add(time.Duration(id)*time.Millisecond)))
		if len(d.ip.frags) > 5 {
			t.Fatalf("held %d datagrams, bound 5", len(d.ip.frags))
		}
		last = frs
	}
	if len(d.ip.ages) > 4*5+64 {
		t.Errorf("age queue holds %d entries for 5 datagrams", len(d.ip.ages))
	}
	for i, f := range last[1:] {
		d.Frame(frameOf(int64(100+i), capture.LinkEthernet, f, t0.Add(time.Second)))
	}
	st := d.Stats()
	if st.Limits.FragDatagrams != 45 {
		t.Errorf("got %d datagrams dropped by the limit, want 45", st.Limits.FragDatagrams)
	}
	if st.SIPMessages != 1 {
		t.Errorf("the newest datagram did not complete: %d messages", st.SIPMessages)
	}
	// The payload of a fragment is kept inside its frame's copy: a
	// fragment costs its frame once.
	d.Flush()
	d.Frame(frameOf(200, capture.LinkEthernet, last[0], t0.Add(2*time.Second)))
	if want := len(last[0]); d.ip.fragBytes != want {
		t.Errorf("one fragment of a %d-byte frame holds %d bytes", want, d.ip.fragBytes)
	}
}

// TestHostileFragAgeQueue: expiry by capture time pops the oldest
// datagrams and counts them under FragAge.
func TestHostileFragAgeQueue(t *testing.T) {
	d := New(Options{FragTimeout: time.Second}, &recorder{})
	for id := uint16(1); id <= 100; id++ {
		frs := fragments(id, tSIP("age"), 64)
		d.Frame(frameOf(int64(id), capture.LinkEthernet, frs[0], t0.Add(time.Duration(id)*100*time.Millisecond)))
	}
	// At t0+10s the datagrams begun before t0+9s are due.
	st := d.Stats()
	if st.Limits.FragAge < 85 || len(d.ip.frags) > 15 {
		t.Errorf("expired %d, held %d: want the ones older than 1 s gone", st.Limits.FragAge, len(d.ip.frags))
	}
}

// TestHostileTCPLongLine: Options.MaxLine (--limit-line) bounds TCP
// framing too. A header line longer than it is counted as soon as it has
// grown past the bound, without waiting for its end (or for MaxMessage),
// and the next message on the stream is read; a bound above the line lets
// it through whole, a long Request-URI included.
func TestHostileTCPLongLine(t *testing.T) {
	head, _, _ := strings.Cut(stSIP("INVITE", 1, 0), "Content-Length")
	longHdr := head + "X-Long: " + strings.Repeat("y", 20000) + "\r\nContent-Length: 0\r\n\r\n"
	longURI := "INVITE sip:" + strings.Repeat("u", 20000) + "@example.com SIP/2.0\r\n" +
		strings.SplitN(stSIP("INVITE", 1, 0), "\r\n", 2)[1]
	next := stSIP("BYE", 2, 0)
	cases := []struct {
		name     string
		maxLine  int
		first    string
		msgs     int64 // messages decoded of the two
		early    bool  // Line counted after the first 8 KiB of the first message
		lineHits int64
	}{
		{"header over 4K", 4 << 10, longHdr, 1, true, 1},
		{"header default 16K", 0, longHdr, 1, false, 1},
		{"header under 32K", 32 << 10, longHdr, 2, false, 0},
		{"URI under 32K", 32 << 10, longURI, 2, false, 0},
		{"URI over 4K", 4 << 10, longURI, 1, true, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &recorder{}
			d := New(Options{MaxLine: c.maxLine}, r)
			const isn = 1000
			d.onTCP(stPkt(1, stA, stB, nil), stSeg(40000, 5060, isn, stSYN, ""))
			stream := c.first + next
			n := int64(2)
			for off := 0; off < len(stream); off += 1400 {
				end := min(off+1400, len(stream))
				d.onTCP(stPkt(n, stA, stB, nil), stSeg(40000, 5060, uint32(isn+1+off), stACK, stream[off:end]))
				n++
				if end >= 8<<10 && end-1400 < 8<<10 {
					if got := d.Stats().Limits.Line; c.early && got != 1 {
						t.Errorf("after 8 KiB of the first message: Line counted %d times, want 1 (no wait for the line's end)", got)
					}
				}
			}
			st := d.Stats()
			if st.SIPMessages != c.msgs {
				t.Errorf("got %d messages, want %d", st.SIPMessages, c.msgs)
			}
			if st.Limits.Line != c.lineHits {
				t.Errorf("Line counted %d times, want %d", st.Limits.Line, c.lineHits)
			}
			if st.Limits.Message != 0 {
				t.Errorf("Message counted %d times, want 0", st.Limits.Message)
			}
			if len(r.msgs) == 0 || !strings.HasPrefix(r.msgs[len(r.msgs)-1].Raw, "BYE ") {
				t.Errorf("the BYE after the long line was not read")
			}
			if c.msgs == 2 && len(r.msgs[0].Raw) != len(c.first) {
				t.Errorf("first message: %d bytes, want %d (whole)", len(r.msgs[0].Raw), len(c.first))
			}
		})
	}
}

// TestHostileManyHeaders: a message over MaxHeaders (--limit-headers) is
// delivered, not dropped: its first headers, the few that place it in a
// dialog even when they come after the padding, WarnTooManyHeaders, and
// Raw whole; the limit is counted once. A folded continuation of a skipped
// header is not glued onto a kept one.
func TestHostileManyHeaders(t *testing.T) {
	body := "v=0\r\n"
	sip := "INVITE sip:bob@example.com SIP/2.0\r\nSubject: first\r\n" +
		strings.Repeat("X-Pad: 1\r\n", 40) + "X-Pad: folded\r\n  continued\r\n" +
		"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKmany\r\nCall-ID: many@10.0.0.1\r\n" +
		"From: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>\r\nCSeq: 7 INVITE\r\n" +
		"Content-Type: application/sdp\r\nContent-Length: " + itoa(len(body)) + "\r\n\r\n" + body
	var m Message
	d := New(Options{MaxHeaders: 10}, HandlerFuncs{OnMessage: func(got *Message) { m = *got.Clone() }})
	d.Frame(frameOf(1, capture.LinkEthernet, udpSIP(1, sip), t0))
	st := d.Stats()
	if st.SIPMessages != 1 || st.Malformed != 0 {
		t.Fatalf("got %d messages, %d malformed, want 1 and 0", st.SIPMessages, st.Malformed)
	}
	if st.Limits.Headers != 1 {
		t.Errorf("Headers limit counted %d times, want 1", st.Limits.Headers)
	}
	if m.Warnings&WarnTooManyHeaders == 0 {
		t.Errorf("warnings %v, want TooManyHeaders", m.Warnings)
	}
	if string(m.Raw) != sip {
		t.Errorf("Raw: %d bytes, want the %d sent", len(m.Raw), len(sip))
	}
	if m.CallID != "many@10.0.0.1" || m.CSeq != 7 || m.CSeqMethod != "INVITE" || m.From.Tag != "a" || len(m.Via) != 1 {
		t.Errorf("got Call-ID %q CSeq %d %s From tag %q %d Via, want many@10.0.0.1 7 INVITE a 1", m.CallID, m.CSeq, m.CSeqMethod, m.From.Tag, len(m.Via))
	}
	if string(m.Body) != body {
		t.Errorf("body %q, want %q", m.Body, body)
	}
	if n := len(m.Headers); n != 10+7 {
		t.Errorf("%d headers kept, want the first 10 and 7 past the limit", n)
	}
	for _, h := range m.Headers {
		if strings.Contains(h.Value, "continued") {
			t.Errorf("header %s: %q, want the skipped header's continuation dropped", h.Name, h.Value)
		}
	}
}
