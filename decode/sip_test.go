package decode

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// crlf turns the LF line ends of a readable test literal into CRLF.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

var sdpOffer = crlf(`v=0
o=alice 2890844526 2890844526 IN IP4 client.atlanta.example.com
s=-
c=IN IP4 192.0.2.101
t=0 0
a=sendonly
m=audio 49172 RTP/AVP 0 8 97 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:97 iLBC/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=rtcp:49173
m=video 51372 RTP/SAVP 31
c=IN IP4 192.0.2.102/127
a=recvonly
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32
`)

var testInvite = crlf(`INVITE sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;received=192.0.2.101;rport=5060
Max-Forwards: 70
From: "Alice, A." <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 1 INVITE
Contact: <sip:alice@client.atlanta.example.com;transport=tcp>
User-Agent: sipscope-test/1.0
Content-Type: application/sdp
Content-Length: `) + fmt.Sprint(len(sdpOffer)) + "\r\n\r\n" + sdpOffer

var test200 = crlf(`SIP/2.0 200 OK
Via: SIP/2.0/UDP server10.biloxi.example.com;branch=z9hG4bKnashds8;received=192.0.2.3, SIP/2.0/UDP bigbox3.site3.atlanta.example.com;branch=z9hG4bK77ef4c2312983.1
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>;tag=8321234356
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 1 INVITE
Contact: <sip:bob@192.0.2.4>
Server: biloxi-pbx
Content-Length: 0

`)

// dump renders every field Parse sets, comparing nil and empty slices
// alike and SDP by value.
func dump(m *Message) string {
	c := *m
	c.scratch = nil
	sdp, hep := "<nil>", "<nil>"
	if c.SDP != nil {
		sdp = fmt.Sprintf("%+v", *c.SDP)
		c.SDP = nil
	}
	if c.HEP != nil {
		hep = fmt.Sprintf("%+v", *c.HEP)
		c.HEP = nil
	}
	raw, body := c.Raw, c.Body
	c.Raw, c.Body = nil, nil
	return fmt.Sprintf("%+v\nRaw: %q\nBody: %q\nSDP: %s\nHEP: %s", c, raw, body, sdp, hep)
}

func mustParse(t testing.TB, s string) *Message {
	t.Helper()
	var m Message
	if err := Parse([]byte(s), &m); err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return &m
}

func TestParseInvite(t *testing.T) {
	m := mustParse(t, testInvite)
	checks := []struct{ name, got, want string }{
		{"Method", m.Method, "INVITE"},
		{"RequestURI", m.RequestURI, "sip:bob@biloxi.example.com"},
		{"Version", m.Version, "SIP/2.0"},
		{"CallID", m.CallID, "3848276298220188511@atlanta.example.com"},
		{"CSeqMethod", m.CSeqMethod, "INVITE"},
		{"From.Display", m.From.Display(), "Alice, A."},
		{"From.URI", m.From.URI(), "sip:alice@atlanta.example.com"},
		{"From.User", m.From.User(), "alice"},
		{"From.Host", m.From.Host(), "atlanta.example.com"},
		{"From.Tag", m.From.Tag, "9fxced76sl"},
		{"To.Display", m.To.Display(), "Bob"},
		{"To.Tag", m.To.Tag, ""},
		{"Contact.URI", m.Contact.URI(), "sip:alice@client.atlanta.example.com;transport=tcp"},
		{"Contact.Host", m.Contact.Host(), "client.atlanta.example.com"},
		{"Via.Transport", m.Via[0].Transport, "UDP"},
		{"Via.SentBy", m.Via[0].SentBy, "client.atlanta.example.com:5060"},
		{"Via.Branch", m.Via[0].Branch, "z9hG4bK74bf9"},
		{"Via.Received", m.Via[0].Received, "192.0.2.101"},
		{"Via.RPort", m.Via[0].RPort, "5060"},
		{"UserAgent", m.UserAgent, "sipscope-test/1.0"},
		{"ContentType", m.ContentType, "application/sdp"},
		{"Body", string(m.Body), sdpOffer},
		{"Raw", string(m.Raw), testInvite},
		{"Warnings", m.Warnings.String(), ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	if !m.Request || m.Status != 0 || m.CSeq != 1 || m.MaxForwards != 70 || m.ContentLength != len(sdpOffer) {
		t.Errorf("got Request=%v Status=%d CSeq=%d MaxForwards=%d ContentLength=%d, want true 0 1 70 %d",
			m.Request, m.Status, m.CSeq, m.MaxForwards, m.ContentLength, len(sdpOffer))
	}
	if got := len(m.Headers); got != 10 {
		t.Errorf("got %d headers, want 10", got)
	}
	if m.SDP == nil {
		t.Fatal("got no SDP")
	}
}

func TestParse200(t *testing.T) {
	m := mustParse(t, test200)
	if m.Request || m.Status != 200 || m.Reason != "OK" || m.Method != "" {
		t.Errorf("got Request=%v Status=%d Reason=%q Method=%q, want false 200 OK \"\"", m.Request, m.Status, m.Reason, m.Method)
	}
	if len(m.Via) != 2 || m.Via[1].SentBy != "bigbox3.site3.atlanta.example.com" || m.Via[1].Branch != "z9hG4bK77ef4c2312983.1" {
		t.Errorf("got Via %+v, want 2 entries, second bigbox3 branch z9hG4bK77ef4c2312983.1", m.Via)
	}
	if m.UserAgent != "biloxi-pbx" {
		t.Errorf("got UserAgent %q, want the Server value biloxi-pbx", m.UserAgent)
	}
	if m.To.Tag != "8321234356" || m.ContentLength != 0 || m.Body != nil || m.SDP != nil || m.MaxForwards != -1 {
		t.Errorf("got To.Tag %q ContentLength %d Body %q SDP %v MaxForwards %d", m.To.Tag, m.ContentLength, m.Body, m.SDP, m.MaxForwards)
	}
}

func TestParseLeniency(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		warn  Warning // exactly these warnings
		check func(t *testing.T, m *Message)
	}{
		{"bare LF", "OPTIONS sip:a@b SIP/2.0\nCall-ID: x1\nContent-Length: 0\n\n", WarnBareLF,
			func(t *testing.T, m *Message) { eq(t, "CallID", m.CallID, "x1") }},
		{"mixed CRLF and LF", "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x1\nContent-Length: 0\r\n\r\n", WarnBareLF,
			func(t *testing.T, m *Message) { eq(t, "CallID", m.CallID, "x1") }},
		{"folded", crlf("OPTIONS sip:a@b SIP/2.0\nSubject: I know you're there,\n  pick up the phone\n\tand talk to me!\nCall-ID: x2\nContent-Length: 0\n\n"), WarnFolded,
			func(t *testing.T, m *Message) {
				eq(t, "Subject", m.Header("subject"), "I know you're there, pick up the phone and talk to me!")
				eq(t, "CallID", m.CallID, "x2")
			}},
		{"folded Call-ID", crlf("OPTIONS sip:a@b SIP/2.0\nCall-ID:\n  x3\nContent-Length: 0\n\n"), WarnFolded,
			func(t *testing.T, m *Message) { eq(t, "CallID", m.CallID, "x3") }},
		{"junk before start", "\x00\x00\x00\x00garbage\r\n" + crlf("REGISTER sip:b SIP/2.0\nCall-ID: j\nContent-Length: 0\n\n"), WarnJunkBeforeStart,
			func(t *testing.T, m *Message) {
				eq(t, "Method", m.Method, "REGISTER")
				eq(t, "Raw", string(m.Raw)[:8], "REGISTER")
			}},
		{"NULs glued to start", "\x00\x00" + crlf("REGISTER sip:b SIP/2.0\nContent-Length: 0\n\n"), WarnJunkBeforeStart,
			func(t *testing.T, m *Message) { eq(t, "Method", m.Method, "REGISTER") }},
		{"CRLF keep-alive before start is fine", crlf("\n\nBYE sip:b SIP/2.0\nContent-Length: 0\n\n"), 0,
			func(t *testing.T, m *Message) { eq(t, "Method", m.Method, "BYE") }},
		{"space before colon", crlf("BYE sip:b SIP/2.0\nCall-ID : sp\nContent-Length\t: 0\n\n"), WarnSpaceBeforeColon,
			func(t *testing.T, m *Message) {
				eq(t, "CallID", m.CallID, "sp")
				eq(t, "Name", m.Headers[0].Name, "Call-ID")
			}},
		{"no Content-Length", crlf("MESSAGE sip:b SIP/2.0\nContent-Type: text/plain\n\nhello\n"), WarnNoContentLength,
			func(t *testing.T, m *Message) {
				eq(t, "Body", string(m.Body), "hello\r\n")
				if m.ContentLength != -1 {
					t.Errorf("got ContentLength %d, want -1", m.ContentLength)
				}
			}},
		{"bad Content-Length", crlf("INVITE sip:b SIP/2.0\nContent-Length: bad\n\nbody"), WarnBadContentLength,
			func(t *testing.T, m *Message) { eq(t, "Body", string(m.Body), "body") }},
		{"short body", crlf("INVITE sip:b SIP/2.0\nContent-Length: 100\n\nbody"), WarnShortBody,
			func(t *testing.T, m *Message) { eq(t, "Body", string(m.Body), "body") }},
		{"extra data", crlf("INVITE sip:b SIP/2.0\nContent-Length: 2\n\nbody"), WarnExtraData,
			func(t *testing.T, m *Message) {
				eq(t, "Body", string(m.Body), "bo")
				eq(t, "Raw end", string(m.Raw[len(m.Raw)-4:]), "\r\nbo")
			}},
		{"trailing CRLF is not extra", crlf("INVITE sip:b SIP/2.0\nContent-Length: 0\n\n\n"), 0, nil},
		{"duplicate To", crlf("INVITE sip:b SIP/2.0\nt: <sip:first@x>\nTo: <sip:second@x>\nContent-Length: 0\n\n"), WarnDuplicateHeader,
			func(t *testing.T, m *Message) { eq(t, "To.User", m.To.User(), "first") }},
		{"no empty line", crlf("ACK sip:b SIP/2.0\nCall-ID: n\nContent-Length: 0"), WarnNoCRLFEnd,
			func(t *testing.T, m *Message) { eq(t, "CallID", m.CallID, "n") }},
		{"line without colon", crlf("ACK sip:b SIP/2.0\nthis is not a header\nCall-ID: c\nContent-Length: 0\n\n"), WarnBadHeader,
			func(t *testing.T, m *Message) { eq(t, "CallID", m.CallID, "c") }},
		{"bad CSeq", crlf("ACK sip:b SIP/2.0\nCSeq: one ACK\nContent-Length: 0\n\n"), WarnBadHeader, nil},
		{"bad Max-Forwards", crlf("ACK sip:b SIP/2.0\nMax-Forwards: many\nContent-Length: 0\n\n"), WarnBadHeader, nil},
		{"lower-case version", crlf("sip/2.0 180 Ringing\nContent-Length: 0\n\n"), WarnBadVersion,
			func(t *testing.T, m *Message) {
				if m.Status != 180 {
					t.Errorf("got Status %d, want 180", m.Status)
				}
			}},
		{"bad SDP", crlf("INVITE sip:b SIP/2.0\nContent-Type: application/sdp\nContent-Length: 30\n\nv=0\nnonsense\nm=audio x RTP\n"), WarnBadSDP,
			func(t *testing.T, m *Message) {
				if m.SDP == nil || len(m.SDP.Media) != 1 {
					t.Errorf("got SDP %+v, want one media section kept", m.SDP)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Message
			if err := Parse([]byte(tt.in), &m); err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if m.Warnings != tt.warn {
				t.Errorf("got warnings %q, want %q", m.Warnings, tt.warn)
			}
			if tt.check != nil {
				tt.check(t, &m)
			}
		})
	}
}

func eq(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

func TestParseCompactAndCase(t *testing.T) {
	in := crlf(`INVITE sip:bob@b SIP/2.0
v: SIP/2.0/TCP a.example:5070;BRANCH=z9hG4bK1, SIP / 2.0 / UDP [2001:db8::1]:5060 ;branch=z9hG4bK2;rport
V: SIP/2.0/SCTP c.example;branch=z9hG4bK3
F: "Q \"quoted\" <name>" <sip:alice@a;user=phone>;TAG=ftag
t: sip:bob@b;tag=ttag
I: compact-call-id
cseq: 42 invite
m: "x, y" <sip:c1@h1>, <sip:c2@h2>
c: Application/SDP; charset=utf-8
l: 0
CALL-INFO: ignored
SERVER: srv

`)
	m := mustParse(t, in)
	eq(t, "CallID", m.CallID, "compact-call-id")
	eq(t, "From.Display", m.From.Display(), `Q \"quoted\" <name>`)
	eq(t, "From.URI", m.From.URI(), "sip:alice@a;user=phone")
	eq(t, "From.Tag", m.From.Tag, "ftag")
	eq(t, "To.URI", m.To.URI(), "sip:bob@b")
	eq(t, "To.Tag", m.To.Tag, "ttag")
	eq(t, "CSeqMethod", m.CSeqMethod, "invite")
	eq(t, "Contact.User", m.Contact.User(), "c1")
	eq(t, "Contact.Display", m.Contact.Display(), "x, y")
	eq(t, "ContentType", m.ContentType, "Application/SDP; charset=utf-8")
	eq(t, "UserAgent", m.UserAgent, "srv")
	if m.CSeq != 42 || m.ContentLength != 0 {
		t.Errorf("got CSeq %d ContentLength %d, want 42 0", m.CSeq, m.ContentLength)
	}
	wantVia := []Via{
		{Transport: "TCP", SentBy: "a.example:5070", Branch: "z9hG4bK1"},
		{Transport: "UDP", SentBy: "[2001:db8::1]:5060", Branch: "z9hG4bK2"},
		{Transport: "SCTP", SentBy: "c.example", Branch: "z9hG4bK3"},
	}
	if fmt.Sprint(m.Via) != fmt.Sprint(wantVia) {
		t.Errorf("got Via %+v, want %+v", m.Via, wantVia)
	}
	if m.Warnings != 0 {
		t.Errorf("got warnings %q, want none", m.Warnings)
	}
	for _, name := range []string{"i", "Call-ID", "call-id", "I"} {
		eq(t, "Header("+name+")", m.Header(name), "compact-call-id")
	}
	var vias []string
	for v := range m.HeaderValues("via") {
		vias = append(vias, v)
	}
	if len(vias) != 2 {
		t.Errorf("got %d Via header lines, want 2", len(vias))
	}
	eq(t, "Header(missing)", m.Header("Subject"), "")
}

func TestNameAddr(t *testing.T) {
	tests := []struct {
		in   string
		want NameAddr
	}{
		{`<sip:a@b>`, NameAddr{URI: "sip:a@b", User: "a", Host: "b"}},
		{`sip:a@b:5060;tag=1`, NameAddr{URI: "sip:a@b:5060", User: "a", Host: "b:5060", Tag: "1"}},
		{`Bob <sips:bob:secret@h.example:5061;transport=tls?subject=x>;foo;tag=t2`, NameAddr{Display: "Bob", URI: "sips:bob:secret@h.example:5061;transport=tls?subject=x", User: "bob", Host: "h.example:5061", Tag: "t2"}},
		{`"" <tel:+15551234;phone-context=x>`, NameAddr{URI: "tel:+15551234;phone-context=x", User: "+15551234"}},
		{`<sip:[2001:db8::2]:5060>`, NameAddr{URI: "sip:[2001:db8::2]:5060", Host: "[2001:db8::2]:5060"}},
		{`*`, NameAddr{URI: "*", Host: "*"}},
		{`"unterminated <sip:a@b>`, NameAddr{Display: `"unterminated`, URI: "sip:a@b", User: "a", Host: "b"}},
		{`<sip:a@b`, NameAddr{URI: "sip:a@b", User: "a", Host: "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := parseNameAddr(tt.in); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		syntax bool // *SyntaxError, else ErrNotSIP
	}{
		{"empty", "", false},
		{"keep-alive only", "\r\n\r\n", false},
		{"HTTP", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", false},
		{"RTP-ish", "\x80\x00\x12\x34binary", false},
		{"status code not 3 digits", "SIP/2.0 2000 OK\r\n\r\n", true},
		{"status without code", "SIP/2.0 OK\r\n\r\n", true},
		{"request without URI", "INVITE SIP/2.0\r\n\r\n", true},
		{"start line too long", "INVITE sip:" + strings.Repeat("a", maxLine) + " SIP/2.0\r\n\r\n", true},
		{"header line too long", "INVITE sip:a SIP/2.0\r\nSubject: " + strings.Repeat("a", maxLine) + "\r\n\r\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustParse(t, testInvite) // errors must reset it
			err := Parse([]byte(tt.in), m)
			var se *SyntaxError
			switch {
			case tt.syntax && !errors.As(err, &se):
				t.Errorf("got %v, want *SyntaxError", err)
			case !tt.syntax && !errors.Is(err, ErrNotSIP):
				t.Errorf("got %v, want ErrNotSIP", err)
			}
			if m.CallID != "" || m.Headers != nil || m.Raw != nil || m.ContentLength != -1 {
				t.Errorf("got message not reset after error: %+v", m)
			}
		})
	}
}

func TestParseLongVia(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("OPTIONS sip:x@y SIP/2.0\r\nVia: ")
	for i := range 200 {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "SIP/2.0/UDP host%d.example.com:5060;branch=z9hG4bK%d", i, i)
	}
	sb.WriteString("\r\nContent-Length: 0\r\n\r\n")
	if sb.Len() < 9000 {
		t.Fatalf("test message only %d bytes", sb.Len())
	}
	m := mustParse(t, sb.String())
	if len(m.Via) != 200 || m.Via[199].Branch != "z9hG4bK199" {
		t.Errorf("got %d Vias, want 200 ending in z9hG4bK199", len(m.Via))
	}
}

// TestParseReuse: parsing A then B into one Message gives what a fresh
// parse of B gives (STYLE.md, Decoding).
func TestParseReuse(t *testing.T) {
	msgs := map[string]string{
		"invite":    testInvite,
		"200":       test200,
		"multipart": testMultipart,
		"folded":    crlf("OPTIONS sip:a@b SIP/2.0\nSubject: a\n b\nCall-ID: x2\n\n"),
		"bare":      "BYE sip:a SIP/2.0\n\n",
	}
	for an, a := range msgs {
		for bn, b := range msgs {
			t.Run(an+"_then_"+bn, func(t *testing.T) {
				var reused Message
				if err := Parse([]byte(a), &reused); err != nil {
					t.Fatal(err)
				}
				if err := Parse([]byte(b), &reused); err != nil {
					t.Fatal(err)
				}
				fresh := mustParse(t, b)
				if got, want := dump(&reused), dump(fresh); got != want {
					t.Errorf("got\n%s\nwant\n%s", got, want)
				}
			})
		}
	}
}

func TestClone(t *testing.T) {
	for name, in := range map[string]string{
		"invite":    testInvite,
		"multipart": testMultipart,
		"folded":    crlf("OPTIONS sip:a@b SIP/2.0\nSubject: a\n b\nCall-ID:\n x2\n\n"),
	} {
		t.Run(name, func(t *testing.T) {
			buf := []byte(in)
			var m Message
			if err := Parse(buf, &m); err != nil {
				t.Fatal(err)
			}
			frame := []byte("frame bytes")
			m.Frames = []FrameRef{{Number: 7, Data: frame}}
			m.HEP = &HEPInfo{AgentName: "agent"}
			want := dump(&m)
			c := m.Clone()
			clobber(t, &m, buf, frame)
			if got := dump(c); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
			if string(c.Frames[0].Data) != "frame bytes" {
				t.Errorf("got frame data %q, want %q", c.Frames[0].Data, "frame bytes")
			}
		})
	}
	if (*Message)(nil).Clone() != nil {
		t.Error("got non-nil Clone of nil")
	}
}

// clobber overwrites the bytes a parsed message aliases, then reuses the
// message for another parse: a copy that still aliases anything shows it.
func clobber(t *testing.T, m *Message, bufs ...[]byte) {
	t.Helper()
	for _, b := range bufs {
		for i := range b {
			b[i] = 'x'
		}
	}
	if err := Parse([]byte(test200), m); err != nil {
		t.Fatal(err)
	}
}

// TestCloneWire: the wire copy keeps every field but the parsed headers
// (Headers, Via, Parts, SDP), owns its memory, and overwrites a recycled
// Message in place.
func TestCloneWire(t *testing.T) {
	var recycled *Message
	for _, name := range []string{"invite", "multipart", "folded", "invite again"} {
		in := map[string]string{
			"invite":       testInvite,
			"invite again": testInvite,
			"multipart":    testMultipart,
			"folded":       crlf("OPTIONS sip:a@b SIP/2.0\nSubject: a\n b\nCall-ID:\n x2\n\n"),
		}[name]
		t.Run(name, func(t *testing.T) {
			buf := []byte(in)
			var m Message
			if err := Parse(buf, &m); err != nil {
				t.Fatal(err)
			}
			frame := append([]byte("headers "), buf...)
			m.Raw = frame[len("headers "):]
			if err := Parse(m.Raw, &m); err != nil {
				t.Fatal(err)
			}
			m.Frames = []FrameRef{{Number: 7, Data: frame}}
			m.HEP = &HEPInfo{AgentName: "agent"}
			if m.CallID == "" || len(m.Headers) == 0 {
				t.Fatalf("parse gave no Call-ID or headers")
			}
			wantMsg := m
			wantMsg.Headers, wantMsg.Via, wantMsg.Parts, wantMsg.SDP = nil, nil, nil, nil
			want := dump(&wantMsg)
			c := m.CloneWire(recycled)
			if recycled != nil && c != recycled {
				t.Fatal("CloneWire(dst) did not return dst")
			}
			recycled = c
			clobber(t, &m, buf, frame)
			if got := dump(c); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
			if got := string(c.Frames[0].Data); got != "headers "+in {
				t.Errorf("got frame data %q, want %q", got, "headers "+in)
			}
			if c.Headers != nil || c.Via != nil || c.SDP != nil || c.Parts != nil {
				t.Error("CloneWire kept parsed headers")
			}
		})
	}
	if (*Message)(nil).CloneWire(nil) != nil {
		t.Error("got non-nil CloneWire of nil")
	}
}

func TestParseAllocs(t *testing.T) {
	inv, ok := []byte(testInvite), []byte(test200)
	mp := []byte(testMultipart)
	folded := []byte(crlf("OPTIONS sip:a@b SIP/2.0\nSubject: a\n b\nCall-ID: x2\n\n"))
	var m Message
	for _, b := range [][]byte{inv, ok, mp, folded} {
		_ = Parse(b, &m) // warm up the reused storage
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, b := range [][]byte{inv, ok, mp, folded} {
			if err := Parse(b, &m); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("got %v allocations per run, want 0", allocs)
	}
}

func TestWarningString(t *testing.T) {
	tests := []struct {
		w    Warning
		want string
	}{
		{0, ""},
		{WarnBareLF, "BareLF"},
		{WarnBareLF | WarnNoContentLength | WarnBadVersion, "BareLF,NoContentLength,BadVersion"},
		{1 << 31, "0x80000000"},
	}
	for _, tt := range tests {
		if got := tt.w.String(); got != tt.want {
			t.Errorf("Warning(%#x).String(): got %q, want %q", uint32(tt.w), got, tt.want)
		}
	}
	if len(warnNames) != 15 || Warning(1)<<len(warnNames) != warnEnd {
		t.Errorf("got %d warning names for %d bits", len(warnNames), warnEnd)
	}
}

func TestCanonicalName(t *testing.T) {
	for in, want := range map[string]string{"v": "Via", "I": "Call-ID", "l": "Content-Length", "o": "Event", "z": "z", "Via": "Via", "": ""} {
		if got := CanonicalName(in); got != want {
			t.Errorf("CanonicalName(%q): got %q, want %q", in, got, want)
		}
	}
}
