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
	StatePending    State = "pending"     // other kinds: no final response yet
)

// Message is a decoded message as the correlator saw it: its place in the
// capture, its dialog and transaction, and whether it was a retransmission.
type Message struct {
	*decode.Message
	Seq            int64  // 0-based position in capture order across all inputs
	CallID         string // dialog key (same as Message.CallID)
	Txn            int    // index into Dialog.Transactions, -1 when none matched
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
	// Legs names distinct To tags seen in responses (forked early dialogs).
	Legs []string
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
	Start, End      time.Time
	// Timings; negative when they do not apply.
	SetupTime    time.Duration // INVITE to first 18x (post-dial delay)
	AnswerTime   time.Duration // INVITE to 2xx
	Duration     time.Duration // answer to BYE
	Q850Cause    int           // from a Reason: Q.850;cause=N header, 0 when none
	UserAgent    string
	Linked       []string // other Call-IDs this dialog is linked to
	Transactions []Transaction
	// Legs are the distinct To tags seen on responses to the opening request.
	Legs []string
}
