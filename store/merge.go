package store

import (
	"slices"
	"time"

	"github.com/sipscope/sipscope/correlate"
)

// terminal reports whether a state is an end the dialog stays in.
func terminal(s correlate.State) bool {
	switch s {
	case correlate.StateCompleted, correlate.StateCancelled, correlate.StateBusy,
		correlate.StateRejected, correlate.StateRedirected, correlate.StateTerminated:
		return true
	}
	return false
}

// progress orders the non-terminal call states by how far a call got.
var progress = map[correlate.State]int{
	correlate.StateMidDialog:  -1, // any reading of the opening request knows more
	correlate.StateNoResponse: 0,
	correlate.StatePending:    1,
	correlate.StateSetup:      1,
	correlate.StateRinging:    2,
	correlate.StateInCall:     3,
	correlate.StateActive:     3,
}

// merge folds a later record of a Call-ID (messages that arrived after its
// dialog was handed on) into the stored dialog.
//
// A record that starts afresh (Part 0: the same Call-ID in another import,
// or a correlator that no longer remembered the earlier part) summarises
// only its own messages. Then the stored
// record describes the opening request, so its identity (kind, From, To,
// first addresses, final status of the opening request, timings) wins
// where it has a value; counts add up and the time span widens. A
// continuation alone cannot tell how the call went, so the state moves
// only forward: a terminal state beats an open one, an open call that
// now shows a BYE is completed (RFC 3261 §15), and among open states the
// furthest wins.
//
// A continuation from the same correlator run (Part > 0) already carries
// the summary of the whole dialog so far, so it replaces the stored one;
// only the time span and the linked Call-IDs are combined.
func merge(old, cont *correlate.Dialog, contMsgs []*correlate.Message) *correlate.Dialog {
	if cont.Part > 0 {
		d := *cont
		if !old.Start.IsZero() && (d.Start.IsZero() || old.Start.Before(d.Start)) {
			d.Start = old.Start
		}
		if old.End.After(d.End) {
			d.End = old.End
		}
		d.Linked = union(old.Linked, cont.Linked)
		d.Legs = union(old.Legs, cont.Legs)
		d.Transactions = nil
		return &d
	}
	d := *old
	if d.Kind == "" || d.Kind == correlate.KindOther {
		if cont.Kind != "" {
			d.Kind = cont.Kind
		}
	}
	if d.FinalStatus == 0 && cont.FinalStatus != 0 {
		d.FinalStatus, d.FinalReason = cont.FinalStatus, cont.FinalReason
	}
	if d.From.URI == "" {
		d.From = cont.From
	}
	if d.To.URI == "" {
		d.To = cont.To
	} else if d.To.Tag == "" && cont.To.Tag != "" && cont.To.URI == d.To.URI {
		d.To.Tag = cont.To.Tag
	}
	if !d.Src.IsValid() {
		d.Src, d.Dst = cont.Src, cont.Dst
	}
	if d.Transport == "" {
		d.Transport = cont.Transport
	}
	d.Messages += cont.Messages
	d.Retransmissions += cont.Retransmissions
	d.Duplicates += cont.Duplicates
	if d.Start.IsZero() || (!cont.Start.IsZero() && cont.Start.Before(d.Start)) {
		d.Start = cont.Start
	}
	if cont.End.After(d.End) {
		d.End = cont.End
	}
	if d.SetupTime < 0 && cont.SetupTime >= 0 {
		d.SetupTime = cont.SetupTime
	}
	if d.AnswerTime < 0 && cont.AnswerTime >= 0 {
		d.AnswerTime = cont.AnswerTime
	}
	if d.Q850Cause == 0 {
		d.Q850Cause = cont.Q850Cause
	}
	if d.UserAgent == "" {
		d.UserAgent = cont.UserAgent
	}
	d.Events += cont.Events
	d.Legs = union(d.Legs, cont.Legs)
	d.Linked = union(d.Linked, cont.Linked)

	// State.
	bye := byeTime(cont, contMsgs)
	switch {
	case terminal(d.State):
		// Stays: later messages (a retransmitted 200, a late ACK) do not
		// change how the dialog ended.
	case d.State == correlate.StateInCall && !bye.IsZero():
		d.State = correlate.StateCompleted
		if d.Duration < 0 && d.AnswerTime >= 0 && !d.Start.IsZero() {
			d.Duration = bye.Sub(d.Start.Add(d.AnswerTime))
		}
	case terminal(cont.State) && cont.Kind == d.Kind:
		d.State = cont.State
		if d.Duration < 0 {
			d.Duration = cont.Duration
		}
	case progress[cont.State] > progress[d.State] && cont.Kind == d.Kind:
		d.State = cont.State
	}
	if d.Duration < 0 && cont.Duration >= 0 {
		d.Duration = cont.Duration
	}
	return &d
}

// byeTime is when a continuation shows a BYE request, zero when none.
func byeTime(cont *correlate.Dialog, msgs []*correlate.Message) time.Time {
	for _, m := range msgs {
		if m != nil && m.Message != nil && m.Request && m.Method == "BYE" {
			return m.Time
		}
	}
	for _, tx := range cont.Transactions {
		if tx.Method == "BYE" {
			return tx.Start
		}
	}
	return time.Time{}
}

// union returns a followed by the elements of b not in a.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// MergeDialogs folds a later record of a Call-ID into the earlier one as a
// dialogs-only store does (Options.DialogsOnly: the rows of `calls`), its
// Diagnosis included. Like the rest of a continuation's summary (Part >
// 0), its Diagnosis is that of the whole dialog so far (its maker kept
// the messages it needed); a record afresh adds its findings to the
// earlier ones (correlate.Diagnosis.Combine). A reader that lists dialogs
// without a store (`calls` on capture files) merges with it too, so both
// give the same rows. Neither argument is modified.
func MergeDialogs(old, cont *correlate.Dialog, contMsgs []*correlate.Message) *correlate.Dialog {
	d := merge(old, cont, contMsgs)
	if cont.Part == 0 {
		d.Diagnosis = old.Diagnosis.Combine(cont.Diagnosis)
	}
	return d
}
