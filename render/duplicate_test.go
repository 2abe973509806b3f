package render

import (
	"strings"
	"testing"
)

// TestLayoutDuplicates draws the duplicate frames of the corpus FAX call
// (one datagram captured twice, issue 15 item 6) apart from other messages,
// never as retransmissions, and leaves them out with HideDuplicates.
func TestLayoutDuplicates(t *testing.T) {
	calls := readCorpus(t, "heplify/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap")
	var dups, total int
	for _, c := range calls {
		n := 0
		for _, m := range c.msgs {
			if m.Duplicate {
				n++
			}
		}
		l := Layout(c.dialogs, c.msgs, LayoutOptions{})
		if len(l.Arrows) != len(c.msgs) {
			t.Fatalf("%s: %d arrows for %d messages", c.dialogs[0].CallID, len(l.Arrows), len(c.msgs))
		}
		got := 0
		for _, a := range l.Arrows {
			if a.Duplicate != c.msgs[a.Msg].Duplicate {
				t.Errorf("arrow of message %d: Duplicate %v, message says %v", a.Msg, a.Duplicate, c.msgs[a.Msg].Duplicate)
			}
			if a.Duplicate {
				got++
				if a.Retrans {
					t.Errorf("duplicate frame drawn as a retransmission: %q", a.Label)
				}
				if !strings.HasSuffix(a.Label, "(duplicate frame)") {
					t.Errorf("duplicate label %q, want a (duplicate frame) suffix", a.Label)
				}
			}
		}
		if got != n {
			t.Errorf("%d duplicate arrows, want %d", got, n)
		}
		hidden := Layout(c.dialogs, c.msgs, LayoutOptions{HideDuplicates: true})
		if len(hidden.Arrows) != len(c.msgs)-n {
			t.Errorf("HideDuplicates: %d arrows, want %d", len(hidden.Arrows), len(c.msgs)-n)
		}
		for _, a := range hidden.Arrows {
			if a.Duplicate {
				t.Errorf("HideDuplicates kept %q", a.Label)
			}
		}
		dups += n
		total += len(c.msgs)
	}
	if dups == 0 {
		t.Fatalf("no duplicate frames found in %d messages: the capture has 23", total)
	}
}
