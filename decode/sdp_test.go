package decode

import (
	"fmt"
	"testing"
)

var isup = "\x01\x00\x49\x00\x00\x03\x02\x00\x07\x04\x10\x00\x33\x63\x21\x43\x00\x00\x03\x06\x0d\x03\x80\x90\xa2\x07\x03\x10\x03\x63\x53\x00\x10\x0a\x07\x03\x10\x27\x80\x88\x02\x50\x08\x01\x00\x39\x04\x31\x90\xc0\x00"

var testMultipart = crlf(`INVITE sip:+4912345@gw SIP/2.0
Via: SIP/2.0/SCTP 10.0.0.1;branch=z9hG4bKmp
From: <sip:+4999@gw>;tag=a
To: <sip:+4912345@gw>
Call-ID: mp@10.0.0.1
CSeq: 1 INVITE
MIME-Version: 1.0
Content-Type: multipart/mixed;boundary="unique-boundary-1"
Content-Length: `) + fmt.Sprint(len(multipartBody)) + "\r\n\r\n" + multipartBody

var multipartBody = crlf(`This is a preamble
--unique-boundary-1
Content-Type: application/sdp

v=0
o=- 1 1 IN IP4 10.0.0.1
s=-
c=IN IP4 10.0.0.1
t=0 0
m=audio 4000 RTP/AVP 8
a=rtpmap:8 PCMA/8000

--unique-boundary-1
Content-Type: application/ISUP;version=itu-t92+
Content-Disposition: signal;handling=required

`) + isup + crlf(`
--unique-boundary-1--
`)

func TestSDP(t *testing.T) {
	m := mustParse(t, testInvite)
	s := m.SDP
	if s == nil {
		t.Fatal("got no SDP")
	}
	eq(t, "Origin", s.Origin, "alice 2890844526 2890844526 IN IP4 client.atlanta.example.com")
	eq(t, "Session", s.Session, "-")
	eq(t, "Connection", s.Connection, "192.0.2.101")
	eq(t, "Direction", s.Direction, "sendonly")
	if len(s.Media) != 2 {
		t.Fatalf("got %d media, want 2", len(s.Media))
	}
	a, v := s.Media[0], s.Media[1]
	eq(t, "audio", fmt.Sprintf("%s %d %s %v %s %s %s", a.Type, a.Port, a.Proto, a.Formats, a.Connection, a.Direction, a.RTCP),
		"audio 49172 RTP/AVP [0 8 97 101] 192.0.2.101 sendonly 49173")
	eq(t, "rtpmap", fmt.Sprint(a.RTPMap), "[{0 PCMU 8000 } {8 PCMA 8000 } {97 iLBC 8000 } {101 telephone-event 8000 }]")
	eq(t, "video", fmt.Sprintf("%s %d %s %v %s %s", v.Type, v.Port, v.Proto, v.Formats, v.Connection, v.Direction),
		"video 51372 RTP/SAVP [31] 192.0.2.102 recvonly")
	eq(t, "crypto", fmt.Sprint(v.Crypto), "[1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32]")
	if m.Warnings != 0 {
		t.Errorf("got warnings %q, want none", m.Warnings)
	}
}

func TestSDPLenient(t *testing.T) {
	tests := []struct {
		name string
		sdp  string
		bad  bool
		want string // fmt of Media
	}{
		{"bare LF and T.38", "v=0\nc=IN IP4 1.2.3.4\nm=image 5000 udptl t38\na=T38FaxVersion:0\n", false,
			"[{image 5000 udptl [t38] 1.2.3.4   [] []}]"},
		{"port count and IPv6", "v=0\r\nm=audio 5004/2 RTP/AVP 0\r\nc=IN IP6 2001:db8::1\r\na=rtpmap:0 PCMU/8000/1\r\n", false,
			"[{audio 5004 RTP/AVP [0] 2001:db8::1   [{0 PCMU 8000 1}] []}]"},
		{"missing v=", "o=x\r\nm=audio 1 RTP/AVP 0\r\n", true, "[{audio 1 RTP/AVP [0]    [] []}]"},
		{"bad rtpmap", "v=0\r\nm=audio 1 RTP/AVP 0\r\na=rtpmap:x\r\n", true, "[{audio 1 RTP/AVP [0]    [{0  0 }] []}]"},
		{"bad port", "v=0\r\nm=audio 99999 RTP/AVP 0\r\n", true, "[{audio 99999 RTP/AVP [0]    [] []}]"},
		{"bad c=", "v=0\r\nc=IN\r\nm=audio 1 RTP/AVP 0\r\n", true, "[{audio 1 RTP/AVP [0]    [] []}]"},
		{"junk line", "v=0\r\nhello\r\nm=audio 1 RTP/AVP 0\r\na=inactive\r\n", true, "[{audio 1 RTP/AVP [0]  inactive  [] []}]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fmt.Sprintf("INVITE sip:b SIP/2.0\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", len(tt.sdp), tt.sdp)
			m := mustParse(t, in)
			if got := m.Warnings&WarnBadSDP != 0; got != tt.bad {
				t.Errorf("got WarnBadSDP %v, want %v", got, tt.bad)
			}
			if m.SDP == nil {
				t.Fatal("got no SDP")
			}
			if got := fmt.Sprint(m.SDP.Media); got != tt.want {
				t.Errorf("got media %s, want %s", got, tt.want)
			}
		})
	}
}

func TestMultipart(t *testing.T) {
	m := mustParse(t, testMultipart)
	if m.Warnings != 0 {
		t.Errorf("got warnings %q, want none", m.Warnings)
	}
	if len(m.Parts) != 2 {
		t.Fatalf("got %d parts, want 2", len(m.Parts))
	}
	eq(t, "part 0 type", m.Parts[0].ContentType, "application/sdp")
	eq(t, "part 1 type", m.Parts[1].ContentType, "application/ISUP;version=itu-t92+")
	eq(t, "part 1 body", string(m.Parts[1].Body), isup)
	if len(m.Parts[1].Headers) != 2 {
		t.Errorf("got %d part headers, want 2", len(m.Parts[1].Headers))
	}
	if m.SDP == nil || len(m.SDP.Media) != 1 || m.SDP.Media[0].Port != 4000 || m.SDP.Connection != "10.0.0.1" {
		t.Errorf("got SDP %+v, want audio 4000 on 10.0.0.1 from the first part", m.SDP)
	}

	bad := []struct{ name, ct, body string }{
		{"no boundary", "multipart/mixed", "--x\r\n\r\nbody\r\n--x--\r\n"},
		{"boundary absent", "multipart/mixed;boundary=y", "--x\r\n\r\nbody\r\n--x--\r\n"},
		{"no close", "multipart/mixed;boundary=x", "--x\r\nContent-Type: text/plain\r\n\r\nbody\r\n"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			in := fmt.Sprintf("MESSAGE sip:b SIP/2.0\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s", tt.ct, len(tt.body), tt.body)
			m := mustParse(t, in)
			if m.Warnings&WarnBadMultipart == 0 {
				t.Errorf("got warnings %q, want BadMultipart", m.Warnings)
			}
		})
	}
}
