package correlate

import (
	"strings"
	"time"
)

// tomb is what the correlator remembers of a dialog it handed on, so that a
// later message with the same Call-ID continues it as the next Part with
// its kind, state and timings: the summary section of the frozen dialog
// (see ghost), one allocation that the garbage collector does not scan and
// that keeps no handed-on message alive.
type tomb struct {
	blob    []byte
	id      string    // Call-ID, aliasing blob
	forget  time.Time // capture time after which it is dropped
	removed bool
}

// remember keeps a summary of d, finished, for Options.Remember.
func (c *Correlator) remember(d *dialog) {
	blob, _, ok := d.freeze(true, &c.freezeBuf)
	if !ok {
		// A time the encoding does not cover: not remembered.
		if c.opts.Forget != nil {
			c.opts.Forget(d.d.CallID)
		}
		return
	}
	c.rememberBlob(blob, d.d.End)
}

// rememberGhost turns a ghost whose time is up, unchanged since its early
// record, into a tomb without thawing it.
func (c *Correlator) rememberGhost(g *ghost) {
	c.rememberBlob(append([]byte(nil), g.blob[:g.sumLen]...), time.Unix(0, g.end))
}

func (c *Correlator) rememberBlob(blob []byte, end time.Time) {
	r := thawer{b: blob}
	t := &tomb{blob: blob, id: r.s()}
	now := c.clock
	if end.After(now) {
		now = end
	}
	t.forget = now.Add(c.opts.Remember)
	if old := c.tombs[t.id]; old != nil {
		old.removed = true
	}
	c.tombs[t.id] = t
	c.tombQ = append(c.tombQ, t)
	c.tombBytes += len(blob)
	for len(c.tombs) > c.opts.MaxRemembered || c.tombBytes > c.opts.MaxRememberedBytes {
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
	c.tombBytes -= len(t.blob)
	if !t.removed && c.tombs[t.id] == t {
		delete(c.tombs, t.id)
		if c.opts.Forget != nil {
			c.opts.Forget(t.id)
		}
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

// linked returns the Linked list of the remembered dialog.
func (c *Correlator) linked(t *tomb) []string {
	return c.thawBlob(t.blob, false).d.Linked
}

// restore starts d as the continuation of t.
func (c *Correlator) restore(t *tomb, d *dialog) {
	t.removed = true
	p := &dialog{hidx: -1, summary: d.summary, copies: d.copies}
	r := thawer{b: t.blob}
	n := r.summary(p)
	if r.err != nil {
		panic(r.err) // only a bug can get here: the encoding is the correlator's own
	}
	p.finish()
	d.d = p.d
	d.d.Part++
	d.d.Transactions = nil
	d.d.End = time.Time{}
	d.f = p.f
	d.f.ended = false
	d.txBase = p.txBase + n
}
