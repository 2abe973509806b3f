package decode

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sipscope/sipscope/capture"
)

// keepFrames is a capture.Source that yields only the frames numbered in keep.
type keepFrames struct {
	capture.Source
	keep map[int64]bool
}

func (s keepFrames) Next(f *capture.Frame) error {
	for {
		if err := s.Source.Next(f); err != nil || s.keep[f.Number] {
			return err
		}
	}
}

// TestWebSocketJoinedAfterUpgrade: the frames that carried SIP over
// WebSocket, without the TCP handshake and HTTP upgrade before them (a
// capture joined a long-lived WebRTC connection, or a per-call pcap export),
// still read as the same SIP messages over WebSocket.
func TestWebSocketJoinedAfterUpgrade(t *testing.T) {
	path := filepath.Join("..", "..", "shared", "corpus", "heplify", "sip_tcp_websocket.pcap")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("shared corpus absent (%v)", err)
	}
	run := func(keep map[int64]bool) (calls []string, frames map[int64]bool) {
		src, err := capture.Open([]string{path}, capture.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		frames = map[int64]bool{}
		d := New(Options{}, HandlerFuncs{OnMessage: func(m *Message) {
			if m.Transport == WS {
				calls = append(calls, m.CallID+" "+m.CSeqMethod)
				for _, f := range m.Frames {
					frames[f.Number] = true
				}
			}
		}})
		var s capture.Source = src
		if keep != nil {
			s = keepFrames{src, keep}
		}
		if err := d.Run(context.Background(), s, nil); err != nil {
			t.Fatal(err)
		}
		return calls, frames
	}
	want, frames := run(nil)
	got, _ := run(frames)
	if len(want) != 11 || len(got) != len(want) {
		t.Fatalf("WebSocket messages: got %d without the upgrade, %d with it, want 11 both", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("message %d: got %q, want %q", i, got[i], want[i])
		}
	}
	if wsSIPFrame([]byte{0x81, 0x05, 'h', 'e', 'l', 'l', 'o'}) {
		t.Errorf("wsSIPFrame on a text frame that is not SIP: got true, want false")
	}
}
