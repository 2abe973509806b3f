package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sipscope/sipscope/correlate"
)

// TestDiagnosis checks schema 8's findings columns: a Diagnosis written
// reads back; a dialog written without one is undiagnosed until Rediagnose
// runs the rules on its stored messages; a continuation merged into a
// stored dialog is undiagnosed again in a store with messages, and in a
// dialogs-only store takes the continuation's Diagnosis (the whole so far,
// see Dialog.Part) or, afresh (Part 0), adds up.
func TestDiagnosis(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	busy, busyMsgs := makeCall(t, callSpec{callID: "busy", from: "alice", to: "bob", final: 486, start: t0})
	ok, okMsgs := makeCall(t, callSpec{callID: "ok", from: "alice", to: "carol", final: 200, start: t0.Add(time.Second), seq: 10})
	rules := func(d *correlate.Dialog, msgs []*correlate.Message) correlate.Diagnosis {
		return correlate.Summarize(correlate.Diagnose(d, msgs, correlate.DefaultDiagnoseOptions()))
	}
	busy.Diagnosis = correlate.Diagnosis{Done: true, Findings: 1, Worst: "busy", Severity: correlate.SevWarning}
	s := openTest(t, Options{})
	writeAll(t, s, []*correlate.Dialog{busy, ok}, [][]*correlate.Message{busyMsgs, okMsgs})
	if d, err := s.Dialog(ctx, "busy"); err != nil || d.Diagnosis != busy.Diagnosis {
		t.Errorf("busy: got %+v (%v), want %+v", d.Diagnosis, err, busy.Diagnosis)
	}
	if ids, err := s.Undiagnosed(ctx); err != nil || !slices.Equal(ids, []string{"ok"}) {
		t.Errorf("undiagnosed: got %v (%v), want [ok]", ids, err)
	}
	n, err := s.Rediagnose(ctx, rules)
	if err != nil || n != 1 {
		t.Fatalf("rediagnose: %d, %v; want 1 dialog", n, err)
	}
	want := rules(ok, okMsgs)
	if d, err := s.Dialog(ctx, "ok"); err != nil || d.Diagnosis != want || !want.Done {
		t.Errorf("ok after Rediagnose: got %+v (%v), want %+v", d.Diagnosis, err, want)
	}
	if ids, _ := s.Undiagnosed(ctx); len(ids) != 0 {
		t.Errorf("undiagnosed after Rediagnose: %v", ids)
	}

	// A continuation: the late ACK of the 486.
	cont := *busy
	cont.Part, cont.Messages = 1, 1
	cont.Transactions = nil
	cont.Diagnosis = correlate.Diagnosis{Done: true, Findings: 2, Worst: "no-ack", Severity: correlate.SevError}
	ack := msg(t, sipText("ACK sip:bob@example.com SIP/2.0", "busy", 1, "ACK", "alice", "bob", "t1"), t0.Add(time.Second), "10.0.0.1:5060", "10.0.0.2:5060", 20, 0)
	writeAll(t, s, []*correlate.Dialog{&cont}, [][]*correlate.Message{{ack}})
	if ids, _ := s.Undiagnosed(ctx); !slices.Equal(ids, []string{"busy"}) {
		t.Errorf("merged continuation: undiagnosed %v, want [busy]", ids)
	}

	only := openTest(t, Options{DialogsOnly: true})
	writeAll(t, only, []*correlate.Dialog{busy}, [][]*correlate.Message{nil})
	writeAll(t, only, []*correlate.Dialog{&cont}, [][]*correlate.Message{nil})
	if d, _ := only.Dialog(ctx, "busy"); d.Diagnosis != cont.Diagnosis {
		t.Errorf("dialogs-only continuation: got %+v, want the continuation's %+v", d.Diagnosis, cont.Diagnosis)
	}
	afresh := cont
	afresh.Part = 0
	writeAll(t, only, []*correlate.Dialog{&afresh}, [][]*correlate.Message{nil})
	sum := correlate.Diagnosis{Done: true, Findings: 4, Worst: "no-ack", Severity: correlate.SevError}
	if d, _ := only.Dialog(ctx, "busy"); d.Diagnosis != sum {
		t.Errorf("dialogs-only afresh: got %+v, want %+v (added up)", d.Diagnosis, sum)
	}
	if _, err := only.Rediagnose(ctx, rules); err != nil {
		t.Errorf("dialogs-only Rediagnose with nothing to do: %v", err)
	}
}

// TestLeftUndiagnosed: a Writer says whether Rediagnose may have work
// because of it (the importer skips Undiagnosed's scan when not): not
// after diagnosed dialogs into an empty store; after a dialog without a
// Diagnosis, a continuation merged into a stored dialog, or a start on a
// store that held dialogs.
func TestLeftUndiagnosed(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	done := correlate.Diagnosis{Done: true, Findings: 1, Worst: "busy", Severity: correlate.SevWarning}
	busy, busyMsgs := makeCall(t, callSpec{callID: "busy", from: "alice", to: "bob", final: 486, start: t0})
	busy.Diagnosis = done
	ok, okMsgs := makeCall(t, callSpec{callID: "ok", from: "alice", to: "carol", final: 200, start: t0.Add(time.Second), seq: 10})
	ok.Diagnosis = done

	s := openTest(t, Options{})
	if w := writeAll(t, s, []*correlate.Dialog{busy}, [][]*correlate.Message{busyMsgs}); w.LeftUndiagnosed() {
		t.Error("diagnosed dialogs into an empty store: LeftUndiagnosed")
	}
	if ids, _ := s.Undiagnosed(ctx); len(ids) != 0 {
		t.Fatalf("undiagnosed %v after diagnosed dialogs", ids)
	}
	if w := writeAll(t, s, []*correlate.Dialog{ok}, [][]*correlate.Message{okMsgs}); !w.LeftUndiagnosed() {
		t.Error("a Writer on a store that held dialogs: not LeftUndiagnosed")
	}

	not := *ok
	not.Diagnosis = correlate.Diagnosis{}
	if w := writeAll(t, openTest(t, Options{}), []*correlate.Dialog{&not}, [][]*correlate.Message{okMsgs}); !w.LeftUndiagnosed() {
		t.Error("a dialog without a Diagnosis: not LeftUndiagnosed")
	}

	cont := *busy
	cont.Part, cont.Messages, cont.Transactions = 1, 1, nil
	ack := msg(t, sipText("ACK sip:bob@example.com SIP/2.0", "busy", 1, "ACK", "alice", "bob", "t1"), t0.Add(time.Second), "10.0.0.1:5060", "10.0.0.2:5060", 20, 0)
	m := openTest(t, Options{})
	w := writeAll(t, m, []*correlate.Dialog{busy, &cont}, [][]*correlate.Message{busyMsgs, {ack}})
	if ids, _ := m.Undiagnosed(ctx); !w.LeftUndiagnosed() || !slices.Equal(ids, []string{"busy"}) {
		t.Errorf("a merged continuation: LeftUndiagnosed %v, undiagnosed %v", w.LeftUndiagnosed(), ids)
	}
}
