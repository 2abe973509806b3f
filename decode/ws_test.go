package decode

import (
	"encoding/binary"
	"reflect"
	"testing"
)

// stWSFrame builds one WebSocket frame (RFC 6455 §5.2). long forces the
// 64-bit length form.
func stWSFrame(fin bool, op byte, mask bool, long bool, payload string) string {
	var b []byte
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b = append(b, b0)
	var m byte
	if mask {
		m = 0x80
	}
	switch n := len(payload); {
	case long:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	case n < 126:
		b = append(b, m|byte(n))
	case n < 1<<16:
		b = append(b, m|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	p := []byte(payload)
	if mask {
		key := []byte{0x12, 0x34, 0x56, 0x78}
		b = append(b, key...)
		for i := range p {
			p[i] ^= key[i&3]
		}
	}
	return string(append(b, p...))
}

const (
	stWSReq = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n"
	stWSResp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
)

func TestWebSocket(t *testing.T) {
	small := "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n" // under 126 bytes
	mid := stSIP("INVITE", 1, 300)
	big := stSIP("MESSAGE", 2, 70000)
	resp := "SIP/2.0 200 OK\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	tests := []struct {
		name   string
		client []string // segments client -> server after the upgrade request
		server []string // segments server -> client after the 101
		want   []string
		frames [][]int64
	}{
		{
			name:   "masked small frame and unmasked answer",
			client: []string{stWSFrame(true, wsText, true, false, small)},
			server: []string{stWSFrame(true, wsText, false, false, resp)},
			want:   []string{small, resp},
			frames: [][]int64{{3}, {4}},
		},
		{
			name:   "16-bit length, binary, split over segments",
			client: []string{stWSFrame(true, wsBinary, true, false, mid)[:50], stWSFrame(true, wsBinary, true, false, mid)[50:]},
			want:   []string{mid},
			frames: [][]int64{{3, 4}},
		},
		{
			name:   "64-bit length",
			client: []string{stWSFrame(true, wsText, true, false, big), stWSFrame(true, wsText, true, true, small)},
			want:   []string{big, small},
			frames: [][]int64{{3}, {4}},
		},
		{
			name: "fragmented with a ping between the fragments",
			client: []string{
				stWSFrame(false, wsText, true, false, mid[:100]),
				stWSFrame(true, wsPing, true, false, "hi"),
				stWSFrame(false, wsContinuation, true, false, mid[100:200]) + stWSFrame(true, wsContinuation, true, false, mid[200:]),
			},
			want:   []string{mid},
			frames: [][]int64{{3, 4, 5}},
		},
		{
			name:   "close frame and keep-alive",
			client: []string{stWSFrame(true, wsText, true, false, "\r\n\r\n"), stWSFrame(true, wsClose, true, false, "\x03\xe8")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := stRecord(t)
			d := stDecoder(Options{})
			cseq, sseq := uint32(100), uint32(900)
			n := int64(1)
			send := func(fromClient bool, payload string) {
				var s []byte
				var p *pkt
				if fromClient {
					s = stSeg(50000, 8080, cseq, stACK, payload)
					p = stPkt(n, stA, stB, s)
					cseq += uint32(len(payload))
				} else {
					s = stSeg(8080, 50000, sseq, stACK, payload)
					p = stPkt(n, stB, stA, s)
					sseq += uint32(len(payload))
				}
				n++
				d.onTCP(p, s)
			}
			send(true, stWSReq)
			send(false, stWSResp)
			for _, c := range tc.client {
				send(true, c)
			}
			for _, s := range tc.server {
				send(false, s)
			}
			d.Flush()
			var raws []string
			var frames [][]int64
			for _, m := range *got {
				raws = append(raws, m.raw)
				frames = append(frames, m.frames)
				if m.tr != WS {
					t.Errorf("got transport %s, want ws", m.tr)
				}
			}
			if !reflect.DeepEqual(raws, tc.want) {
				t.Errorf("got %d messages %.80q, want %d", len(raws), raws, len(tc.want))
			}
			if !reflect.DeepEqual(frames, tc.frames) {
				t.Errorf("got frames %v, want %v", frames, tc.frames)
			}
			if st := d.Stats(); st.Truncated != 0 || st.Malformed != int64(len(tc.want)) && st.SIPMessages != int64(len(tc.want)) {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestWebSocketNotSIP(t *testing.T) {
	got := stRecord(t)
	d := stDecoder(Options{})
	req := "GET /chat HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
	s := stSeg(50000, 8080, 1, stACK, req+stWSFrame(true, wsText, true, false, "OPTIONS sip:a SIP/2.0\r\n\r\n"))
	d.onTCP(stPkt(1, stA, stB, s), s)
	d.Flush()
	if len(*got) != 0 || d.Stats().NonSIP == 0 {
		t.Errorf("got %d messages, NonSIP %d; want 0 and >0", len(*got), d.Stats().NonSIP)
	}
}

func TestWebSocketCorpus(t *testing.T) {
	path := stCorpus(t, "heplify/sip_tcp_websocket.pcap")
	got := stRecord(t)
	d := stDecoder(Options{})
	stFeed(t, d, path)
	// 39 in tshark's reading: 11 over WebSocket, 28 over UDP (not fed here).
	if len(*got) != 11 {
		t.Errorf("got %d messages, want 11 (stats %+v)", len(*got), d.Stats())
	}
	for _, m := range *got {
		if m.tr != WS || !isSIPStart([]byte(m.raw)) {
			t.Errorf("got %s %.40q, want a SIP message over ws", m.tr, m.raw)
		}
	}
}
