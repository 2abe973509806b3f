package correlate

import (
	"strings"
	"time"
)

// tomb is what the correlator remembers of a dialog it handed on, so that a
// later message with the same Call-ID continues it as the next Part with
// its kind, state and timings. Its strings are copied into one buffer so
// that it does not keep the handed-on messages alive.
type tomb struct {
	d       Dialog // summary without Transactions; strings owned
	f       facts
	txNext  int       // Transaction.Index the next part starts at
	forget  time.Time // capture time after which it is dropped
	removed bool
}

// remember keeps a summary of d for Options.Remember.
func (c *Correlator) remember(d *dialog) {
	t := &tomb{d: d.d, f: d.f, txNext: d.txBase + len(d.d.Transactions)}
	t.d.Transactions = nil
	t.d.Legs = append([]string(nil), d.d.Legs...)
	t.d.Linked = append([]string(nil), d.d.Linked...)
	var buf [32]*string
	ptrs := append(buf[:0],
		&t.d.CallID, &t.d.FinalReason, &t.d.UserAgent,
		&t.d.From.Display, &t.d.From.URI, &t.d.From.User, &t.d.From.Host, &t.d.From.Tag,
		&t.d.To.Display, &t.d.To.URI, &t.d.To.User, &t.d.To.Host, &t.d.To.Tag,
		&t.f.opener, &t.f.callerTag,
	)
	for i := range t.d.Legs {
		ptrs = append(ptrs, &t.d.Legs[i])
	}
	for i := range t.d.Linked {
		ptrs = append(ptrs, &t.d.Linked[i])
	}
	own(ptrs)
	now := c.clock
	if d.d.End.After(now) {
		now = d.d.End
	}
	t.forget = now.Add(c.opts.Remember)
	if old := c.tombs[t.d.CallID]; old != nil {
		old.removed = true
	}
	c.tombs[t.d.CallID] = t
	c.tombQ = append(c.tombQ, t)
	for len(c.tombs) > c.opts.MaxRemembered {
		c.dropOldestTomb()
	}
}

// own copies the strings behind ptrs into one new allocation and points
// them at it.
func own(ptrs []*string) {
	n := 0
	for _, p := range ptrs {
		n += len(*p)
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range ptrs {
		b.WriteString(*p)
	}
	all := b.String()
	off := 0
	for _, p := range ptrs {
		l := len(*p)
		*p = all[off : off+l]
		off += l
	}
}

// forget drops remembered summaries whose time is up.
func (c *Correlator) forget() {
	for c.tombH < len(c.tombQ) {
		t := c.tombQ[c.tombH]
		if !t.removed && !t.forget.Before(c.clock) {
			break
		}
		c.popTomb()
	}
	c.compactTombQ()
}

func (c *Correlator) dropOldestTomb() {
	for c.tombH < len(c.tombQ) {
		t := c.tombQ[c.tombH]
		c.popTomb()
		if !t.removed {
			return
		}
	}
}

// popTomb removes the head of the queue (and its map entry when current).
func (c *Correlator) popTomb() {
	t := c.tombQ[c.tombH]
	c.tombQ[c.tombH] = nil
	c.tombH++
	if !t.removed && c.tombs[t.d.CallID] == t {
		delete(c.tombs, t.d.CallID)
	}
	t.removed = true
}

// compactTombQ reclaims the consumed head of the queue now and then.
func (c *Correlator) compactTombQ() {
	if c.tombH > 1024 && c.tombH*2 > len(c.tombQ) {
		n := copy(c.tombQ, c.tombQ[c.tombH:])
		clear(c.tombQ[n:])
		c.tombQ = c.tombQ[:n]
		c.tombH = 0
	}
}

// restore starts d as the continuation of t.
func (t *tomb) restore(d *dialog) {
	t.removed = true
	d.d = t.d
	d.d.Part++
	d.d.Transactions = nil
	d.d.End = time.Time{}
	d.f = t.f
	d.f.ended = false
	d.txBase = t.txNext
}
