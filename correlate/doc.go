// Package correlate groups decoded SIP messages into dialogs and
// transactions and summarises each dialog: its kind, state, final status,
// timings, retransmissions and linked legs.
//
// Dialogs are keyed by Call-ID; inside a dialog, transactions follow RFC
// 3261 §17.1.3/§17.2.3 (top Via branch with the "z9hG4bK" cookie, sent-by
// and CSeq method; the RFC 2543 fallback without the cookie). A
// retransmission is a message of the same transaction, direction and start
// line seen again; the same request seen on two hops of a proxy is two
// transactions, not a retransmission.
//
// The correlator streams: a dialog is handed to the Sink when it has ended
// plus Options.Grace, or after Options.Idle without messages, both in
// capture time, so memory stays flat however long the capture. A message
// for a Call-ID already handed on opens a continuation record (Dialog.Part
// > 0) that carries the dialog's summary so far; a store merges the parts.
//
// Two options trade what is handed on for memory and latency, with the
// same dialogs: Options.Summaries keeps no messages at all (Add may then
// be given the decoder's message as it is, without Clone; the Sink gets
// nil msgs), for listing calls; Options.Early hands a dialog on when it
// ends rather than Grace later, so its messages are not held for Grace and
// a consumer stores it while the capture is still read (a late message
// then comes as a continuation).
//
// Memory with Early: while it waits Grace for late messages, a dialog that
// was handed on is frozen, its state encoded in one pointer-free byte
// slice (about 450 bytes for a SIPp call instead of about 2.3 KB open, and
// nothing for the garbage collector to scan); a late message, event or
// link thaws it exactly. The summaries remembered after Grace
// (Options.Remember) are the front of that encoding, bounded by
// Options.MaxRemembered and Options.MaxRememberedBytes. At a steady call
// rate R the memory is about R x (call length + Grace) x 0.6 KB plus the
// dialogs in progress.
//
// Example:
//
//	c := correlate.New(correlate.Options{}, correlate.SinkFunc(
//		func(d *correlate.Dialog, msgs []*correlate.Message) error {
//			fmt.Println(d.CallID, d.Kind, d.State, d.FinalStatus, len(msgs))
//			return nil
//		}))
//	for _, m := range messages { // *decode.Message values that own their memory
//		if err := c.Add(m); err != nil {
//			return err
//		}
//	}
//	return c.Flush()
//
// A Correlator is not safe for concurrent use.
package correlate
