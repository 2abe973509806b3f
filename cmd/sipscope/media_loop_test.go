package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sipscope/sipscope/capture"
	"github.com/sipscope/sipscope/store"
)

// loopCapture writes n copies of a one-call capture one after another
// (each 8 s later, its Call-ID renamed in place, same length), as a long
// run of calls on the same ports and SSRCs.
func loopCapture(t *testing.T, src, callID string, n int) string {
	t.Helper()
	in, err := capture.Open([]string{src}, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var frames []capture.Frame
	var f capture.Frame
	for {
		if err := in.Next(&f); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		c := f
		c.Data = bytes.Clone(f.Data)
		frames = append(frames, c)
	}
	in.Close()
	path := filepath.Join(t.TempDir(), "loop.pcap")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := capture.NewWriter(out, "pcap")
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < n; k++ {
		id := []byte(fmt.Sprintf("%s%0*d", callID[:3], len(callID)-3, k))
		for _, f := range frames {
			c := f
			c.Data = bytes.ReplaceAll(f.Data, []byte(callID), id)
			c.Time = f.Time.Add(time.Duration(k) * 8 * time.Second)
			if err := w.WriteFrame(&c); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMediaLoopBounded: 60 calls of testdata/media/clean.pcap in a row
// through the whole import (decode, correlate, media, store): the media
// tracker never holds more than two calls' worth of streams, and every
// call has its two streams stored with the figures of the original.
func TestMediaLoopBounded(t *testing.T) {
	const n = 60
	src := filepath.Join("..", "..", "testdata", "media", "clean.pcap")
	loop := loopCapture(t, src, "1-26562@127.0.0.1", n)
	st, err := store.OpenTemp(t.TempDir(), store.Options{DialogsOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	imp := &importer{store: st, files: []string{loop}, io: &streams{In: bytes.NewReader(nil), Out: io.Discard, ErrOut: io.Discard},
		quiet: true, correlate: (&linkOptions{}).summaries(true)}
	res, err := imp.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := res.media
	t.Logf("%d calls: %d streams made, %d handed on; at most %d streams and %d calls tracked at once", n, m.Streams, m.HandedOn, m.MaxLive, m.MaxCalls)
	if m.MaxLive > 4 || m.MaxCalls > 2 {
		t.Errorf("tracked at once: got %d streams, %d calls; want at most 4, 2 (the call ending and the next)", m.MaxLive, m.MaxCalls)
	}
	if m.Live != 0 || m.Calls != 0 {
		t.Errorf("after the import: got %d streams, %d calls tracked; want none", m.Live, m.Calls)
	}
	ss, err := st.Streams(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 2*n {
		t.Fatalf("stored %d streams, want %d", len(ss), 2*n)
	}
	per := map[string]int{}
	for _, s := range ss {
		per[s.CallID]++
		// testdata/media/README.md: clean audio, 150 packets each way, none lost.
		if s.Packets != 150 || s.Lost != 0 || s.MOS == nil {
			t.Errorf("stream %v>%v of %s: got %d packets, %d lost, MOS %v; want 150, 0, scored", s.Src, s.Dst, s.CallID, s.Packets, s.Lost, s.MOS)
		}
	}
	if len(per) != n {
		t.Errorf("streams of %d calls, want %d", len(per), n)
	}
}
