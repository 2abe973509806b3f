package decode

import (
	"context"
	"errors"
	"testing"

	"github.com/sipscope/sipscope/capture"
)

// TestRun decodes a real SIPp capture through Run with HandlerFuncs, and a
// cancelled context stops Run before any frame.
func TestRun(t *testing.T) {
	open := func() capture.Source {
		src, err := capture.Open([]string{"../testdata/sipp/udp-basic.pcap"}, capture.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { src.Close() })
		return src
	}
	n, ticks := 0, 0
	d := New(Options{}, HandlerFuncs{OnMessage: func(*Message) { n++ }})
	if err := d.Run(context.Background(), open(), func() { ticks++ }); err != nil {
		t.Fatal(err)
	}
	if n != 21 {
		t.Errorf("messages: got %d, want 21", n)
	}
	if ticks < 2 {
		t.Errorf("ticks: got %d, want at least 2 (start and end)", ticks)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d = New(Options{}, HandlerFuncs{}) // nil functions ignore what they get
	if err := d.Run(ctx, open(), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Run: got %v, want context.Canceled", err)
	}
	if got := d.Stats().Frames; got != 0 {
		t.Errorf("frames after a cancelled Run: got %d, want 0", got)
	}
}
