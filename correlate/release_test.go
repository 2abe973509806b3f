package correlate

import (
	"reflect"
	"testing"
)

// TestRelease: a call whose BYE goes unanswered (retransmitted, then Timer F
// runs out) gives its messages to Options.Release Grace after the last
// retransmission, while the capture goes on, and is still handed on after
// Idle, with the same record as without Release and only the message that
// came after: released and handed-on messages are all the messages.
func TestRelease(t *testing.T) {
	lines := []string{
		"0 a>b INVITE/1 i1",
		"3000 b>a 200 INVITE/1 i1 tb",
		"3010 a>b ACK/1 k1 tb",
		"10000 a>b BYE/2 y1 tb",
		"10500 a>b BYE/2 y1 tb",
		"11500 a>b BYE/2 y1 tb",
		"13500 a>b BYE/2 y1 tb",
		// Another dialog moves the clock past Grace, then the first
		// gets a stray message before Idle.
		"50000 a>b OPTIONS/1 o1 cid=c2",
		"50010 b>a 200 OPTIONS/1 o1 cid=c2",
		"60000 a>b BYE/2 y1 tb",
	}
	plain := run(t, Options{}, lines...)
	var released [][]*Message
	var at []int64 // messages added when Release was called
	var added int64
	col := &collector{}
	var c *Correlator
	c = New(Options{Release: func(d *Dialog, msgs []*Message) error {
		if d.CallID != "c1" || d.State != StateCompleted {
			t.Errorf("released %s in state %s", d.CallID, d.State)
		}
		released = append(released, msgs)
		at = append(at, added)
		return nil
	}}, col)
	for _, l := range lines {
		added++
		if err := c.Add(msg(t, l)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(released) != 1 || len(released[0]) != 7 || at[0] != 8 {
		t.Fatalf("released %d times (%v), want once with the 7 messages of c1 when the 8th message moved the clock past Grace", len(released), at)
	}
	for i, want := range plain.dialogs {
		got := col.dialogs[i]
		if !reflect.DeepEqual(got, want) {
			t.Errorf("record %d with Release:\n%+v\nwithout:\n%+v", i, got, want)
		}
		n := len(col.msgs[i])
		if want.CallID == "c1" {
			if n != 1 || col.msgs[i][0].Seq != 9 {
				t.Errorf("c1 handed on with %d messages, want the stray BYE only", n)
			}
			n += len(released[0])
		}
		if n != len(plain.msgs[i]) {
			t.Errorf("%s: %d messages in all, want %d", want.CallID, n, len(plain.msgs[i]))
		}
	}
	if len(col.dialogs) != len(plain.dialogs) {
		t.Errorf("%d records, want %d", len(col.dialogs), len(plain.dialogs))
	}
}
