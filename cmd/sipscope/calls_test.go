package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/store"
)

// TestEachDialog: every dialog in start order; fn's error stops the
// reading goroutine and is returned; a cancelled context is returned; no
// goroutine is left behind.
func TestEachDialog(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "x.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w, err := st.Writer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range n {
		d := &correlate.Dialog{CallID: fmt.Sprintf("c%d", i), Kind: correlate.KindOptions, State: correlate.StateCompleted,
			Start: t0.Add(time.Duration(n-i) * time.Millisecond), End: t0.Add(time.Hour), Messages: 2,
			SetupTime: -1, AnswerTime: -1, Duration: -1}
		if err := w.Dialog(d, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	var got []string
	if err := eachDialog(ctx, st, store.Filter{Sort: "start"}, func(d *correlate.Dialog) error {
		got = append(got, d.CallID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != n || got[0] != fmt.Sprintf("c%d", n-1) || got[n-1] != "c0" {
		t.Errorf("got %d dialogs from %v to %v, want %d in start order", len(got), got[0], got[len(got)-1], n)
	}
	stop := errors.New("stop")
	k := 0
	err = eachDialog(ctx, st, store.Filter{Sort: "start"}, func(d *correlate.Dialog) error {
		if k++; k == 300 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || k != 300 {
		t.Errorf("got %v after %d dialogs, want stop after 300", err, k)
	}
	cctx, cancel := context.WithCancel(ctx)
	k = 0
	err = eachDialog(cctx, st, store.Filter{Sort: "start"}, func(d *correlate.Dialog) error {
		if k++; k == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v, want context.Canceled", err)
	}
	for i := 0; runtime.NumGoroutine() > before && i < 100; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Errorf("got %d goroutines, want %d: the reader was left behind", g, before)
	}
}
