package decode

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/sipscope/sipscope/capture"
)

// FuzzFrames feeds a run of frames (the input split at "\xff\x00\xff\x00")
// through one Decoder with tight limits, so that fragments, TCP streams and
// their caches meet many frames and the limits bite: it must never panic,
// the reassembly cache must stay within MaxFragDatagrams and MaxFragBytes
// after every frame, and Flush must leave it empty.
func FuzzFrames(f *testing.F) {
	sep := []byte("\xff\x00\xff\x00")
	seeds, _ := filepath.Glob(filepath.Join("..", "testdata", "encap", "*.pcap"))
	for _, path := range seeds {
		var run [][]byte
		for _, fr := range readFrames(f, path, 8) {
			if fr.Link == capture.LinkEthernet {
				run = append(run, fr.Data)
			}
		}
		if len(run) > 0 {
			f.Add(uint8(1), bytes.Join(run, sep))
		}
	}
	for id := uint16(1); id < 4; id++ {
		f.Add(uint8(9), bytes.Join(fragments(id, tSIP("seed"), 64), sep))
	}
	f.Fuzz(func(t *testing.T, step uint8, data []byte) {
		o := Options{MaxFragDatagrams: 4, MaxFragBytes: 4096, MaxTCPStreams: 4, MaxTCPBuffer: 2048,
			MaxMessage: 8192, MaxHeaders: 16, MaxLine: 512, MaxSDPMedia: 2, FragTimeout: 50 * time.Millisecond}
		d := New(o, nopHandler{})
		at := time.Unix(1, 0)
		for i, b := range bytes.Split(data, sep) {
			at = at.Add(time.Duration(step) * time.Millisecond)
			d.Frame(&capture.Frame{Number: int64(i + 1), Time: at, Link: capture.LinkEthernet, Data: b, OrigLen: len(b)})
			if n := len(d.ip.frags); n > o.MaxFragDatagrams {
				t.Fatalf("frame %d: %d datagrams held, limit %d", i+1, n, o.MaxFragDatagrams)
			}
			if d.ip.fragBytes < 0 || d.ip.fragBytes > o.MaxFragBytes {
				t.Fatalf("frame %d: %d bytes held, limit %d", i+1, d.ip.fragBytes, o.MaxFragBytes)
			}
			if len(d.tcp.streams) > o.MaxTCPStreams {
				t.Fatalf("frame %d: %d TCP streams, limit %d", i+1, len(d.tcp.streams), o.MaxTCPStreams)
			}
		}
		d.Flush()
		if len(d.ip.frags) != 0 || d.ip.fragBytes != 0 {
			t.Fatalf("after Flush: %d datagrams, %d bytes held", len(d.ip.frags), d.ip.fragBytes)
		}
	})
}

// FuzzSDP puts arbitrary bytes in the body of an INVITE, as SDP or as one
// part of a multipart/mixed body, and parses it: no panic, and the SDP
// kept is within the media limit.
func FuzzSDP(f *testing.F) {
	f.Add(false, []byte("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n"))
	f.Add(true, []byte("v=0\r\nc=IN IP6 ::1\r\nm=video 0 RTP/SAVP 96\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\na=rtcp:4001 IN IP4 192.0.2.1\r\n"))
	f.Add(false, []byte("m=audio 1 RTP/AVP "+string(bytes.Repeat([]byte("0 "), 100))))
	f.Fuzz(func(t *testing.T, multi bool, body []byte) {
		ct := "application/sdp"
		if multi {
			ct = "multipart/mixed;boundary=b1"
			body = append(append([]byte("--b1\r\nContent-Type: application/sdp\r\n\r\n"), body...), "\r\n--b1--\r\n"...)
		}
		raw := append([]byte("INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: f\r\nCSeq: 1 INVITE\r\n"+
			"Content-Type: "+ct+"\r\nContent-Length: "+itoa(len(body))+"\r\n\r\n"), body...)
		var m Message
		if err := Parse(raw, &m); err != nil {
			return
		}
		if m.SDP != nil && len(m.SDP.Media) > maxMedia {
			t.Fatalf("%d media kept, limit %d", len(m.SDP.Media), maxMedia)
		}
		c := m.Clone()
		if c.CallID != "f" {
			t.Fatalf("clone: Call-ID %q", c.CallID)
		}
	})
}
