package main

import (
	"context"
	"sync"
	"time"

	"github.com/sipscope/sipscope/correlate"
)

// A live capture hands dialogs to the writer through a liveQueue rather
// than the channel of batches an import uses. The decoding goroutine is the
// one that empties the kernel ring, so it must never wait for the
// database: it appends each finished dialog to a list under a mutex and
// goes back to the ring. The writer takes the whole list at once and
// commits at most every liveCommit, so that a burst of dialogs becomes a
// few transactions instead of one per dialog. (Measured with
// scripts/bench-live.sh: with a commit per dialog the writer fell behind at
// 30,000 packets/s, its channel filled, decoding stopped and the kernel
// dropped 60% of a 300,000-packet replay.)
const (
	// liveCommit bounds how late a stored dialog becomes visible to
	// readers of the database (calls --db, the TUI) during a capture.
	liveCommit = 200 * time.Millisecond
	// liveMaxPending bounds the dialogs waiting for the writer (memory):
	// past it the decoder waits after all, and the kernel ring takes up
	// the slack, counting what it drops.
	liveMaxPending = 1 << 16
)

type liveQueue struct {
	mu      sync.Mutex
	cond    *sync.Cond // signalled when the writer takes the list
	pending []asyncItem
	wake    chan struct{} // capacity 1: there is something pending
	closed  bool
}

// newLiveSink is newAsyncSink for a live capture: flush (the writer's
// commit) is called at most every liveCommit while dialogs come, and at
// the end.
func newLiveSink(sink correlate.Sink, cancel context.CancelCauseFunc, flush func() error) *asyncSink {
	q := &liveQueue{wake: make(chan struct{}, 1)}
	q.cond = sync.NewCond(&q.mu)
	s := &asyncSink{sink: sink, cancel: cancel, flush: flush, liveq: q, done: make(chan struct{})}
	go s.liveLoop()
	return s
}

// liveDialog queues one dialog for the writer without waiting for it
// (unless liveMaxPending are already waiting).
func (s *asyncSink) liveDialog(it asyncItem) {
	q := s.liveq
	q.mu.Lock()
	for len(q.pending) >= liveMaxPending && !s.failed.Load() {
		q.cond.Wait()
	}
	q.pending = append(q.pending, it)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// liveClose ends the queue: the writer stores what is pending, commits and
// ends.
func (s *asyncSink) liveClose() {
	q := s.liveq
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// liveLoop is the writer goroutine of a live capture.
func (s *asyncSink) liveLoop() {
	defer close(s.done)
	q := s.liveq
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var timerC <-chan time.Time
	var spare []asyncItem
	dirty := false
	last := time.Now()
	for {
		select {
		case <-q.wake:
		case <-timerC:
			timerC = nil
		}
		q.mu.Lock()
		batch := q.pending
		q.pending = spare[:0]
		closed := q.closed
		q.cond.Broadcast()
		q.mu.Unlock()

		for _, it := range batch {
			if s.err != nil {
				break // drain: the pipeline is being cancelled
			}
			if err := s.write1(it); err != nil {
				s.fail(err)
				break
			}
			dirty = true
		}
		if s.pool != nil && !s.retains {
			for _, it := range batch {
				s.pool.put(it.msgs)
			}
		}
		clear(batch)
		spare = batch

		if dirty && s.err == nil && s.flush != nil {
			if since := time.Since(last); closed || since >= liveCommit {
				if err := s.flush(); err != nil {
					s.fail(err)
				}
				dirty, last = false, time.Now()
				timer.Stop()
				timerC = nil
			} else if timerC == nil {
				timer.Reset(liveCommit - since)
				timerC = timer.C
			}
		}
		if closed {
			q.mu.Lock()
			done := len(q.pending) == 0
			q.mu.Unlock()
			if done {
				return
			}
			select { // more came: go round again without waiting
			case q.wake <- struct{}{}:
			default:
			}
		}
	}
}
