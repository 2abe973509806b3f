package main

import (
	"io"
	"sync"
)

// batchWriter is the last stage of a pipeline: the stage before it
// appends encoded records to a batch (Buf) and hands full batches on
// (Flush when it is above batchBytes); a goroutine writes them to w in the
// order they came. The queue between them is bounded (batchQueue batches
// in flight, recycled), so a slow output holds the pipeline back instead of
// buffering the capture, and the encoder never waits for a write(2)
// unless the queue is full. Writes are batches of batchBytes or more, not
// a call per record.
type batchWriter struct {
	w    io.Writer
	buf  []byte
	q    chan []byte
	free chan []byte
	done chan struct{}

	mu  sync.Mutex
	err error // the first write error
}

const (
	batchBytes = 256 << 10
	batchQueue = 4
)

func newBatchWriter(w io.Writer) *batchWriter {
	b := &batchWriter{w: w, q: make(chan []byte, batchQueue), free: make(chan []byte, batchQueue+1),
		done: make(chan struct{}), buf: make([]byte, 0, batchBytes+batchBytes/4)}
	go b.loop()
	return b
}

func (b *batchWriter) loop() {
	defer close(b.done)
	for buf := range b.q {
		if b.Err() == nil {
			if _, err := b.w.Write(buf); err != nil {
				b.mu.Lock()
				b.err = err
				b.mu.Unlock()
			}
		}
		select {
		case b.free <- buf[:0]:
		default:
		}
	}
}

// Err is the first write error so far.
func (b *batchWriter) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// Flush hands the batch on when it is full enough; call it after each
// record. It returns the first write error so far.
func (b *batchWriter) Flush() error {
	if len(b.buf) >= batchBytes {
		b.send()
	}
	return b.Err()
}

func (b *batchWriter) send() {
	if len(b.buf) == 0 {
		return
	}
	b.q <- b.buf
	select {
	case b.buf = <-b.free:
	default:
		b.buf = make([]byte, 0, batchBytes+batchBytes/4)
	}
}

// Close writes what is left, waits for the writer and returns its first
// error. It must be called once, whatever happened.
func (b *batchWriter) Close() error {
	b.send()
	close(b.q)
	<-b.done
	return b.Err()
}
