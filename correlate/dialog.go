package correlate

import (
	"encoding/binary"
	"hash/maphash"
	"net/netip"
	"strings"
	"time"
	"unsafe"

	"github.com/sipscope/sipscope/decode"
)

// dialog is an open dialog: its summary so far, its messages and the state
// the summary is computed from.
type dialog struct {
	d      Dialog
	relID  string // a copy of d.CallID for the release heap (releaseItem)
	msgs   []*Message
	tx     []txnState // parallel to d.Transactions
	f      facts
	arena  []byte
	txBase int // Transaction.Index of d.Transactions[0]
	// snap is what the early record counted (see early).
	snap snapshot
	hidx int32 // index in the expiry heap
	// summary is set in Options.Summaries mode: messages are not kept.
	// copies (Summaries, Early or Keep) says every string the dialog keeps is
	// copied into arena first. early says a copy of the summary was
	// handed on when the dialog ended (Options.Early).
	summary, copies, early bool
	// released says its messages so far went to Options.Release.
	released bool
	// born is its mark in Correlator.born until its first hand-off.
	born *bornMark
}

// snapshot is what an early record counted, to tell whether the dialog
// changed after it.
type snapshot struct {
	messages, events, linked, txns int32
}

func newSnapshot(d *Dialog) snapshot {
	return snapshot{messages: int32(d.Messages), events: int32(d.Events), linked: int32(len(d.Linked)),
		txns: int32(len(d.Transactions))}
}

// facts are what the state of a dialog is derived from.
type facts struct {
	opener      string    // method of the request that opened the dialog
	callerTag   string    // From tag of the opening request
	haveRequest bool      // From/To were taken from a request
	uaCaller    bool      // UserAgent came from a caller-side request
	opened      bool      // the opening transaction was seen (request or response)
	attemptAt   time.Time // first request of the current opening attempt (zero when only its responses were seen)
	attemptCSeq uint32    // CSeq of the current opening attempt
	attemptResp bool      // the current attempt got a response
	final       int       // final status of the current attempt, 0 when none
	ringAt      time.Time // first 18x to the current attempt
	ringing     bool
	answered    bool
	answerAt    time.Time
	bye         bool // a BYE was sent
	byeAt       time.Time
	cancelled   bool // a CANCEL for an opening INVITE before its final response
	ended       bool // the dialog is over; it is handed on after Grace
	// midDialog says the capture joined the dialog in the middle: every
	// message so far belongs inside a dialog created before (see
	// inDialogOnly), and opener is still "".
	midDialog bool
	subState  uint8 // Subscription-State of the last NOTIFY (subActive...), 0 when none
}

// Subscription states (RFC 6665 §4.1.3), as facts.subState.
const (
	subActive = 1 + iota
	subPending
	subTerminated
)

// txnState is what the correlator keeps about a transaction besides its
// exported summary.
type txnState struct {
	key txnKey
	// seen holds a hash of each distinct (direction, start line) seen, for
	// retransmissions: 8 bytes instead of a seenKey with four strings, and
	// nothing that keeps message bytes alive. Two different start lines
	// in one transaction collide with probability 2^-64.
	seen []uint64
	// requests says which requests the transaction saw, for Event in
	// Summaries mode: reqOwn (its own method), reqACK (an ACK joining an
	// INVITE transaction, RFC 3261 §17.1.1.3).
	requests uint8
}

const (
	reqOwn = 1 << iota
	reqACK
)

// txnKey identifies a transaction. With an RFC 3261 branch (magic cookie
// "z9hG4bK") it is branch + sent-by + CSeq method (§17.1.3, §17.2.3);
// otherwise the RFC 2543 fallback also uses the CSeq number and From tag
// (§17.2.3: Request-URI, To tag, From tag, Call-ID, CSeq, top Via; the
// Request-URI and To tag are left out because responses carry no
// Request-URI and add the To tag).
type txnKey struct {
	branch  string
	sentBy  string
	method  string
	cseq    uint32
	fromTag string
	rfc2543 bool
}

// seenKey is one message's direction and start line within a transaction.
type seenKey struct {
	src, dst netip.AddrPort
	method   string
	uri      string
	status   int
	toTag    string
	rseq     string
}

// hash returns a 64-bit hash of k (maphash, with the correlator's seed).
func (k *seenKey) hash(seed maphash.Seed) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	var b [2*18 + 8]byte
	out, _ := k.src.AppendBinary(b[:0]) // address bytes, zone and port

	out, _ = k.dst.AppendBinary(out)
	out = binary.LittleEndian.AppendUint64(out, uint64(k.status))
	h.Write(out)
	for _, s := range [...]string{k.method, k.uri, k.toTag, k.rseq} {
		// Length-prefixed so that ("ab","c") and ("a","bc") differ.
		var l [4]byte
		binary.LittleEndian.PutUint32(l[:], uint32(len(s)))
		h.Write(l[:])
		h.WriteString(s)
	}
	return h.Sum64()
}

const magicCookie = "z9hG4bK" // RFC 3261 §8.1.1.7

func newDialog(c *Correlator, callID string, t *tomb) *dialog {
	// A typical call has 7 to 10 messages in 3 transactions (INVITE,
	// ACK, BYE): size for that to avoid regrowing, and no more, since
	// every open dialog pays for it.
	d := &dialog{hidx: -1, tx: make([]txnState, 0, 3), summary: c.opts.Summaries,
		// With Early the messages leave before the dialog does: its
		// strings must not keep their buffers alive for Grace. With
		// Summaries or Keep they are the decoder's.
		copies: c.copies()}
	if !d.summary {
		d.msgs = make([]*Message, 0, 8)
	}
	d.d.CallID = d.keep(callID)
	d.d.SetupTime, d.d.AnswerTime, d.d.Duration = -1, -1, -1
	if t != nil {
		c.restore(t, d)
	}
	d.d.Transactions = make([]Transaction, 0, 3)
	return d
}

// deadline is the capture time after which d is handed on.
func (d *dialog) deadline(o Options) time.Time {
	if d.f.ended {
		return d.d.End.Add(o.Grace)
	}
	return d.d.End.Add(o.Idle)
}

// releasable says d's messages are due to Options.Release (at
// Correlator.releaseAt): a BYE was sent and is unanswered. RFC 3261 §15.1.1
// has the UAC consider the session over when it sends the BYE, and the
// dialog too when no response comes before the BYE's Timer F (64*T1,
// §17.1.2.2). Nothing but strays follows, yet the dialog waits Idle.
func (d *dialog) releasable(o Options) bool {
	return o.Release != nil && !d.summary && d.f.bye && !d.f.ended && !d.released
}

// kindOf maps the method of a dialog's first request to its kind.
func kindOf(method string) Kind {
	switch strings.ToUpper(method) {
	case "INVITE", "ACK", "BYE", "CANCEL", "PRACK", "UPDATE", "INFO":
		// Only INVITE creates these; seeing one first means the capture
		// began inside a call (RFC 3262, 3311, 6086).
		return KindCall
	case "REGISTER":
		return KindRegistration
	case "SUBSCRIBE", "NOTIFY":
		return KindSubscription
	case "MESSAGE":
		return KindMessage
	case "OPTIONS":
		return KindOptions
	case "PUBLISH":
		return KindPublish
	case "REFER":
		return KindRefer
	}
	return KindOther
}

// inDialogOnly reports whether m belongs inside an INVITE dialog that
// some earlier request created (RFC 3261 §12.2): a request of a call with
// a To tag (BYE, ACK, PRACK, UPDATE, INFO, a re-INVITE), or a response to
// one of the methods only such a dialog carries.
func inDialogOnly(m *Message, method string) bool {
	if kindOf(method) != KindCall || method == "CANCEL" {
		return false
	}
	if m.Request {
		return m.To.Tag != ""
	}
	return method != "INVITE"
}

// subscriptionState reads the state of a NOTIFY's Subscription-State
// header (RFC 6665 §8.2.3, §4.1.3): subActive, subPending, subTerminated,
// or 0 when the header is missing or says something else.
func subscriptionState(m *Message) uint8 {
	for _, h := range m.Headers {
		if !strings.EqualFold(h.Name, "Subscription-State") {
			continue
		}
		v, _, _ := strings.Cut(h.Value, ";")
		switch v = strings.TrimSpace(v); {
		case strings.EqualFold(v, "active"):
			return subActive
		case strings.EqualFold(v, "pending"):
			return subPending
		case strings.EqualFold(v, "terminated"):
			return subTerminated
		}
	}
	return 0
}

// add takes the next message of the dialog.
func (d *dialog) add(c *Correlator, m *Message) {
	dd := &d.d
	f := &d.f
	first := len(d.msgs) == 0 && dd.Messages == 0
	if !d.summary {
		d.msgs = append(d.msgs, m)
	}
	dd.Messages++
	if first {
		dd.Src, dd.Dst, dd.Transport = m.Src, m.Dst, keepTransport(m.Transport)
		dd.Start = m.Time
		dd.From, dd.To = d.keepNameAddr(m.From.Parse()), d.keepNameAddr(m.To.Parse())
	}
	if dd.End.IsZero() || m.Time.After(dd.End) {
		dd.End = m.Time
	}
	if dd.Start.IsZero() || m.Time.Before(dd.Start) {
		dd.Start = m.Time
	}
	method := m.CSeqMethod
	if m.Request && m.Method != "" {
		method = m.Method
	}
	method = d.keepMethod(strings.ToUpper(method))
	if f.opener == "" && method != "" && !m.Duplicate {
		if inDialogOnly(m, method) {
			// The capture joined a call in the middle (a BYE and its
			// 200, an UPDATE...): no request that opened it, so nothing
			// to take a final status or a state from.
			f.midDialog = true
			dd.Kind = KindCall
		} else {
			if f.midDialog {
				f.midDialog, f.bye, f.byeAt = false, false, time.Time{}
			}
			f.opener = method
			dd.Kind = kindOf(method)
		}
	}
	if m.Request && !f.haveRequest {
		f.haveRequest = true
		if !first { // the first message's were kept above
			dd.From, dd.To = d.keepNameAddr(m.From.Parse()), d.keepNameAddr(m.To.Parse())
		}
		f.callerTag = dd.From.Tag
	}
	m.Leg = d.leg(m)

	ti, retrans, isNew := d.match(m, method, c.seed)
	m.Txn = d.txBase + ti
	tr := &dd.Transactions[ti]
	tr.Messages++
	if m.Time.Before(tr.Start) || tr.Start.IsZero() {
		tr.Start = m.Time
	}
	if m.Time.After(tr.End) {
		tr.End = m.Time
	}
	c.headerLinks(d, m)
	if m.Duplicate {
		// A second capture of the same datagram (decode.Message.Duplicate):
		// the message was already counted, and it is no resend.
		m.Retransmission = false
		dd.Duplicates++
		return
	}
	if retrans {
		m.Retransmission = true
		tr.Retransmissions++
		dd.Retransmissions++
		return
	}
	if m.Request {
		d.request(m, method, ti, isNew)
	} else {
		d.response(m, ti)
	}
}

// leg returns the tag of the remote side of an early or confirmed dialog
// the message belongs to: the tag that is not the caller's.
func (d *dialog) leg(m *Message) string {
	caller := d.f.callerTag
	switch t := m.To.Tag; {
	case t == "":
		return "" // a request outside any dialog, or a 100 Trying
	case t != caller:
		return t
	case m.From.Tag != caller:
		return m.From.Tag // an in-dialog request from the callee
	}
	return ""
}

// match finds or creates the transaction of m and tells whether m repeats
// a message already seen in it (same direction and start line).
func (d *dialog) match(m *Message, method string, seed maphash.Seed) (ti int, retrans, isNew bool) {
	var k txnKey
	if len(m.Via) > 0 {
		k.branch, k.sentBy = m.Via[0].Branch, m.Via[0].SentBy
	}
	k.method = method
	if !strings.HasPrefix(k.branch, magicCookie) {
		k.rfc2543 = true
		k.cseq = m.CSeq
		k.fromTag = m.From.Tag
	}
	ti = -1
	switch {
	case method == "ACK":
		// RFC 3261 §17.1.1.3: the ACK for a non-2xx final response is part
		// of the INVITE transaction (same branch); the ACK for a 2xx is a
		// transaction of its own (§13.2.2.4, new branch).
		inv := k
		inv.method = "INVITE"
		if i := d.findInvite(inv); i >= 0 {
			st := d.d.Transactions[i].FinalStatus
			if !k.rfc2543 || st == 0 || st >= 300 {
				ti = i
			}
		}
	}
	if ti < 0 {
		ti = d.find(k)
	}
	if ti < 0 {
		isNew = true
		k.branch, k.fromTag = d.keep(k.branch), d.keep(k.fromTag)
		if n := len(d.tx); n > 0 && d.tx[n-1].key.sentBy == k.sentBy {
			k.sentBy = d.tx[n-1].key.sentBy // usually the same for every transaction
		} else {
			k.sentBy = d.keep(k.sentBy)
		}
		ti = len(d.d.Transactions)
		tr := Transaction{
			Index:   d.txBase + ti,
			Branch:  k.branch,
			Method:  method,
			CSeq:    m.CSeq,
			Start:   m.Time,
			End:     m.Time,
			Cancels: -1,
		}
		if method == "CANCEL" {
			// RFC 3261 §9.1: a CANCEL carries the branch of the request it
			// cancels.
			inv := k
			inv.method = "INVITE"
			if i := d.findInvite(inv); i >= 0 {
				tr.Cancels = d.txBase + i
			}
		}
		d.d.Transactions = append(d.d.Transactions, tr)
		d.tx = append(d.tx, txnState{key: k, seen: make([]uint64, 0, 4)})
	}
	s := seenKey{
		src:    m.Src,
		dst:    m.Dst,
		status: m.Status,
	}
	if m.Request {
		s.method, s.uri = m.Method, m.RequestURI
	} else {
		s.toTag = m.To.Tag
		if m.Status < 200 {
			s.rseq = header(m.Message, "RSeq") // RFC 3262 §7.1: reliable 1xx differ by RSeq
		}
	}
	ts := &d.tx[ti]
	if m.Request {
		if method == "ACK" && ts.key.method == "INVITE" {
			ts.requests |= reqACK
		} else {
			ts.requests |= reqOwn
		}
	}
	h := s.hash(seed)
	for _, o := range ts.seen {
		if o == h {
			return ti, true, isNew
		}
	}
	ts.seen = append(ts.seen, h)
	return ti, false, isNew
}

// find returns the transaction with key k, latest first, or -1.
func (d *dialog) find(k txnKey) int {
	for i := len(d.tx) - 1; i >= 0; i-- {
		if d.tx[i].key == k {
			return i
		}
	}
	return -1
}

// findInvite finds the INVITE transaction an ACK or CANCEL with key k
// (method INVITE) belongs to. With an RFC 3261 branch the branch alone
// decides (it is unique, §8.1.1.7): some phones write the sent-by of a
// CANCEL without the port they put in the INVITE's.
func (d *dialog) findInvite(k txnKey) int {
	if k.rfc2543 {
		return d.find(k)
	}
	for i := len(d.tx) - 1; i >= 0; i-- {
		if o := d.tx[i].key; o.branch == k.branch && o.method == "INVITE" && !o.rfc2543 {
			return i
		}
	}
	return -1
}

// request updates the facts with a request that is not a retransmission.
func (d *dialog) request(m *Message, method string, ti int, isNew bool) {
	f := &d.f
	dd := &d.d
	tr := &dd.Transactions[ti]
	if m.UserAgent != "" && !f.uaCaller && (m.From.Tag == f.callerTag || f.callerTag == "") {
		dd.UserAgent, f.uaCaller = d.keep(m.UserAgent), true
	}
	d.q850(m)
	if !isNew {
		return // an ACK joining its INVITE transaction
	}
	if method == "NOTIFY" {
		if st := subscriptionState(m); st != 0 {
			f.subState = st
			// A terminated subscription is over (RFC 6665 §4.1.3); an
			// active one goes on until its NOTIFY says otherwise.
			f.ended = st == subTerminated
		}
	}
	if method == "BYE" && !f.bye {
		f.bye, f.byeAt = true, m.Time
	}
	switch {
	case method == f.opener && f.opened && m.CSeq == f.attemptCSeq && (m.To.Tag == "" || method == "REGISTER"):
		// The opening request again in a new transaction with the same
		// CSeq: the same request on the next hop of a proxy (which puts
		// its own Via on top). Its responses count for the dialog.
		tr.Opening = true
	case method == f.opener && (!f.opened || m.To.Tag == "" || method == "REGISTER"):
		// The opening request, or a retry of it: a new request of the
		// same method outside any dialog, with a new CSeq (RFC 3261 §22.2:
		// after a 401/407 challenge, or after a failure), or any REGISTER
		// (§10.2.4: refreshes reuse the Call-ID). It counts as the same
		// request for final_status.
		tr.Opening = true
		f.attemptCSeq = m.CSeq
		f.opened = true
		f.attemptAt = m.Time
		f.attemptResp = false
		f.final = 0
		f.ringing = false
		f.cancelled = false
		f.ended = false
	case method == "CANCEL":
		if i := tr.Cancels - d.txBase; i >= 0 && i < len(dd.Transactions) && dd.Transactions[i].Opening && dd.Transactions[i].FinalStatus == 0 {
			f.cancelled = true
		}
	}
}

// response updates the facts with a response that is not a retransmission.
func (d *dialog) response(m *Message, ti int) {
	f := &d.f
	dd := &d.d
	tr := &dd.Transactions[ti]
	st := m.Status
	d.q850(m)
	reason := m.Reason
	if m.To.Tag != "" && (st > 100 && st < 300) {
		if !contains(tr.Legs, m.To.Tag) || (tr.Opening && !contains(dd.Legs, m.To.Tag)) {
			tag := d.keep(m.To.Tag)
			tr.Legs = addUnique(tr.Legs, tag)
			if tr.Opening {
				dd.Legs = addUnique(dd.Legs, tag)
			}
		}
	}
	if st >= 200 {
		reason = d.keep(reason)
		tr.FinalStatus, tr.FinalReason = st, reason
	}
	if tr.Method == "BYE" && st >= 200 {
		f.ended = true // RFC 3261 §15.1.2: the session ends whatever the BYE's final
	}
	if !tr.Opening && !f.opened && tr.Method == f.opener {
		// The capture began after the opening request: its response
		// stands for it.
		tr.Opening, f.opened = true, true
	}
	if !tr.Opening {
		if f.opener == "CANCEL" && tr.Method == "INVITE" && st >= 200 {
			// First seen at its CANCEL: the call's outcome is the
			// INVITE's final (487, or a 2xx that crossed the CANCEL,
			// RFC 3261 §9.2), not the 200 to the CANCEL.
			dd.FinalStatus, dd.FinalReason = st, reason
			f.final = st
		}
		return
	}
	f.attemptResp = true
	switch {
	case st < 200:
		if st >= 180 && st < 190 && !f.ringing {
			f.ringing, f.ringAt = true, m.Time
		}
	case st < 300:
		dd.FinalStatus, dd.FinalReason = st, reason
		f.final = st
		if tr.Method == "INVITE" {
			// The call goes on until BYE.
			if !f.answered {
				f.answered, f.answerAt = true, m.Time
			}
		} else if d.d.Kind != KindCall && (d.d.Kind != KindSubscription || f.subState == subTerminated) {
			// A call seen from the middle (UPDATE, INFO, PRACK first)
			// goes on until BYE; a subscription until its NOTIFY says
			// terminated.
			f.ended = true
		}
	case f.answered && tr.Method == "INVITE":
		// A failure on another branch or hop after the call was answered
		// (a forking proxy cancels the other branches, RFC 3261 §16.7
		// step 10) does not undo the answer.
	default:
		dd.FinalStatus, dd.FinalReason = st, reason
		f.final = st
		// A 401/407 challenge (RFC 3261 §22.2, §22.3) is usually followed
		// by the same request with credentials: wait Idle, not Grace.
		f.ended = st != 401 && st != 407 && (d.d.Kind != KindCall || tr.Method == "INVITE")
	}
}

// q850 takes the Q.850 cause from Reason headers (RFC 3326).
func (d *dialog) q850(m *Message) {
	for _, h := range m.Headers {
		if !strings.EqualFold(h.Name, "Reason") {
			continue
		}
		if n := q850Cause(h.Value); n > 0 {
			d.d.Q850Cause = n
		}
	}
}

// q850Cause reads `Q.850;cause=16;text="..."` out of a Reason value that
// may list several protocols; 0 when there is no Q.850 cause.
func q850Cause(v string) int {
	for v != "" {
		var item string
		item, v, _ = strings.Cut(v, ",")
		proto, params, _ := strings.Cut(item, ";")
		if !strings.EqualFold(strings.TrimSpace(proto), "Q.850") {
			continue
		}
		for params != "" {
			var p string
			p, params, _ = strings.Cut(params, ";")
			name, val, _ := strings.Cut(p, "=")
			if !strings.EqualFold(strings.TrimSpace(name), "cause") {
				continue
			}
			val = strings.TrimSpace(val)
			n := 0
			for i := 0; i < len(val) && i < 4; i++ {
				if val[i] < '0' || val[i] > '9' {
					return n
				}
				n = n*10 + int(val[i]-'0')
			}
			return n
		}
	}
	return 0
}

// header returns the first value of the named header (case-insensitive).
func header(m *decode.Message, name string) string {
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

func addUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// state derives the dialog state from the facts. final tells whether the
// dialog is being handed on (no-response is decided then).
func (d *dialog) state(final bool) State {
	f := &d.f
	if f.midDialog {
		return StateMidDialog
	}
	if d.d.Kind == KindSubscription && f.final < 300 {
		switch f.subState {
		case subActive:
			return StateActive
		case subPending:
			return StatePending
		case subTerminated:
			return StateTerminated
		}
	}
	if d.d.Kind != KindCall {
		switch {
		case f.final >= 200 && f.final < 300:
			return StateCompleted
		case f.final >= 300:
			return StateRejected
		case f.attemptResp || !final || !f.opened:
			return StatePending
		}
		return StateNoResponse
	}
	if f.opener != "INVITE" {
		// The capture began inside the call.
		if f.bye {
			return StateCompleted
		}
		if f.opener == "CANCEL" && !d.inviteAnswered() {
			// It began with the caller giving up on an INVITE it did
			// not see (RFC 3261 §9): nothing says the call was ever up.
			return StateCancelled
		}
		return StateInCall
	}
	if f.answered {
		// A 2xx wins over a CANCEL that crossed it (RFC 3261 §9.2).
		if f.bye {
			return StateCompleted
		}
		return StateInCall
	}
	switch st := f.final; {
	case st >= 300 && (f.cancelled || st == 487):
		return StateCancelled
	case st == 486 || st == 600:
		return StateBusy
	case st >= 300 && st < 400:
		return StateRedirected
	case st >= 400:
		return StateRejected
	}
	switch {
	case f.cancelled, f.bye:
		// A BYE on an unanswered call ends its early dialog (RFC 3261
		// §15): the caller gave up.
		return StateCancelled
	case f.ringing:
		return StateRinging
	case f.attemptResp || !final:
		return StateSetup
	}
	return StateNoResponse
}

// inviteAnswered says whether any INVITE transaction the dialog still
// holds got a 2xx, opening or not (a dialog first seen at its CANCEL has
// no opening INVITE).
func (d *dialog) inviteAnswered() bool {
	for _, t := range d.d.Transactions {
		if t.Method == "INVITE" && t.FinalStatus >= 200 && t.FinalStatus < 300 {
			return true
		}
	}
	return false
}

// finish computes the summary fields derived from the facts.
func (d *dialog) finish() { d.finishInto(&d.d) }

// finishInto computes the summary fields derived from the facts into dd,
// a copy of d.d or d.d itself.
func (d *dialog) finishInto(dd *Dialog) {
	f := &d.f
	dd.State = d.state(true)
	if dd.Kind != KindCall || f.attemptAt.IsZero() {
		return
	}
	if f.ringing {
		dd.SetupTime = f.ringAt.Sub(f.attemptAt)
	}
	if f.answered {
		dd.AnswerTime = f.answerAt.Sub(f.attemptAt)
		if f.bye && !f.byeAt.Before(f.answerAt) {
			dd.Duration = f.byeAt.Sub(f.answerAt)
		}
	}
}

// arenaChunk is the size of the blocks a summary-mode dialog copies its
// strings into: about what one call's summary keeps.
const arenaChunk = 256

// keep returns s as the dialog may keep it. In Summaries mode s may alias
// decoder buffers, and with Early the message it came from may leave
// before the dialog, so it is copied into the dialog's arena (one
// allocation for many small strings; the bytes already handed out are
// never written again). Otherwise the message s came from is kept with the
// dialog and s is returned as it is.
func (d *dialog) keep(s string) string {
	if !d.copies || s == "" {
		return s
	}
	if len(s) > arenaChunk/4 {
		return strings.Clone(s)
	}
	if cap(d.arena)-len(d.arena) < len(s) {
		d.arena = make([]byte, 0, arenaChunk)
	}
	n := len(d.arena)
	d.arena = append(d.arena, s...)
	return unsafe.String(&d.arena[n], len(s))
}

// keepMethod is keep for a method name: the common ones (RFC 3261 §27.4
// and the extensions) are shared constants, so they cost nothing to keep.
func (d *dialog) keepMethod(s string) string {
	switch s {
	case "INVITE":
		return "INVITE"
	case "ACK":
		return "ACK"
	case "BYE":
		return "BYE"
	case "CANCEL":
		return "CANCEL"
	case "REGISTER":
		return "REGISTER"
	case "OPTIONS":
		return "OPTIONS"
	case "PRACK":
		return "PRACK"
	case "UPDATE":
		return "UPDATE"
	case "INFO":
		return "INFO"
	case "SUBSCRIBE":
		return "SUBSCRIBE"
	case "NOTIFY":
		return "NOTIFY"
	case "MESSAGE":
		return "MESSAGE"
	case "REFER":
		return "REFER"
	case "PUBLISH":
		return "PUBLISH"
	}
	return d.keep(s)
}

// keepNameAddr is keep for each string of a From or To value.
func (d *dialog) keepNameAddr(n decode.NameAddr) decode.NameAddr {
	if !d.copies {
		return n
	}
	uri := d.keep(n.URI)
	return decode.NameAddr{Display: d.keep(n.Display), URI: uri, User: d.keepIn(uri, n.User),
		Host: d.keepIn(uri, n.Host), Tag: d.keep(n.Tag)}
}

// keepIn is keep for s, which is usually part of in (the user and host of
// a URI): then it is the same bytes of in, copied already.
func (d *dialog) keepIn(in, s string) string {
	if i := strings.Index(in, s); i >= 0 && s != "" {
		return in[i : i+len(s)]
	}
	return d.keep(s)
}

// keepTransport returns the decode constant for t, so that nothing keeps
// decoder buffers alive.
func keepTransport(t decode.Transport) decode.Transport {
	for _, k := range []decode.Transport{decode.UDP, decode.TCP, decode.TLS, decode.WS, decode.WSS, decode.SCTP} {
		if t == k {
			return k
		}
	}
	return decode.Transport(strings.Clone(string(t)))
}

// requestSeen reports whether the dialog saw a request with this CSeq
// number (any when 0) and method (any when ""), for Event in Summaries
// mode, where the messages are not kept: the latest transaction first.
func (d *dialog) requestSeen(cseq uint32, method string) bool {
	for i := len(d.tx) - 1; i >= 0; i-- {
		if cseq != 0 && d.d.Transactions[i].CSeq != cseq {
			continue
		}
		r := d.tx[i].requests
		switch {
		case r == 0:
		case method == "":
			return true
		case r&reqOwn != 0 && strings.EqualFold(method, d.tx[i].key.method):
			return true
		case r&reqACK != 0 && strings.EqualFold(method, "ACK"):
			return true
		}
	}
	return false
}
