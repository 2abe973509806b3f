package correlate

import (
	"container/heap"
	"hash/maphash"
	"slices"
	"strings"
	"time"

	"github.com/sipscope/sipscope/decode"
)

// Options configure correlation. Zero values mean defaults.
type Options struct {
	// Grace is the capture time a dialog is kept after it ends (final
	// response, BYE answered) before it is handed on; later messages would
	// reopen it as a continuation. Default 32s (RFC 3261 Timer B/F). Each
	// message of an ended dialog restarts it, so the retransmissions that
	// follow an end stay with their dialog.
	Grace time.Duration
	// Idle hands on a dialog that has seen nothing for this long in capture
	// time, ended or not. Default 5m. A 401/407 challenge to the opening
	// request does not end a dialog: it waits up to Idle for the retry.
	Idle time.Duration
	// LinkHeaders name headers that carry another leg's Call-ID. Default
	// X-Call-ID, X-CID.
	LinkHeaders []string
	// LinkSuffixes are B2BUA Call-ID suffixes: a Call-ID equal to another
	// plus one of them is linked to it. Default "_b2b-1", "-b2b_1". Set to
	// a slice with one empty string to turn suffix links off.
	LinkSuffixes []string
	// Remember is the capture time the correlator keeps a small summary of
	// a dialog it handed on, so that a later message with the same Call-ID
	// continues it (Dialog.Part) with its kind, state and timings. Default
	// 1h.
	Remember time.Duration
	// MaxRemembered bounds the number of remembered summaries (the oldest
	// are forgotten first). Default 32768.
	MaxRemembered int
	// MaxRememberedBytes bounds the memory of the remembered summaries (the
	// oldest are forgotten first), about 150 to 300 bytes each for a call
	// from a SIPp peer. Default 4 MiB.
	MaxRememberedBytes int
	// MaxDialogs bounds the dialogs in progress (open, or frozen in Grace)
	// at once. Default 50000. When a new Call-ID would exceed it, the
	// dialog due to be handed on first is handed on at once (counted in
	// Stats.DialogsLimited): a flood of Call-IDs that never end cannot
	// grow memory without bound, and nothing seen is lost.
	MaxDialogs int
	// Summaries makes the correlator keep no messages: Add may be given a
	// message that aliases decoder buffers (valid only during the call, as
	// a decode.Handler gets it), the few strings a summary needs are
	// copied, and the Sink gets each Dialog with nil msgs. The dialogs are
	// the same as without it; events attached by Event are only counted
	// (Dialog.Events). It is for listing calls: memory per open dialog is
	// its summary, not its messages.
	Summaries bool
	// Early hands a dialog on as soon as it ends instead of after Grace,
	// with the messages so far (none with Summaries), so that a consumer
	// can store it while the capture is still being read and the messages
	// are not held for Grace. The dialog is still kept, without its
	// messages, for Grace: when a later message or link changes it, a
	// continuation (Part one higher) with the whole summary so far and the
	// later messages follows when it is finally handed on, which a store
	// merges (see Dialog.Part). The continuation's Transactions are those
	// begun after the early record; the counts of earlier transactions
	// that a late retransmission changes are in the Dialog summary only.
	// The last record of each Call-ID equals the one record made without
	// Early, but for Part and Transactions. An Event quoting a request
	// already handed on is counted unmatched.
	Early bool
	// Keep, when set (and Summaries is not), makes the copy of each
	// message the correlator keeps: Add may then be given a message that
	// aliases decoder buffers, reads what it needs from it, and keeps
	// Keep(m) instead (for example m.CloneWire(nil) when the Sink only
	// stores messages as seen on the wire). What the correlator reads from
	// a kept message later is Request, Method and CSeq (to match events).
	Keep func(m *decode.Message) *decode.Message
	// Release, when set (and Summaries is not), is given the messages of a
	// dialog that is over as far as its transactions go but still waits
	// Idle to be handed on (a BYE unanswered past its Timer F, see
	// dialog.releasable), with a copy of its summary so far, T2 after the
	// BYE's Timer F and after its last message; the correlator keeps none of
	// them, so they are not
	// held for minutes. The dialog is handed on when Idle is up as always,
	// with the messages that came after (usually none): a consumer that
	// needs all of them (diagnosis) joins the two. Events quoting a
	// released request are counted unmatched. An error is the consumer's.
	Release func(d *Dialog, msgs []*Message) error
	// Forget, when set, is told each Call-ID the correlator has stopped
	// holding anything of after handing it on: its summary was not
	// remembered, or its remembered summary was dropped (Remember,
	// MaxRemembered, MaxRememberedBytes). A later message with that Call-ID
	// starts a dialog afresh (Part 0), so a consumer that merges parts may
	// treat the dialog's records as complete. Not told for dialogs without
	// a Call-ID, nor at Flush for what is still remembered. Called on the
	// goroutine that calls Add.
	Forget func(callID string)
}

func (o Options) withDefaults() Options {
	if o.Grace <= 0 {
		o.Grace = 32 * time.Second
	}
	if o.Idle <= 0 {
		o.Idle = 5 * time.Minute
	}
	if o.LinkHeaders == nil {
		o.LinkHeaders = []string{"X-Call-ID", "X-CID"}
	}
	if o.LinkSuffixes == nil {
		o.LinkSuffixes = []string{"_b2b-1", "-b2b_1"}
	}
	if o.Remember <= 0 {
		o.Remember = time.Hour
	}
	if o.MaxRemembered <= 0 {
		o.MaxRemembered = 32768
	}
	if o.MaxRememberedBytes <= 0 {
		o.MaxRememberedBytes = 4 << 20
	}
	if o.MaxDialogs <= 0 {
		o.MaxDialogs = 50000
	}
	return o
}

// Sink receives finished dialogs with their messages, in the order they
// finish. The values are handed over: the correlator keeps no reference.
type Sink interface {
	Dialog(d *Dialog, msgs []*Message) error
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(d *Dialog, msgs []*Message) error

// Dialog calls f.
func (f SinkFunc) Dialog(d *Dialog, msgs []*Message) error { return f(d, msgs) }

// Stats counts what the correlator did.
type Stats struct {
	Messages        int64 // messages added
	Dialogs         int64 // dialog records handed on (continuations included)
	Continuations   int64 // records with Part > 0
	Open            int   // dialogs open now (frozen ones in Grace included)
	MaxOpen         int   // most dialogs open at once
	Frozen          int   // of Open, dialogs frozen in Grace after their early record (Options.Early)
	Remembered      int   // summaries of handed-on dialogs kept now
	NoCallID        int64 // messages without a Call-ID (each made its own dialog)
	Events          int64 // events attached to a message
	EventsUnmatched int64 // events whose dialog or request was not open
	DialogsLimited  int64 // dialogs handed on before their time because Options.MaxDialogs were open
	// FrozenLimited counts frozen dialogs (already handed on, unchanged
	// since) whose Grace was cut short because Options.MaxDialogs were open:
	// nothing is handed on early for them, and a late message still
	// continues them from their remembered summary. Not in DialogsLimited,
	// which a busy but healthy capture (more calls ending per Grace than
	// MaxDialogs) would otherwise fill with false alarms.
	FrozenLimited int64
}

// Correlator groups messages into dialogs and transactions. It is not safe
// for concurrent use: one goroutine feeds it in capture order.
//
// Memory: a dialog is held (with its messages) from its first message until
// it is handed on, that is until Options.Grace after it ended or
// Options.Idle after its last message, in capture time; the clock is the
// latest message time seen. Expiry is checked with a min-heap on every Add,
// so the cost per message is O(log open dialogs).
type Correlator struct {
	opts Options
	sink Sink
	open map[string]*dialog
	// ghosts are the open dialogs frozen in Grace after their early
	// record (Options.Early, see ghost); they are in heap too.
	ghosts map[string]*ghost
	heap   expiryHeap
	rel    releaseHeap // dialogs that may be due to Options.Release
	clock  time.Time
	seq    int64
	stats  Stats

	// born are the dialogs opened since (in order), for Horizon: each is
	// marked done when its dialog is first handed on.
	born  []*bornMark
	bornH int // head of born

	tombs map[string]*tomb
	tombQ []*tomb // in order of forgetting (clock is monotonic)
	tombH int     // head of tombQ
	// tombBytes is the memory of the tombs in tombQ.
	tombBytes int

	scratch   Message      // the wrapper Add reuses in Summaries mode
	freezeBuf []byte       // room to freeze a dialog in
	seed      maphash.Seed // for the retransmission hashes of every dialog
}

// New returns a correlator that hands finished dialogs to sink.
func New(opts Options, sink Sink) *Correlator {
	return &Correlator{
		opts:   opts.withDefaults(),
		sink:   sink,
		open:   make(map[string]*dialog),
		ghosts: make(map[string]*ghost),
		tombs:  make(map[string]*tomb),
		seed:   maphash.MakeSeed(),
	}
}

// Stats returns the counters so far.
func (c *Correlator) Stats() Stats {
	s := c.stats
	s.Open = len(c.open) + len(c.ghosts)
	s.Frozen = len(c.ghosts)
	s.Remembered = len(c.tombs)
	return s
}

// Add takes one message in capture order. Unless Options.Summaries or
// Options.Keep is set, m must own its memory (see decode.Message.Clone):
// the correlator keeps it until its dialog is handed on, and hands it to
// the Sink wrapped in a *Message. With Summaries, m is not kept and may
// alias decoder buffers; with Keep, Keep(m) is kept instead of m. An error
// is the Sink's.
func (c *Correlator) Add(m *decode.Message) error {
	if m == nil {
		return nil
	}
	if err := c.advance(m.Time); err != nil {
		return err
	}
	var cm *Message
	if c.opts.Summaries {
		// Nothing keeps the wrapper: reuse it, and drop m when done.
		cm = &c.scratch
		*cm = Message{Message: m, Seq: c.seq, CallID: m.CallID, Txn: -1}
		defer func() { c.scratch = Message{} }()
	} else {
		cm = &Message{Message: m, Seq: c.seq, CallID: m.CallID, Txn: -1}
	}
	c.seq++
	c.stats.Messages++

	if m.CallID == "" {
		// Without a Call-ID nothing groups the message with others: it is
		// a dialog of its own, handed on at once.
		c.stats.NoCallID++
		d := newDialog(c, m.CallID, nil)
		d.add(c, cm)
		c.keep(cm)
		return c.emit(d)
	}
	d := c.lookup(m.CallID)
	if d == nil {
		var t *tomb
		if t = c.tombs[m.CallID]; t != nil {
			delete(c.tombs, m.CallID) // its queue entry goes stale
		}
		for len(c.open)+len(c.ghosts) >= c.opts.MaxDialogs && len(c.heap) > 0 {
			it := heap.Pop(&c.heap).(heapItem)
			if it.g != nil && !it.g.changed {
				c.stats.FrozenLimited++
			} else {
				c.stats.DialogsLimited++
			}
			if err := c.expire(it); err != nil {
				return err
			}
		}
		d = newDialog(c, m.CallID, t)
		if t == nil && c.opts.Forget != nil {
			// Only a consumer told of forgotten Call-IDs asks Horizon:
			// for the others the list would only grow.
			d.born = &bornMark{start: m.Time}
			c.born = append(c.born, d.born)
		}
		c.open[d.d.CallID] = d // the dialog's own copy: m may alias decoder buffers
		if n := len(c.open) + len(c.ghosts); n > c.stats.MaxOpen {
			c.stats.MaxOpen = n
		}
		c.suffixLinks(d)
		d.add(c, cm)
		c.keep(cm)
		heap.Push(&c.heap, heapItem{expiry: d.deadline(c.opts), d: d})
		c.mayRelease(d)
		return nil
	}
	d.add(c, cm)
	c.keep(cm)
	c.mayRelease(d)
	c.heap[d.hidx].expiry = d.deadline(c.opts)
	heap.Fix(&c.heap, int(d.hidx))
	if d.f.ended && !d.early && c.opts.Early {
		return c.emitEarly(d) // which freezes d
	}
	c.refreeze(d)
	return nil
}

// copies says whether dialogs copy the strings they keep (see dialog).
func (c *Correlator) copies() bool {
	return c.opts.Summaries || c.opts.Early || c.opts.Keep != nil
}

// keep replaces the message of cm, which add has read, by the copy
// Options.Keep makes of it.
func (c *Correlator) keep(cm *Message) {
	if c.opts.Keep == nil || c.opts.Summaries {
		return
	}
	old := cm.Message
	k := c.opts.Keep(old)
	cm.Message, cm.CallID = k, k.CallID
	// Leg is one of old's tags (see dialog.leg): the copy's.
	switch cm.Leg {
	case "":
	case old.To.Tag:
		cm.Leg = k.To.Tag
	case old.From.Tag:
		cm.Leg = k.From.Tag
	default:
		cm.Leg = strings.Clone(cm.Leg)
	}
}

// emitEarly hands on a copy of the summary of d, which just ended, and
// keeps d open for Grace (Options.Early), frozen when it can be.
func (c *Correlator) emitEarly(d *dialog) error {
	dd := d.d
	d.finishInto(&dd)
	d.handedOn()
	d.early = true
	d.snap = newSnapshot(&dd)
	c.stats.Dialogs++
	if dd.Part > 0 {
		c.stats.Continuations++
	}
	msgs := d.msgs
	if msgs != nil {
		d.msgs = make([]*Message, 0, 2) // room for a late retransmission
	}
	// Frozen for Grace, d is dropped and its slices can go with the
	// record; if it stays open it may still change them.
	if !c.freeze(d) {
		dd.Transactions = slices.Clone(dd.Transactions)
		dd.Legs = slices.Clone(dd.Legs)
		dd.Linked = slices.Clone(dd.Linked)
	}
	if c.sink == nil {
		return nil
	}
	return c.sink.Dialog(&dd, msgs)
}

// advance moves the capture clock to t (never back) and hands on every
// dialog whose time is up.
func (c *Correlator) advance(t time.Time) error {
	if t.After(c.clock) {
		c.clock = t
	}
	for len(c.heap) > 0 && c.heap[0].expiry.Before(c.clock) {
		if err := c.expire(heap.Pop(&c.heap).(heapItem)); err != nil {
			return err
		}
	}
	if err := c.releaseDue(); err != nil {
		return err
	}
	c.forget()
	return nil
}

// expire hands on the dialog of it, taken off the heap: a ghost unchanged
// since its early record only becomes a tomb.
func (c *Correlator) expire(it heapItem) error {
	d := it.d
	if g := it.g; g != nil {
		delete(c.ghosts, g.id)
		if !g.changed {
			c.rememberGhost(g)
			return nil
		}
		d = c.thawBlob(g.blob, true)
	} else {
		delete(c.open, d.d.CallID)
	}
	return c.emit(d)
}

// releaseItem is a dialog that may be due to Options.Release at a time:
// releaseAt as of the message that pushed it. A dialog has one per message
// while it is releasable; all but the latest are stale. It names the
// dialog by Call-ID rather than pointing to it: every call is releasable
// from its BYE to the 200 that answers it, and an item then stays Grace+T2
// in the heap; a pointer kept each ended dialog's whole state alive that
// long, frozen or handed on (~36,000 dialogs, 70 MB, on a 1,000 calls/s
// capture). The Call-ID is the dialog's own copy (dialog.relID), not
// d.CallID, which aliases the 256-byte block the dialog copies its strings
// into: that kept the block of every call ended in the last Grace+T2 (12
// MB of the 110 MB live heap of `calls` on 50,000 SIPp calls, issue 12).
type releaseItem struct {
	at time.Time
	id string
}

// releaseHeap is a min-heap of releaseItem by time. It is apart from the
// expiry heap so that the order dialogs are handed on in, ties included,
// is the same with Options.Release as without.
type releaseHeap []releaseItem

func (h releaseHeap) Len() int           { return len(h) }
func (h releaseHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h releaseHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *releaseHeap) Push(x any)        { *h = append(*h, x.(releaseItem)) }
func (h *releaseHeap) Pop() any {
	old := *h
	n := len(old)
	it := old[n-1]
	old[n-1] = releaseItem{}
	*h = old[:n-1]
	return it
}

// t2 is RFC 3261's T2 (§17.1.2.2): a non-INVITE request is retransmitted
// at least this often until its Timer F fires.
const t2 = 4 * time.Second

// releaseAt is when d's messages are due to Options.Release: T2 after the
// BYE's Timer F (64*T1 after the BYE, which Grace is) ran out and after the
// last message, so that a retransmission a loaded peer sends a little late
// is still in.
func (c *Correlator) releaseAt(d *dialog) time.Time {
	at := d.f.byeAt.Add(c.opts.Grace)
	if d.d.End.After(at) {
		at = d.d.End
	}
	return at.Add(t2)
}

// mayRelease queues d for Options.Release when a message leaves it
// releasable.
func (c *Correlator) mayRelease(d *dialog) {
	if d.releasable(c.opts) {
		if d.relID == "" {
			d.relID = strings.Clone(d.d.CallID)
		}
		heap.Push(&c.rel, releaseItem{at: c.releaseAt(d), id: d.relID})
	}
}

// releaseDue releases the dialogs whose time came (see Options.Release);
// an item of a dialog handed on, frozen, no longer releasable or with a
// later message since is dropped.
func (c *Correlator) releaseDue() error {
	for len(c.rel) > 0 && c.rel[0].at.Before(c.clock) {
		it := heap.Pop(&c.rel).(releaseItem)
		// Not open (handed on, or frozen: ended), or a later dialog of
		// the Call-ID whose own item is later (its BYE came after this
		// one's hand-off).
		d := c.open[it.id]
		if d == nil || d.hidx < 0 || !d.releasable(c.opts) || c.releaseAt(d).After(it.at) {
			continue
		}
		if err := c.release(d); err != nil {
			return err
		}
	}
	return nil
}

// release gives the messages of d to Options.Release; d stays open, to be
// handed on after Idle (see Options.Release).
func (c *Correlator) release(d *dialog) error {
	dd := d.d
	d.finishInto(&dd)
	// d goes on changing its slices: the copy crosses goroutines.
	dd.Transactions = slices.Clone(dd.Transactions)
	dd.Legs = slices.Clone(dd.Legs)
	dd.Linked = slices.Clone(dd.Linked)
	msgs := d.msgs
	d.msgs = nil
	d.released = true
	return c.opts.Release(&dd, msgs)
}

// Event takes an ICMP error or similar event and attaches it to the request
// it quotes, when that request's dialog is still open: the latest request
// with the event's Call-ID and CSeq (and method, when the event names one).
// e need not own its memory: what is kept is copied.
func (c *Correlator) Event(e *decode.Event) error {
	if e == nil {
		return nil
	}
	if err := c.advance(e.Time); err != nil {
		return err
	}
	var d *dialog
	if e.CallID != "" {
		d = c.lookup(e.CallID)
	}
	if d == nil {
		c.stats.EventsUnmatched++
		return nil
	}
	defer c.refreeze(d)
	method := e.CSeqMethod
	if method == "" {
		method = e.Method
	}
	if c.opts.Summaries {
		if d.requestSeen(e.CSeq, method) {
			d.d.Events++
			c.stats.Events++
		} else {
			c.stats.EventsUnmatched++
		}
		return nil
	}
	for i := len(d.msgs) - 1; i >= 0; i-- {
		m := d.msgs[i]
		if !m.Request || (e.CSeq != 0 && m.CSeq != e.CSeq) || (method != "" && !strings.EqualFold(m.Method, method)) {
			continue
		}
		ev := *e
		// e may alias decoder buffers (decode.Handler): keep copies.
		own([]*string{&ev.File, &ev.Kind, &ev.Detail, &ev.CallID, &ev.CSeqMethod, &ev.Method})
		m.Events = append(m.Events, ev)
		d.d.Events++
		c.stats.Events++
		return nil
	}
	c.stats.EventsUnmatched++
	return nil
}

// Flush hands on every open dialog (end of input), oldest deadline first.
func (c *Correlator) Flush() error {
	clear(c.rel) // every dialog is handed on now: none to release
	c.rel = c.rel[:0]
	for len(c.heap) > 0 {
		if err := c.expire(heap.Pop(&c.heap).(heapItem)); err != nil {
			return err
		}
	}
	return nil
}

// emit finishes d's summary, remembers it and hands it to the sink.
func (c *Correlator) emit(d *dialog) error {
	if d.early {
		// Its summary went on when it ended: only a change since needs a
		// record, a continuation.
		now := newSnapshot(&d.d)
		if now.messages == d.snap.messages && now.events == d.snap.events && now.linked == d.snap.linked {
			d.finish()
			if d.d.CallID != "" {
				c.remember(d)
			}
			return nil
		}
		d.d.Part++
		n := int(d.snap.txns)
		d.d.Transactions = d.d.Transactions[n:]
		d.tx = d.tx[n:]
		d.txBase += n
	}
	d.finish()
	d.handedOn()
	if d.d.CallID != "" {
		c.remember(d)
	}
	c.stats.Dialogs++
	if d.d.Part > 0 {
		c.stats.Continuations++
	}
	dd, msgs := &d.d, d.msgs
	d.msgs = nil
	if c.sink == nil {
		return nil
	}
	return c.sink.Dialog(dd, msgs)
}

// expiryHeap is a min-heap of open dialogs by expiry. The expiry lives in
// the heap's array rather than in each dialog, which keeps the dialog in a
// smaller allocation size class.
type expiryHeap []heapItem

// heapItem is an open dialog: d, or g when it is frozen.
type heapItem struct {
	expiry time.Time
	d      *dialog
	g      *ghost
}

func (it *heapItem) setIndex(i int32) {
	if it.d != nil {
		it.d.hidx = i
	} else {
		it.g.hidx = i
	}
}

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expiry.Before(h[j].expiry) }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].setIndex(int32(i))
	h[j].setIndex(int32(j))
}
func (h *expiryHeap) Push(x any) {
	it := x.(heapItem)
	it.setIndex(int32(len(*h)))
	*h = append(*h, it)
}
func (h *expiryHeap) Pop() any {
	old := *h
	n := len(old)
	it := old[n-1]
	old[n-1] = heapItem{}
	*h = old[:n-1]
	it.setIndex(-1)
	return it
}

// bornMark is a dialog opened afresh (not a continuation), for Horizon.
type bornMark struct {
	start time.Time
	done  bool // handed on once
}

// handedOn marks d's first hand-off for Horizon.
func (d *dialog) handedOn() {
	if d.born != nil {
		d.born.done = true
		d.born = nil
	}
}

// Horizon is the earliest start of the dialogs opened afresh and not yet
// handed on (continuations of handed-on dialogs are not counted: their
// consumer has an earlier record), or the clock (the latest message time)
// when there are none, or when it is earlier. A consumer that orders
// records by start may emit those that start before it and are complete
// (see Options.Forget), as far as messages in capture order go. Without
// Options.Forget it is the clock.
func (c *Correlator) Horizon() time.Time {
	for c.bornH < len(c.born) && c.born[c.bornH].done {
		c.born[c.bornH] = nil
		c.bornH++
	}
	if c.bornH > 1024 && c.bornH*2 > len(c.born) {
		n := copy(c.born, c.born[c.bornH:])
		clear(c.born[n:])
		c.born = c.born[:n]
		c.bornH = 0
	}
	h := c.clock
	if c.bornH < len(c.born) {
		if s := c.born[c.bornH].start; s.Before(h) {
			h = s
		}
	}
	return h
}
