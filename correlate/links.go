package correlate

import (
	"strings"
)

// maxLinked bounds Dialog.Linked so that a header naming many Call-IDs, or
// a long chain, cannot grow a dialog without bound.
const maxLinked = 64

// headerLinks records the Call-IDs that m's link headers (Options.
// LinkHeaders, each value possibly a comma-separated list) name.
func (c *Correlator) headerLinks(d *dialog, m *Message) {
	for _, h := range m.Headers {
		for _, name := range c.opts.LinkHeaders {
			// Header names are ASCII tokens, compared without case (RFC
			// 3261 §7.3.1): the length rules out nearly every header
			// before a byte is compared.
			if len(h.Name) != len(name) || !asciiEqualFold(h.Name, name) {
				continue
			}
			for v := h.Value; v != ""; {
				var id string
				id, v, _ = strings.Cut(v, ",")
				id = strings.TrimSpace(id)
				if id != "" && id != d.d.CallID {
					c.link(d, id)
				}
			}
		}
	}
}

// suffixLinks links a new dialog whose Call-ID is another's plus a B2BUA
// suffix (Options.LinkSuffixes) to that one, and the other way round when
// the suffixed leg is already open.
func (c *Correlator) suffixLinks(d *dialog) {
	id := d.d.CallID
	for _, s := range c.opts.LinkSuffixes {
		if s == "" {
			continue
		}
		if len(id) > len(s) && strings.HasSuffix(id, s) {
			c.link(d, id[:len(id)-len(s)])
		}
		var buf [128]byte
		if o := c.lookupBytes(append(append(buf[:0], id...), s...)); o != nil {
			c.link(o, id)
			c.refreeze(o) // when lookup thawed it
		}
	}
}

// link records that dialog d names the Call-ID other.
//
// The rule (the store reads it): a link is always recorded on the dialog
// that names the other (by header or suffix). When the named dialog is
// still open, or remembered after it was handed on, the two groups are
// joined transitively as far as the correlator knows them (A names B, B
// names C: A lists B and C); every open member of the group lists all the
// others. A dialog already handed on is not changed, so a store must treat
// links as undirected and close them transitively (a links table).
func (c *Correlator) link(d *dialog, other string) {
	if contains(d.d.Linked, other) || len(d.d.Linked) >= maxLinked {
		return
	}
	group := append([]string(nil), d.d.Linked...)
	group = append(group, strings.Clone(other))
	if o := c.lookup(other); o != nil {
		group = appendUnique(group, o.d.Linked...)
	} else if t := c.tombs[other]; t != nil {
		group = appendUnique(group, c.linked(t)...)
	}
	self := d.d.CallID
	if !contains(group, self) {
		// A copy: other dialogs keep it after d's messages are handed on.
		group = append(group, strings.Clone(self))
	}
	if len(group) > maxLinked+1 {
		group = group[:maxLinked+1]
	}
	for _, id := range group {
		if o := c.lookup(id); o != nil {
			o.d.Linked = without(group, id, o.d.Linked)
			if o != d {
				c.refreeze(o) // thawed by lookup
			}
		}
	}
	if c.open[self] != d {
		d.d.Linked = without(group, self, d.d.Linked)
	}
}

// without returns the members of group other than id, reusing dst's
// storage, in group order.
func without(group []string, id string, dst []string) []string {
	dst = dst[:0]
	for _, g := range group {
		if g != id {
			dst = append(dst, g)
		}
	}
	return dst
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func appendUnique(list []string, add ...string) []string {
	for _, s := range add {
		if !contains(list, s) {
			list = append(list, s)
		}
	}
	return list
}

// asciiEqualFold reports whether a and b, of the same length, are equal
// but for the case of ASCII letters.
func asciiEqualFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
