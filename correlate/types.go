package correlate

import (
	"net/netip"
	"time"

	"github.com/sipscope/sipscope/decode"
)

// Kind is what a dialog is for, from the request that opened it.
type Kind string

// Kinds.
const (
	KindCall         Kind = "call"         // INVITE
	KindRegistration Kind = "registration" // REGISTER
	KindSubscription Kind = "subscription" // SUBSCRIBE/NOTIFY (also NOTIFY alone)
	KindMessage      Kind = "message"      // MESSAGE
	KindOptions      Kind = "options"      // OPTIONS
	KindPublish      Kind = "publish"      // PUBLISH
	KindRefer        Kind = "refer"        // REFER outside a call
	KindOther        Kind = "other"
)

// State is where a dialog got to.
type State string

// States of calls.
const (
	StateSetup      State = "setup"       // INVITE sent, no answer yet
	StateRinging    State = "ringing"     // 18x seen
	StateInCall     State = "in-call"     // answered, not ended
	StateCompleted  State = "completed"   // ended by BYE after an answer; for other kinds: final 2xx
	StateCancelled  State = "cancelled"   // CANCEL or 487
	StateBusy       State = "busy"        // 486, 600
	StateRejected   State = "rejected"    // any other final 4xx-6xx (not a 401/407 challenge that was retried)
	StateRedirected State = "redirected"  // 3xx
	StateNoResponse State = "no-response" // the opening request never got any response
	StatePending    State = "pending"     // other kinds: no final response yet; subscriptions: NOTIFY said pending
	// StateMidDialog: the capture joined a call in the middle (only BYE
	// and its 200, or other in-dialog requests): there is no opening
	// request, so no final status.
	StateMidDialog State = "mid-dialog"
)

// States of subscriptions (RFC 6665 §4.1.3), from the Subscription-State
// of the last NOTIFY.
const (
	StateActive     State = "active"     // NOTIFY said active
	StateTerminated State = "terminated" // NOTIFY said terminated
)

// Message is a decoded message as the correlator saw it: its place in the
// capture, its dialog and transaction, and whether it was a retransmission.
type Message struct {
	*decode.Message
	Seq    int64  // 0-based position in capture order across all inputs
	CallID string // dialog key (same as Message.CallID)
	// Txn is the message's transaction: Transaction.Index, which is its
	// position in Dialog.Transactions on the first part of a dialog (Part
	// 0) and continues counting on later parts (see Dialog.Part); -1 when
	// none matched.
	Txn            int
	Retransmission bool
	// Leg is the To tag of the early dialog the message belongs to, when a
	// request forked ("" for messages before any tag was seen).
	Leg string
}

// Transaction is one SIP transaction (RFC 3261 §17): a request, its
// retransmissions and responses, plus ACK for a non-2xx final and CANCEL
// matched to its INVITE.
type Transaction struct {
	Index           int
	Branch          string // top Via branch ("" for RFC 2543 peers)
	Method          string // CSeq method of the request
	CSeq            uint32
	Start, End      time.Time
	FinalStatus     int // 0 when no final response was seen
	FinalReason     string
	Messages        int // messages on the wire, retransmissions included
	Retransmissions int
	// Legs names distinct To tags seen in dialog-creating responses (1xx
	// with a tag and 2xx, RFC 3261 §12.1): more than one means the request
	// forked.
	Legs []string
	// Cancels is, on a CANCEL transaction, the Index of the INVITE
	// transaction it cancels (same top Via branch, RFC 3261 §9.2); -1
	// otherwise or when that INVITE was not seen.
	Cancels int
	// Opening reports whether the request opened the dialog: the first
	// request, or a retry of it (a new INVITE, SUBSCRIBE... without To tag
	// after a failure or a 401/407 challenge, any REGISTER).
	Opening bool
}

// Dialog is every message sharing one Call-ID, summarised.
type Dialog struct {
	CallID          string
	Kind            Kind
	State           State
	FinalStatus     int // last final response to the opening request (see issue #3), 0 when none
	FinalReason     string
	From, To        decode.NameAddr
	Src, Dst        netip.AddrPort // of the first message
	Transport       decode.Transport
	Messages        int
	Retransmissions int
	// Duplicates counts messages whose frame was a second copy of one just
	// captured (decode.Message.Duplicate); they are in Messages but never
	// in Retransmissions.
	Duplicates int
	Start, End time.Time
	// Timings; negative when they do not apply.
	SetupTime    time.Duration // INVITE to first 18x (post-dial delay)
	AnswerTime   time.Duration // INVITE to 2xx
	Duration     time.Duration // answer to BYE
	Q850Cause    int           // from a Reason: Q.850;cause=N header, 0 when none
	UserAgent    string
	Linked       []string // other Call-IDs this dialog is linked to
	Transactions []Transaction
	// Legs are the distinct To tags seen on dialog-creating responses
	// (1xx with a tag, 2xx) to the opening request: several when it forked.
	Legs []string
	// Events counts ICMP errors and similar attached to the dialog's
	// requests (see Correlator.Event and decode.Message.Events).
	Events int
	// Diagnosis is what the rules of Diagnose found, in brief, when the
	// consumer of the dialog ran them (the correlator never does: Done is
	// false until then).
	Diagnosis Diagnosis
	// Part numbers the records of one Call-ID: 0 for the first. A message
	// that arrives after its dialog was handed on starts a new record, a
	// continuation, with Part one higher. A continuation's summary fields
	// (Kind, State, FinalStatus, FinalReason, From, To, Src, Dst,
	// Transport, Start, timings, Q850Cause, UserAgent, Linked, Legs,
	// Messages, Retransmissions, Events) describe the whole dialog so far,
	// cumulative over all parts, as long as the correlator still remembered
	// the earlier part (Options.Remember); End, Transactions and the
	// messages handed with it cover this part only. A store keeps one row
	// per Call-ID, replaces its summary with the later part's, and appends
	// the transactions and messages.
	Part int
}

// FromUser is the user part of the From URI (JSON from_user).
func (d *Dialog) FromUser() string { return d.From.User }

// ToUser is the user part of the To URI (JSON to_user).
func (d *Dialog) ToUser() string { return d.To.User }

// Ms returns a timing in milliseconds for setup_ms, answer_ms and
// duration_ms, or -1 when it does not apply (t < 0).
func Ms(t time.Duration) int64 {
	if t < 0 {
		return -1
	}
	return t.Milliseconds()
}

// MsFrac returns a timing in milliseconds with its fraction (0.179 for
// 179µs), or -1 when it does not apply (t < 0): setup_ms, answer_ms and
// duration_ms keep the precision a capture's microsecond stamps give.
func MsFrac(t time.Duration) float64 {
	if t < 0 {
		return -1
	}
	return float64(t.Microseconds()) / 1e3
}
