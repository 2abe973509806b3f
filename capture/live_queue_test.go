package capture

import (
	"bytes"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"
)

// burstSource is a Live source that hands out n frames of size bytes as
// fast as it is asked (a kernel ring in a burst), then ends. Each frame's
// bytes say its number. It reuses one buffer, as a ring does.
type burstSource struct {
	n, size int
	i       int
	taken   atomic.Int64 // i, for Stats from other goroutines
	buf     []byte
	stopped atomic.Bool
}

func (b *burstSource) Next(f *Frame) error {
	if b.i == b.n || b.stopped.Load() {
		return io.EOF
	}
	b.i++
	b.taken.Store(int64(b.i))
	if b.buf == nil {
		b.buf = make([]byte, b.size)
	}
	for k := range b.buf {
		b.buf[k] = byte(b.i + k)
	}
	*f = Frame{Number: int64(b.i), Data: b.buf, OrigLen: b.size}
	return nil
}
func (b *burstSource) Stop()              { b.stopped.Store(true) }
func (b *burstSource) Stats() LiveStats   { return LiveStats{Packets: b.taken.Load()} }
func (b *burstSource) Err() error         { return nil }
func (b *burstSource) Warnings() []string { return nil }
func (b *burstSource) Close() error       { return nil }

func frameBytes(i, size int) []byte {
	b := make([]byte, size)
	for k := range b {
		b[k] = byte(i + k)
	}
	return b
}

// TestHandoffSlowConsumer: a consumer far slower than the burst gets every
// frame, in order and intact, while the reader has long emptied the source
// into the queue (the ring would be free again); memory stays within the
// bound.
func TestHandoffSlowConsumer(t *testing.T) {
	const n, size = 5000, 1400
	src := &burstSource{n: n, size: size}
	h := newHandoff(src, 64<<20)
	defer h.Close()
	// The reader empties the source without waiting for Next.
	deadline := time.Now().Add(5 * time.Second)
	for src.Stats().Packets < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := src.Stats().Packets; got != n {
		t.Fatalf("reader took %d of %d frames before any Next", got, n)
	}
	var f Frame
	for i := 1; i <= n; i++ {
		if err := h.Next(&f); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if f.Number != int64(i) || !bytes.Equal(f.Data, frameBytes(i, size)) {
			t.Fatalf("frame %d: got number %d, bytes %v…, want its own", i, f.Number, f.Data[:4])
		}
	}
	if err := h.Next(&f); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}
	if p := h.Stats().QueuePeak; p < n*size || p > n*size+3*queueChunk {
		t.Errorf("queue peak %d bytes, want about %d", p, n*size)
	}
}

// TestHandoffBound: past its bound the reader waits (the ring would fill and
// the kernel count its drops) and nothing is lost or dropped here; Stop
// still hands out what was queued.
func TestHandoffBound(t *testing.T) {
	const size = 60000
	src := &burstSource{n: 1000, size: size}
	h := newHandoff(src, 2*queueChunk)
	defer h.Close()
	time.Sleep(100 * time.Millisecond)
	// Two chunks of 17 frames each, one more being read.
	if got := src.Stats().Packets; got > 2*(queueChunk/size)+1 {
		t.Fatalf("reader took %d frames into a 2 MiB queue of 60 kB frames", got)
	}
	var f Frame
	for i := 1; i <= 100; i++ {
		if err := h.Next(&f); err != nil || f.Number != int64(i) || !bytes.Equal(f.Data, frameBytes(i, size)) {
			t.Fatalf("frame %d: %v, number %d", i, err, f.Number)
		}
	}
	h.Stop()
	got := 100
	for h.Next(&f) == nil {
		got++
		if f.Number != int64(got) {
			t.Fatalf("after Stop: frame %d, want %d", f.Number, got)
		}
	}
	if got != int(src.Stats().Packets) {
		t.Errorf("after Stop: %d frames handed out, the source gave %d", got, src.Stats().Packets)
	}
}

// TestHandoffClose: Close does not hang on a reader waiting for room.
func TestHandoffClose(t *testing.T) {
	h := newHandoff(&burstSource{n: 1 << 30, size: 100000}, 2*queueChunk)
	time.Sleep(50 * time.Millisecond)
	done := make(chan struct{})
	go func() { h.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs")
	}
}

// ifaceBurst is a burstSource that names its interface.
type ifaceBurst struct {
	burstSource
	ifc Interface
}

func (s *ifaceBurst) Interfaces() []Interface { return []Interface{s.ifc} }

// TestJoinMapped: the readers of one interface (a fanout group) give its
// frames one Source index, Interfaces lists each interface once in index
// order (what -w numbers pcapng interfaces by), and every frame arrives.
func TestJoinMapped(t *testing.T) {
	eth0 := Interface{"eth0", LinkEthernet}
	tun0 := Interface{"tun0", LinkRaw}
	srcs := []Source{
		&ifaceBurst{burstSource{n: 100, size: 64}, eth0},
		&ifaceBurst{burstSource{n: 100, size: 64}, eth0},
		&ifaceBurst{burstSource{n: 50, size: 64}, tun0},
	}
	j := joinMapped(srcs, []int{0, 0, 1})
	defer j.Close()
	ifs := j.Interfaces()
	if len(ifs) != 2 || ifs[0] != eth0 || ifs[1] != tun0 {
		t.Fatalf("Interfaces %v, want [eth0 tun0]", ifs)
	}
	per := map[int]int{}
	var f Frame
	for j.Next(&f) == nil {
		per[f.Source]++
	}
	if per[0] != 200 || per[1] != 50 || len(per) != 2 {
		t.Errorf("frames per Source %v, want 200 for 0 (two readers of eth0) and 50 for 1", per)
	}
}
