package render

import (
	"bytes"
	"context"
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/sipscope/sipscope/capture"
	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
)

// payload is a copy of one RTP packet the test takes from the capture itself.
type payload struct {
	key  correlate.StreamKey
	ts   uint32
	enc  string
	data []byte
}

// g711 decodes one byte of a payload by its encoding.
func (p payload) g711(b byte) int16 {
	if p.enc == "PCMU" {
		return decode.ULaw(b)
	}
	return decode.ALaw(b)
}

// audioOf runs the media tracker over a capture, feeding an Audio for its
// only call and keeping its own copy of every G.711 payload.
func audioOf(t *testing.T, path string) (*Audio, []correlate.Stream, []payload) {
	t.Helper()
	calls := readCapture(t, path)
	if len(calls) != 1 {
		t.Fatalf("%s: %d calls, want 1", path, len(calls))
	}
	a := NewAudio(calls[0].dialogs[0].CallID)
	var pays []payload
	md := correlate.NewMedia(correlate.MediaOptions{Sink: func(p *correlate.RTPPacket) {
		a.Packet(p)
		if p.Encoding == "PCMA" || p.Encoding == "PCMU" {
			pays = append(pays, payload{p.Key, p.Timestamp, p.Encoding, append([]byte(nil), p.Payload...)})
		}
	}})
	runMedia(t, path, md)
	return a, md.Streams(), pays
}

// runMedia decodes a capture into a media tracker.
func runMedia(t *testing.T, path string, md *correlate.Media) {
	t.Helper()
	src, err := capture.Open([]string{path}, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	h := decode.HandlerFuncs{OnMessage: md.Message, OnDatagram: md.Datagram}
	if err := decode.New(decode.Options{}, h).Run(context.Background(), src, nil); err != nil {
		t.Fatal(err)
	}
}

// readWAV checks the header of a 16-bit PCM WAV at 8000 Hz and returns
// its channels.
func readWAV(t *testing.T, b []byte) [][]int16 {
	t.Helper()
	le := binary.LittleEndian
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " || string(b[36:40]) != "data" {
		t.Fatalf("not a canonical WAV header: %q", b[:min(len(b), 44)])
	}
	if f, nch, rate, bits := le.Uint16(b[20:]), int(le.Uint16(b[22:])), le.Uint32(b[24:]), le.Uint16(b[34:]); f != 1 || nch != 2 || rate != 8000 || bits != 16 {
		t.Fatalf("format %d, %d channels, %d Hz, %d bits; want PCM, 2, 8000, 16", f, nch, rate, bits)
	}
	if n := le.Uint32(b[40:]); int(n) != len(b)-44 || le.Uint32(b[4:]) != n+36 {
		t.Fatalf("data size %d and RIFF size %d for %d bytes after the header", n, le.Uint32(b[4:]), len(b)-44)
	}
	ch := make([][]int16, 2)
	for i := 44; i+4 <= len(b); i += 4 {
		ch[0] = append(ch[0], int16(le.Uint16(b[i:])))
		ch[1] = append(ch[1], int16(le.Uint16(b[i+2:])))
	}
	return ch
}

// TestWAVCleanG711 exports the clean SIPp call (G.711 A-law both ways,
// 150 packets of 240 samples each) and decodes every payload byte back
// from the WAV at its timestamp's place: left is the caller, right the
// callee. codec-switch.pcap is the same but the caller's packets 76-150
// are µ-law (PT 0).
func TestWAVCleanG711(t *testing.T) {
	for _, name := range []string{"clean.pcap", "codec-switch.pcap"} {
		t.Run(name, func(t *testing.T) { testWAV(t, name) })
	}
}

func testWAV(t *testing.T, name string) {
	a, streams, pays := audioOf(t, filepath.Join("..", "testdata", "media", name))
	var buf bytes.Buffer
	if err := a.WAV(&buf, streams); err != nil {
		t.Fatal(err)
	}
	ch := readWAV(t, buf.Bytes())
	if len(pays) != 300 {
		t.Fatalf("%d G.711 packets in the capture, want 300", len(pays))
	}
	chanOf := map[correlate.StreamKey]int{}
	for _, s := range streams {
		k := correlate.StreamKey{Src: s.Src, Dst: s.Dst, SSRC: s.SSRC}
		switch s.Direction {
		case correlate.DirectionFromCaller:
			chanOf[k] = 0
		case correlate.DirectionFromCallee:
			chanOf[k] = 1
		default:
			t.Fatalf("stream %v has no direction", k)
		}
	}
	// Where each stream's first packet landed: the first sample of the
	// channel that is not silence (A-law has no code for zero, ±8 is the
	// smallest, so every decoded sample is non-zero).
	first := map[correlate.StreamKey]payload{}
	for _, p := range pays {
		if _, ok := first[p.key]; !ok {
			first[p.key] = p
		}
	}
	var checked, ulaw int
	for k, p0 := range first {
		c := ch[chanOf[k]]
		start := -1
		for i, v := range c {
			if v != 0 {
				start = i
				break
			}
		}
		if start < 0 {
			t.Fatalf("channel %d is silent", chanOf[k])
		}
		for _, p := range pays {
			if p.key != k {
				continue
			}
			at := start + int(p.ts-p0.ts)
			for i, b := range p.data {
				if at+i >= len(c) || c[at+i] != p.g711(b) {
					t.Fatalf("channel %d sample %d: %d, want %d (%s %#02x of the packet at ts %d)", chanOf[k], at+i, c[min(at+i, len(c)-1)], p.g711(b), p.enc, b, p.ts)
				}
				if p.enc == "PCMU" {
					ulaw++
				}
				checked++
			}
		}
	}
	if checked != 300*240 {
		t.Errorf("checked %d samples, want %d", checked, 300*240)
	}
	if want := map[string]int{"clean.pcap": 0, "codec-switch.pcap": 75 * 240}[name]; ulaw != want {
		t.Errorf("%d µ-law samples, want %d", ulaw, want)
	}
}

// TestWAVLossySilence: 13 of the caller's 150 packets were removed before
// SIPp played them; their 240 samples each are silence in the left
// channel, which still spans all 150 packets' timestamps.
func TestWAVLossySilence(t *testing.T) {
	a, streams, pays := audioOf(t, filepath.Join("..", "testdata", "media", "lossy.pcap"))
	var buf bytes.Buffer
	if err := a.WAV(&buf, streams); err != nil {
		t.Fatal(err)
	}
	ch := readWAV(t, buf.Bytes())
	var caller correlate.Stream
	for _, s := range streams {
		if s.Direction == correlate.DirectionFromCaller {
			caller = s
		}
	}
	if caller.Lost != 13 {
		t.Fatalf("caller stream lost %d, want 13 (tshark)", caller.Lost)
	}
	// Count 240-sample blocks of silence inside the caller's span.
	var ts0, tsMax uint32
	n := 0
	for _, p := range pays {
		if p.key.Src == caller.Src && p.key.SSRC == caller.SSRC {
			if n == 0 {
				ts0 = p.ts
			}
			tsMax = max(tsMax, p.ts-ts0)
			n++
		}
	}
	left := ch[0]
	start := 0
	for start < len(left) && left[start] == 0 {
		start++
	}
	span := int(tsMax) + 240
	if start+span > len(left) {
		t.Fatalf("left channel has %d samples, the caller's stream spans %d from %d", len(left), span, start)
	}
	silent := 0
	for b := 0; b+240 <= span; b += 240 {
		allZero := true
		for _, v := range left[start+b : start+b+240] {
			if v != 0 {
				allZero = false
				break
			}
		}
		if allZero {
			silent++
		}
	}
	if silent != 13 || span/240 != 150 {
		t.Errorf("%d silent blocks of %d, want 13 of 150", silent, span/240)
	}
}

func TestWAVNoAudio(t *testing.T) {
	a := NewAudio("x")
	a.Packet(&correlate.RTPPacket{CallID: "x", Encoding: "G729", Payload: []byte{1}})
	a.Packet(&correlate.RTPPacket{CallID: "y", Encoding: "PCMU", Payload: []byte{1}})
	if err := a.WAV(&bytes.Buffer{}, nil); err != ErrNoAudio {
		t.Errorf("WAV of a G.729 call: %v, want ErrNoAudio", err)
	}
}
