package capture

import (
	"io"
	"sync"
)

// queueChunk is the unit of memory a handoff queue copies frames into. It
// is larger than the largest frame (snaplen 262144).
const queueChunk = 1 << 20

// handoff decouples the reading of a live source from its consumer: a
// goroutine of its own empties the source (the kernel ring) as fast as the
// kernel fills it, copying each frame into 1 MiB chunks, and Next hands the
// frames out in order. When the consumer (decoding, correlating, storing)
// falls behind during a burst, frames wait here, in memory that grows only
// while it is behind, instead of filling the ring, whose overflow the
// kernel can only drop. Past max bytes the reader waits, the ring fills,
// and the kernel counts what it drops: there is one drop counter, the
// kernel's, and nothing is dropped here.
//
// Next is for one goroutine; Stop, Stats and Err for any.
type handoff struct {
	src Live
	max int // bytes of chunks in use at most

	mu     sync.Mutex
	more   *sync.Cond // a frame was queued, or the reader ended
	room   *sync.Cond // a chunk was freed
	frames []queuedFrame
	head   int      // next frame for Next
	chunks [][]byte // in use, oldest first; the last is being filled
	base   int      // chunk number of chunks[0]
	free   [][]byte // spare chunks
	inUse  int      // bytes of chunks in use
	done   bool     // the reader ended
	closed bool     // Close was called: put drops
	peak   int      // most bytes in use, for Stats
	wg     sync.WaitGroup
}

type queuedFrame struct {
	f     Frame // Data is nil; it lies in chunk at [off:off+n]
	chunk int   // absolute chunk number
	off   int
	n     int
}

// newHandoff starts reading src. max is the most memory frames may wait in
// (at least 2 chunks).
func newHandoff(src Live, limit int) *handoff {
	h := &handoff{src: src, max: max(limit, 2*queueChunk)}
	h.more = sync.NewCond(&h.mu)
	h.room = sync.NewCond(&h.mu)
	h.wg.Add(1)
	go h.read()
	return h
}

func (h *handoff) read() {
	defer h.wg.Done()
	var f Frame
	for {
		err := h.src.Next(&f)
		if err != nil {
			// io.EOF, or an error of a non-Live source: the source's
			// Err says why it ended early.
			h.mu.Lock()
			h.done = true
			h.more.Broadcast()
			h.mu.Unlock()
			return
		}
		h.put(&f)
	}
}

// put copies one frame into the queue, waiting for room when full.
func (h *handoff) put(f *Frame) {
	n := len(f.Data)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	last := len(h.chunks) - 1
	if last < 0 || len(h.chunks[last])+n > cap(h.chunks[last]) {
		for h.inUse+queueChunk > h.max && !h.closed {
			h.room.Wait()
		}
		if h.closed {
			return
		}
		var c []byte
		if k := len(h.free); k > 0 {
			c, h.free = h.free[k-1][:0], h.free[:k-1]
		} else {
			c = make([]byte, 0, max(queueChunk, n))
		}
		h.chunks = append(h.chunks, c)
		h.inUse += cap(c)
		h.peak = max(h.peak, h.inUse)
		// Next may have freed chunks while this waited for room.
		last = len(h.chunks) - 1
	}
	c := h.chunks[last]
	qf := queuedFrame{f: *f, chunk: h.base + last, off: len(c), n: n}
	qf.f.Data = nil
	h.chunks[last] = append(c, f.Data...)
	h.frames = append(h.frames, qf)
	h.more.Signal()
}

// Next implements Source. Data lies in the queue's memory: valid until the
// next call.
func (h *handoff) Next(f *Frame) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.head == len(h.frames) && !h.done {
		h.more.Wait()
	}
	if h.head == len(h.frames) {
		return io.EOF
	}
	qf := h.frames[h.head]
	h.frames[h.head] = queuedFrame{}
	h.head++
	// Chunks before this frame's are done with: the previous frame handed
	// out was in one of them at the latest.
	for h.base < qf.chunk {
		c := h.chunks[0]
		h.chunks[0] = nil
		h.chunks = h.chunks[1:]
		h.base++
		h.inUse -= cap(c)
		if cap(c) == queueChunk && len(h.free) < 4 {
			h.free = append(h.free, c)
		}
		h.room.Broadcast()
	}
	if h.head == len(h.frames) {
		h.frames, h.head = h.frames[:0], 0
	} else if h.head > 4096 && h.head*2 > len(h.frames) {
		k := copy(h.frames, h.frames[h.head:])
		clear(h.frames[k:])
		h.frames, h.head = h.frames[:k], 0
	}
	c := h.chunks[qf.chunk-h.base]
	*f = qf.f
	f.Data = c[qf.off : qf.off+qf.n : qf.off+qf.n]
	return nil
}

// Stop implements Live: the source ends, the frames queued are still handed
// out, then Next returns io.EOF.
func (h *handoff) Stop() { h.src.Stop() }

// Stats implements Live.
func (h *handoff) Stats() LiveStats {
	st := h.src.Stats()
	h.mu.Lock()
	st.QueuePeak = int64(h.peak)
	st.Queued = int64(h.inUse)
	h.mu.Unlock()
	return st
}

// Err implements Live.
func (h *handoff) Err() error { return h.src.Err() }

// Warnings implements Source.
func (h *handoff) Warnings() []string { return h.src.Warnings() }

// Interfaces implements Interfaces.
func (h *handoff) Interfaces() []Interface {
	if l, ok := h.src.(Interfaces); ok {
		return l.Interfaces()
	}
	return nil
}

// Close implements io.Closer: it stops the source, waits for the reader and
// closes the source.
func (h *handoff) Close() error {
	h.src.Stop()
	// The reader may wait for room: free everything, nobody reads now.
	h.mu.Lock()
	h.closed = true
	h.room.Broadcast()
	h.mu.Unlock()
	h.wg.Wait()
	return h.src.Close()
}
