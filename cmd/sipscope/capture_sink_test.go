package main

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sipscope/sipscope/correlate"
)

// TestLiveSinkNeverWaits: a live capture's decoder hands dialogs to a writer
// slower than they come (10 ms each) without waiting for it, every dialog is
// stored, and the writer commits a few times, not once per dialog.
func TestLiveSinkNeverWaits(t *testing.T) {
	var stored, flushes atomic.Int64
	_, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	s := newLiveSink(correlate.SinkFunc(func(*correlate.Dialog, []*correlate.Message) error {
		time.Sleep(10 * time.Millisecond)
		stored.Add(1)
		return nil
	}), cancel, func() error { flushes.Add(1); return nil })
	start := time.Now()
	for i := 0; i < 100; i++ {
		if err := s.Dialog(&correlate.Dialog{CallID: "x"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("100 Dialog calls took %v: the decoder waited for the writer (1 s of work)", d)
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	if stored.Load() != 100 {
		t.Errorf("stored %d dialogs, want 100", stored.Load())
	}
	// About 1 s of writing (more on a busy machine) with a commit at most
	// every liveCommit, and one at the end.
	took := time.Since(start)
	if n, most := flushes.Load(), int64(took/liveCommit)+2; n < 1 || n > most {
		t.Errorf("%d commits for 100 dialogs in %v, want 1 to %d", n, took, most)
	}
}

// TestLiveSinkVisible: a dialog that ends alone is committed within about
// liveCommit, without waiting for more (a reader of the database sees it).
func TestLiveSinkVisible(t *testing.T) {
	flushed := make(chan time.Time, 10)
	_, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	s := newLiveSink(correlate.SinkFunc(func(*correlate.Dialog, []*correlate.Message) error { return nil }),
		cancel, func() error { flushed <- time.Now(); return nil })
	defer s.close()
	for i := 0; i < 2; i++ {
		sent := time.Now()
		s.Dialog(&correlate.Dialog{CallID: "x"}, nil)
		select {
		case at := <-flushed:
			if d := at.Sub(sent); d > liveCommit+300*time.Millisecond {
				t.Errorf("dialog %d committed %v after it ended, want within about %v", i, d, liveCommit)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("dialog %d not committed 3 s after it ended", i)
		}
	}
}
