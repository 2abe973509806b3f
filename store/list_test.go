package store

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/sipscope/sipscope/correlate"
)

// TestListRoundTrip checks that parseList reads back what jsonList wrote,
// on the fast path (no escapes) and the JSON one.
func TestListRoundTrip(t *testing.T) {
	for _, l := range [][]string{
		nil,
		{"a"},
		{"as5c8a2b1", "b"},
		{`q"uote`, `back\slash`},
		{`a","b`},
		{"<html>&", "ünï"},
		{"", "x"},
		{"tab\there"},
	} {
		got := parseList(jsonList(l))
		if len(l) == 0 {
			if got != nil {
				t.Errorf("%q: got %q, want nil", l, got)
			}
			continue
		}
		if !reflect.DeepEqual(got, l) {
			t.Errorf("got %q, want %q (stored %s)", got, l, jsonList(l))
		}
	}
}

// TestDialogsOnlyDuplicates checks that a dialogs-only store, which queues
// new Call-IDs many to an INSERT without remembering them, merges a Part 0
// record of a Call-ID it already has (in the same queued statement, or
// written before) exactly as a full store does.
func TestDialogsOnlyDuplicates(t *testing.T) {
	var ds []*correlate.Dialog
	for i := range 300 {
		d, _ := makeCall(t, callSpec{callID: fmt.Sprintf("c%d", i%200), from: "alice", to: "bob", final: 200,
			start: t0.Add(time.Duration(i) * time.Second)})
		d.Transactions = nil
		ds = append(ds, d)
	}
	read := func(s *Store) []string {
		var out []string
		for d, err := range s.Dialogs(context.Background(), Filter{Sort: "call_id"}) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s %s %d %d %v %v", d.CallID, d.State, d.Messages, d.FinalStatus, d.Start, d.End))
		}
		return out
	}
	full := openTest(t, Options{})
	writeAll(t, full, ds, make([][]*correlate.Message, len(ds)))
	only := openTest(t, Options{DialogsOnly: true})
	writeAll(t, only, ds, make([][]*correlate.Message, len(ds)))
	want, got := read(full), read(only)
	if len(want) != 200 {
		t.Fatalf("full store: got %d dialogs, want 200", len(want))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("dialogs-only store differs from the full one:\n got %q\nwant %q", got[:3], want[:3])
	}
}
