package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/sipscope/sipscope/correlate"
)

// TestPreparedPerQuery: reading each of many dialogs (Dialog, Messages,
// Streams, Frames, Linked) prepares each query once, whatever the
// Call-IDs: their text must not name a Call-ID, or the statement cache
// would grow with every dialog read.
func TestPreparedPerQuery(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	var ds []*correlate.Dialog
	var ms [][]*correlate.Message
	for i := range 20 {
		d, m := makeCall(t, callSpec{callID: fmt.Sprintf("prep-%d@host", i), from: "alice", to: "bob", final: 200, start: t0})
		ds, ms = append(ds, d), append(ms, m)
	}
	writeAll(t, s, ds, ms)
	count := func() int {
		n := 0
		s.stmts.Range(func(_, _ any) bool { n++; return true })
		return n
	}
	read := func(id string) {
		t.Helper()
		if _, err := s.Dialog(ctx, id); err != nil {
			t.Fatal(err)
		}
		got, err := s.Messages(ctx, []string{id})
		if err != nil || len(got) != len(ms[0]) {
			t.Fatalf("%s: %d messages, %v; want %d", id, len(got), err, len(ms[0]))
		}
		if _, err := s.Streams(ctx, []string{id}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Frames(ctx, []string{id}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Linked(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	read(ds[0].CallID)
	after1 := count()
	if after1 == 0 {
		t.Fatal("no statement kept after reading a dialog")
	}
	for _, d := range ds[1:] {
		read(d.CallID)
	}
	if n := count(); n != after1 {
		t.Errorf("%d statements after reading 20 dialogs, %d after one: want the same", n, after1)
	}
	if _, err := s.Dialog(ctx, "no-such@host"); err == nil {
		t.Error("Dialog of an unknown Call-ID: no error")
	}
}
