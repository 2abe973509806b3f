package store

import (
	"context"
	"testing"
	"time"

	"github.com/sipscope/sipscope/correlate"
)

// TestScratchDialogsOnlyMergeOnce: a dialogs-only scratch store (the one
// `calls --sort start` lists through) keeps no journal, so a bulk insert
// that fails on a Call-ID stored before leaves the rows ahead of it in.
// Each dialog of the batch must still be counted once: a Call-ID seen
// three times in one batch (the fuzzed capture of nDPI has a dozen
// messages without a Call-ID) adds up to three messages, and the others
// of the batch keep their one.
func TestScratchDialogsOnlyMergeOnce(t *testing.T) {
	ctx := context.Background()
	s, err := OpenTemp(t.TempDir(), Options{DialogsOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, err := s.Writer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := []string{"", "a", "", "b", "", "c"}
	for i, id := range ids {
		d := &correlate.Dialog{CallID: id, Kind: correlate.KindOther, State: correlate.StatePending, Messages: 1,
			Start: t0.Add(time.Duration(i) * time.Second), End: t0.Add(time.Duration(i) * time.Second)}
		if err := w.Dialog(d, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for d, err := range s.Dialogs(ctx, Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		got[d.CallID] += d.Messages
	}
	want := map[string]int{"": 3, "a": 1, "b": 1, "c": 1}
	for id, n := range want {
		if got[id] != n {
			t.Errorf("Call-ID %q: %d messages, want %d (all: %v)", id, got[id], n, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("rows %v, want %v", got, want)
	}
}
