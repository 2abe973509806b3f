package store

import (
	"context"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
)

// TestPackedDialogIsTheRow: a PackedDialog unpacks to what a dialogs row
// reads back, field for field, so that `calls` without a store lists what
// the store would (PackDialog keeps its own list of dialogCols).
func TestPackedDialogIsTheRow(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	all := &correlate.Dialog{
		CallID: "c1@h", Kind: correlate.KindCall, State: correlate.StateRejected, FinalStatus: 486, FinalReason: "Busy Here",
		From: decode.NameAddr{Display: "Алиса \"A\"", URI: "sip:alice@a.example", User: "alice", Host: "a.example", Tag: "f1"},
		To:   decode.NameAddr{Display: "Bob", URI: "sip:bob@[2001:db8::2]:5070", User: "bob", Host: "[2001:db8::2]:5070", Tag: "t\x00\xff"},
		Src:  netip.MustParseAddrPort("[2001:db8::1]:5060"), Dst: netip.MustParseAddrPort("10.0.0.2:5061"),
		Transport: decode.TLS, Messages: 9, Retransmissions: 2, Duplicates: 1, Events: 3,
		Start: t0, End: t0.Add(3 * time.Second), SetupTime: 120 * time.Millisecond, AnswerTime: -1, Duration: -1,
		Q850Cause: 17, UserAgent: "UA/1", Legs: []string{"t1", "t\"2"},
		Linked: []string{"other"}, Transactions: []correlate.Transaction{{Method: "INVITE"}}, Part: 2,
		Diagnosis: correlate.Diagnosis{Done: true, Findings: 2, Worst: "busy", Severity: correlate.SevWarning},
	}
	none := &correlate.Dialog{CallID: "c2", Kind: correlate.KindOther, State: correlate.StatePending, AnswerTime: -1}
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
	for _, d := range []*correlate.Dialog{all, none} {
		c := *d
		c.Part = 0 // stored afresh
		if err := w.Dialog(&c, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*correlate.Dialog{all, none} {
		stored, err := s.Dialog(ctx, d.CallID)
		if err != nil {
			t.Fatal(err)
		}
		stored.Linked, stored.Transactions = nil, nil // the row's other tables
		if got := PackDialog(nil, d).Dialog(); !reflect.DeepEqual(got, stored) {
			t.Errorf("%s: unpacked\n  %+v\nstored\n  %+v", d.CallID, *got, *stored)
		}
	}
}
