package correlate

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"
	"time"
	"unsafe"

	"github.com/sipscope/sipscope/decode"
)

// A dialog handed on early (Options.Early) waits Grace for late messages,
// which are rare. Meanwhile it is kept frozen: its whole state encoded in
// one byte slice, a ghost, about a fifth of an open dialog and nothing in it
// for the garbage collector to scan. A late message, event or link thaws
// it back into the very same dialog (the round trip is exact), and when
// Grace is over an unchanged ghost becomes a remembered summary (tomb)
// without being thawed: the tomb keeps the summary section of the encoding
// (the front part), dropping the transaction section.
//
// Layout, every integer a varint, every string length-prefixed or a
// reference to an equal string before it, every time but the dialog's
// start an offset from that start:
//
//	summary:      Dialog without Transactions, facts, txBase, len(Transactions)
//	transactions: snapshot, then per transaction its Transaction and txnState
//
// Decoded strings alias the encoding, which is never written again.

// ghost is a frozen dialog in Grace after its early record.
type ghost struct {
	blob    []byte
	id      string // Call-ID, aliasing blob
	sumLen  int32  // length of the summary section
	hidx    int32  // index in the expiry heap
	end     int64  // Dialog.End, Unix nanoseconds (for the tomb's forget time)
	changed bool   // a late message changed it since the early record: it needs a continuation
}

var errFrozen = errors.New("correlate: bad frozen dialog")

type freezer struct {
	b   []byte
	bad bool // something the encoding cannot represent: keep the dialog open
	// base is the dialog's start: the other times are written as an offset
	// from it (a few bytes instead of eleven).
	base time.Time
	// strs are the strings written so far (offset and length in b), so
	// that a repeated one (tags, reasons, methods) is written as a
	// reference.
	strs [maxStrs]struct{ off, n int32 }
	ns   int
	// slot finds a string in strs by a cheap hash (index+1; 0 for none).
	// A slot taken by another string only costs a repeat written out.
	slot [64]int8
}

// maxStrs is how many strings a frozen dialog can refer back to.
const maxStrs = 32

// Times are written as a kind, then the Unix seconds and nanoseconds
// (absolute) or nanoseconds after base (relative).
const (
	timeZero = iota
	timeUTC
	timeLocal
	timeUTCRel
	timeLocalRel
)

func (w *freezer) u(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *freezer) i(v int64)  { w.b = binary.AppendVarint(w.b, v) }

// s writes a string: uvarint len<<1 and its bytes, or uvarint i<<1|1 for
// the i-th string written before.
func (w *freezer) s(s string) {
	var h uint
	if len(s) > 1 {
		h = (uint(len(s))*31 + uint(s[0])*7 + uint(s[len(s)/2])*13 + uint(s[len(s)-1])) & 63
		if i := w.slot[h] - 1; i >= 0 {
			r := w.strs[i]
			if int(r.n) == len(s) && string(w.b[r.off:r.off+r.n]) == s {
				w.u(uint64(i)<<1 | 1)
				return
			}
		}
	}
	w.u(uint64(len(s)) << 1)
	if len(s) > 1 && w.ns < maxStrs {
		w.strs[w.ns] = struct{ off, n int32 }{int32(len(w.b)), int32(len(s))}
		w.ns++
		w.slot[h] = int8(w.ns)
	}
	w.b = append(w.b, s...)
}

func (w *freezer) t(t time.Time) {
	var kind uint64
	switch {
	case t.IsZero():
		w.u(timeZero)
		return
	case t.Location() == time.UTC:
		kind = timeUTC
	case t.Location() == time.Local:
		kind = timeLocal
	default:
		w.bad = true
		return
	}
	if !w.base.IsZero() {
		// Nanoseconds after base, when they fit (within ±290 years).
		if s := t.Unix() - w.base.Unix(); s > -1<<33 && s < 1<<33 {
			w.u(kind + timeUTCRel - timeUTC)
			w.i(s*1e9 + int64(t.Nanosecond()-w.base.Nanosecond()))
			return
		}
	}
	w.u(kind)
	w.i(t.Unix())
	w.u(uint64(t.Nanosecond()))
}

// sub writes s as a part of in (the user or host of a URI) when it is one.
func (w *freezer) sub(in, s string) {
	if i := strings.Index(in, s); i >= 0 && s != "" {
		w.u(uint64(i) + 1)
		w.u(uint64(len(s)))
		return
	}
	w.u(0)
	w.s(s)
}

func (w *freezer) list(l []string) {
	if l == nil {
		w.u(0)
		return
	}
	w.u(uint64(len(l)) + 1)
	for _, s := range l {
		w.s(s)
	}
}

func (w *freezer) nameAddr(n *decode.NameAddr) {
	w.s(n.Display)
	w.s(n.URI)
	w.sub(n.URI, n.User)
	w.sub(n.URI, n.Host)
	w.s(n.Tag)
}

func (w *freezer) addr(a netip.AddrPort) {
	n := len(w.b)
	w.b = append(w.b, 0)
	var err error
	w.b, err = a.Addr().AppendBinary(w.b)
	if err != nil || len(w.b)-n-1 > 255 {
		w.bad = true
		return
	}
	w.b[n] = byte(len(w.b) - n - 1)
	w.u(uint64(a.Port()))
}

func bits(bs ...bool) uint64 {
	var v uint64
	for i, b := range bs {
		if b {
			v |= 1 << i
		}
	}
	return v
}

// freeze encodes d (see ghost) into a new slice; ok is false when d has
// something the encoding does not cover (messages held, a time in another
// location), and then d must stay open.
//
// With summaryOnly it writes the summary section alone, for a tomb, and the
// messages d holds do not matter.
//
// scratch, when not nil, is room to encode into (the result is a copy of
// the right size); the grown room is returned through it.
func (d *dialog) freeze(summaryOnly bool, scratch *[]byte) (blob []byte, sumLen int, ok bool) {
	if (len(d.msgs) > 0 && !summaryOnly) || len(d.tx) != len(d.d.Transactions) {
		return nil, 0, false
	}
	var w freezer
	if scratch != nil {
		w.b = (*scratch)[:0]
		defer func() { *scratch = w.b[:0] }()
	} else {
		w.b = make([]byte, 0, 512)
	}
	dd := &d.d
	w.s(dd.CallID)
	w.s(string(dd.Kind))
	w.s(string(dd.State))
	w.i(int64(dd.FinalStatus))
	w.s(dd.FinalReason)
	w.nameAddr(&dd.From)
	w.nameAddr(&dd.To)
	w.addr(dd.Src)
	w.addr(dd.Dst)
	w.s(string(dd.Transport))
	w.i(int64(dd.Messages))
	w.i(int64(dd.Retransmissions))
	w.i(int64(dd.Duplicates))
	w.t(dd.Start)
	w.base = dd.Start
	w.t(dd.End)
	w.i(int64(dd.SetupTime))
	w.i(int64(dd.AnswerTime))
	w.i(int64(dd.Duration))
	w.i(int64(dd.Q850Cause))
	w.s(dd.UserAgent)
	w.list(dd.Linked)
	w.list(dd.Legs)
	w.i(int64(dd.Events))
	w.i(int64(dd.Part))
	f := &d.f
	w.s(f.opener)
	w.s(f.callerTag)
	w.u(bits(f.haveRequest, f.uaCaller, f.opened, f.attemptResp, f.ringing, f.answered, f.bye, f.cancelled, f.ended,
		f.midDialog) | uint64(f.subState)<<10)
	w.t(f.attemptAt)
	w.u(uint64(f.attemptCSeq))
	w.i(int64(f.final))
	w.t(f.ringAt)
	w.t(f.answerAt)
	w.t(f.byeAt)
	w.i(int64(d.txBase))
	w.u(uint64(len(dd.Transactions)))
	sumLen = len(w.b)
	if summaryOnly {
		return w.trim(scratch != nil), sumLen, !w.bad
	}

	w.i(int64(d.snap.messages))
	w.i(int64(d.snap.events))
	w.i(int64(d.snap.linked))
	w.i(int64(d.snap.txns))
	w.u(bits(d.early))
	for i := range dd.Transactions {
		tr := &dd.Transactions[i]
		w.i(int64(tr.Index))
		if i > 0 {
			// Branches often share a prefix with the previous one
			// (z9hG4bK-14120-949-0, z9hG4bK-14120-949-4).
			prev := dd.Transactions[i-1].Branch
			p := 0
			for p < len(prev) && p < len(tr.Branch) && prev[p] == tr.Branch[p] {
				p++
			}
			w.u(uint64(p))
			w.s(tr.Branch[p:])
		} else {
			w.s(tr.Branch)
		}
		w.s(tr.Method)
		w.u(uint64(tr.CSeq))
		w.t(tr.Start)
		w.t(tr.End)
		w.i(int64(tr.FinalStatus))
		w.s(tr.FinalReason)
		w.i(int64(tr.Messages))
		w.i(int64(tr.Retransmissions))
		w.list(tr.Legs)
		w.i(int64(tr.Cancels))
		ts := &d.tx[i]
		k := &ts.key
		// The key's strings are usually the transaction's, or the
		// previous transaction's sent-by.
		sameBranch, sameMethod := k.branch == tr.Branch, k.method == tr.Method
		sameSentBy := i > 0 && k.sentBy == d.tx[i-1].key.sentBy
		w.u(bits(tr.Opening, k.rfc2543, sameBranch, sameMethod, sameSentBy))
		if !sameBranch {
			w.s(k.branch)
		}
		if !sameMethod {
			w.s(k.method)
		}
		if !sameSentBy {
			w.s(k.sentBy)
		}
		w.u(uint64(k.cseq))
		w.s(k.fromTag)
		w.u(uint64(ts.requests))
		w.u(uint64(len(ts.seen)))
		for _, h := range ts.seen {
			w.b = binary.LittleEndian.AppendUint64(w.b, h)
		}
	}
	if w.bad {
		return nil, 0, false
	}
	return w.trim(scratch != nil), sumLen, true
}

// trim returns the encoding in an allocation of its size: it is kept for a
// while. Strings decoded later alias it, so it is never written again.
func (w *freezer) trim(copied bool) []byte {
	if copied || cap(w.b)-len(w.b) > 32 {
		return append([]byte(nil), w.b...)
	}
	return w.b
}

type thawer struct {
	b    []byte
	off  int
	err  error
	base time.Time // see freezer
	strs [maxStrs]string
	ns   int
}

func (r *thawer) u() uint64 {
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail()
		return 0
	}
	r.off += n
	return v
}

func (r *thawer) i() int64 {
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail()
		return 0
	}
	r.off += n
	return v
}

func (r *thawer) fail() {
	if r.err == nil {
		r.err = errFrozen
	}
	r.off = len(r.b)
}

func (r *thawer) bytes(n uint64) []byte {
	if n > uint64(len(r.b)-r.off) {
		r.fail()
		return nil
	}
	p := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return p
}

func (r *thawer) s() string {
	x := r.u()
	if x&1 != 0 {
		if x>>1 >= uint64(r.ns) {
			r.fail()
			return ""
		}
		return r.strs[x>>1]
	}
	p := r.bytes(x >> 1)
	if len(p) == 0 {
		return ""
	}
	s := unsafe.String(&p[0], len(p))
	if len(s) > 1 && r.ns < maxStrs {
		r.strs[r.ns] = s
		r.ns++
	}
	return s
}

func (r *thawer) t() time.Time {
	var t time.Time
	kind := r.u()
	switch kind {
	case timeZero:
		return time.Time{}
	case timeUTC, timeLocal:
		t = time.Unix(r.i(), int64(r.u()))
	case timeUTCRel, timeLocalRel:
		t = r.base.Add(time.Duration(r.i()))
	default:
		r.fail()
		return time.Time{}
	}
	if kind == timeUTC || kind == timeUTCRel {
		return t.UTC()
	}
	return t.Local()
}

func (r *thawer) sub(in string) string {
	i := r.u()
	if i == 0 {
		return r.s()
	}
	n := r.u()
	if i-1 > uint64(len(in)) || n > uint64(len(in))-(i-1) {
		r.fail()
		return ""
	}
	return in[i-1 : i-1+n]
}

func (r *thawer) list() []string {
	n := r.u()
	if n == 0 {
		return nil
	}
	if n-1 > uint64(len(r.b)-r.off) {
		r.fail()
		return nil
	}
	l := make([]string, n-1)
	for i := range l {
		l[i] = r.s()
	}
	return l
}

func (r *thawer) nameAddr() decode.NameAddr {
	var n decode.NameAddr
	n.Display = r.s()
	n.URI = r.s()
	n.User = r.sub(n.URI)
	n.Host = r.sub(n.URI)
	n.Tag = r.s()
	return n
}

func (r *thawer) addr() netip.AddrPort {
	if r.off >= len(r.b) {
		r.fail()
		return netip.AddrPort{}
	}
	n := r.b[r.off]
	r.off++
	var a netip.Addr
	if err := a.UnmarshalBinary(r.bytes(uint64(n))); err != nil {
		r.fail()
	}
	return netip.AddrPortFrom(a, uint16(r.u()))
}

// thawSummary decodes the summary section of blob into d (which has its
// options' flags set already) and returns the number of transactions.
func (r *thawer) summary(d *dialog) int {
	dd := &d.d
	dd.CallID = r.s()
	dd.Kind = Kind(r.s())
	dd.State = State(r.s())
	dd.FinalStatus = int(r.i())
	dd.FinalReason = r.s()
	dd.From = r.nameAddr()
	dd.To = r.nameAddr()
	dd.Src = r.addr()
	dd.Dst = r.addr()
	dd.Transport = keepTransport(decode.Transport(r.s()))
	dd.Messages = int(r.i())
	dd.Retransmissions = int(r.i())
	dd.Duplicates = int(r.i())
	dd.Start = r.t()
	r.base = dd.Start
	dd.End = r.t()
	dd.SetupTime = time.Duration(r.i())
	dd.AnswerTime = time.Duration(r.i())
	dd.Duration = time.Duration(r.i())
	dd.Q850Cause = int(r.i())
	dd.UserAgent = r.s()
	dd.Linked = r.list()
	dd.Legs = r.list()
	dd.Events = int(r.i())
	dd.Part = int(r.i())
	f := &d.f
	f.opener = d.keepMethod(r.s())
	f.callerTag = r.s()
	b := r.u()
	f.haveRequest, f.uaCaller, f.opened = b&1 != 0, b&2 != 0, b&4 != 0
	f.attemptResp, f.ringing, f.answered = b&8 != 0, b&16 != 0, b&32 != 0
	f.bye, f.cancelled, f.ended = b&64 != 0, b&128 != 0, b&256 != 0
	f.midDialog, f.subState = b&512 != 0, uint8(b>>10&3)
	f.attemptAt = r.t()
	f.attemptCSeq = uint32(r.u())
	f.final = int(r.i())
	f.ringAt = r.t()
	f.answerAt = r.t()
	f.byeAt = r.t()
	d.txBase = int(r.i())
	n := r.u()
	if n > uint64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(n)
}

// thaw decodes a whole frozen dialog (freeze's output) into d.
func (r *thawer) dialog(d *dialog) {
	n := r.summary(d)
	d.snap.messages = int32(r.i())
	d.snap.events = int32(r.i())
	d.snap.linked = int32(r.i())
	d.snap.txns = int32(r.i())
	d.early = r.u()&1 != 0
	d.d.Transactions = make([]Transaction, n, max(n, 3))
	d.tx = make([]txnState, n, max(n, 3))
	for i := 0; i < n && r.err == nil; i++ {
		tr := &d.d.Transactions[i]
		tr.Index = int(r.i())
		if i > 0 {
			prev := d.d.Transactions[i-1].Branch
			p := r.u()
			if p > uint64(len(prev)) {
				r.fail()
				return
			}
			tr.Branch = prev[:p] + r.s()
		} else {
			tr.Branch = r.s()
		}
		tr.Method = d.keepMethod(r.s())
		tr.CSeq = uint32(r.u())
		tr.Start = r.t()
		tr.End = r.t()
		tr.FinalStatus = int(r.i())
		tr.FinalReason = r.s()
		tr.Messages = int(r.i())
		tr.Retransmissions = int(r.i())
		tr.Legs = r.list()
		tr.Cancels = int(r.i())
		ts := &d.tx[i]
		k := &ts.key
		b := r.u()
		tr.Opening, k.rfc2543 = b&1 != 0, b&2 != 0
		if k.branch = tr.Branch; b&4 == 0 {
			k.branch = r.s()
		}
		if k.method = tr.Method; b&8 == 0 {
			k.method = d.keepMethod(r.s())
		}
		if b&16 != 0 && i > 0 {
			k.sentBy = d.tx[i-1].key.sentBy
		} else {
			k.sentBy = r.s()
		}
		k.cseq = uint32(r.u())
		k.fromTag = r.s()
		ts.requests = uint8(r.u())
		m := r.u()
		p := r.bytes(m * 8)
		ts.seen = make([]uint64, len(p)/8, max(len(p)/8, 4))
		for j := range ts.seen {
			ts.seen[j] = binary.LittleEndian.Uint64(p[8*j:])
		}
	}
}

// freeze turns the open dialog d, which was handed on early and holds no
// messages, into a ghost in its place in the expiry heap. It returns false
// (and leaves d open) when d cannot be frozen.
func (c *Correlator) freeze(d *dialog) bool {
	if d.hidx < 0 || d.d.CallID == "" {
		return false
	}
	blob, sumLen, ok := d.freeze(false, &c.freezeBuf)
	if !ok {
		return false
	}
	g := &ghost{blob: blob, sumLen: int32(sumLen), hidx: d.hidx, end: d.d.End.UnixNano()}
	var r thawer
	r.b = blob
	g.id = r.s()
	now := newSnapshot(&d.d)
	g.changed = now.messages != d.snap.messages || now.events != d.snap.events || now.linked != d.snap.linked
	it := &c.heap[d.hidx]
	it.d, it.g = nil, g
	d.hidx = -1
	delete(c.open, d.d.CallID)
	c.ghosts[g.id] = g
	return true
}

// thaw turns the ghost g back into the open dialog it was, in its place in
// the expiry heap.
func (c *Correlator) thaw(g *ghost) *dialog {
	d := c.thawBlob(g.blob, true)
	it := &c.heap[g.hidx]
	it.d, it.g = d, nil
	d.hidx = g.hidx
	g.hidx = -1
	delete(c.ghosts, g.id)
	c.open[d.d.CallID] = d
	return d
}

// thawBlob decodes a frozen dialog (whole, or its summary section only).
func (c *Correlator) thawBlob(blob []byte, whole bool) *dialog {
	d := &dialog{hidx: -1, summary: c.opts.Summaries, copies: c.copies()}
	r := thawer{b: blob}
	if whole {
		r.dialog(d)
	} else {
		r.summary(d)
	}
	if !d.summary {
		d.msgs = make([]*Message, 0, 2)
	}
	if r.err != nil {
		// Only a bug can get here: the encoding is the correlator's own.
		panic(r.err)
	}
	return d
}

// lookup returns the open dialog with this Call-ID, thawing it when it is
// a ghost, or nil.
func (c *Correlator) lookup(id string) *dialog {
	if d := c.open[id]; d != nil {
		return d
	}
	if g := c.ghosts[id]; g != nil {
		return c.thaw(g)
	}
	return nil
}

// lookupBytes is lookup for a Call-ID in bytes, without making a string
// of it unless it is found.
func (c *Correlator) lookupBytes(id []byte) *dialog {
	if d := c.open[string(id)]; d != nil {
		return d
	}
	if g := c.ghosts[string(id)]; g != nil {
		return c.thaw(g)
	}
	return nil
}

// refreeze freezes d again when it is back to what a ghost can be: handed
// on early, ended, no messages held.
func (c *Correlator) refreeze(d *dialog) {
	if d.early && d.f.ended && len(d.msgs) == 0 && c.open[d.d.CallID] == d {
		c.freeze(d)
	}
}
