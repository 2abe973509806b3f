package correlate

import (
	"fmt"
	"testing"
)

// TestHostileMaxDialogs floods the correlator with INVITEs of new Call-IDs
// that are never answered: with MaxDialogs 10 no more than 10 are in
// progress at once, each one beyond is counted, and every dialog still
// reaches the sink (handed on early, not lost).
func TestHostileMaxDialogs(t *testing.T) {
	var sink countSink
	c := New(Options{MaxDialogs: 10}, &sink)
	const n = 100
	for i := range n {
		if err := c.Add(msg(t, fmt.Sprintf("%d a>b INVITE/1 br%d cid=flood-%d", i, i, i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if st.MaxOpen > 10 {
		t.Errorf("got %d dialogs open at most, want <= 10", st.MaxOpen)
	}
	if st.DialogsLimited != n-10 {
		t.Errorf("got DialogsLimited %d, want %d", st.DialogsLimited, n-10)
	}
	if sink.dialogs != n {
		t.Errorf("got %d dialogs handed on, want %d", sink.dialogs, n)
	}
}

// TestMaxDialogsFrozen: calls that ended and wait Grace frozen (Early),
// more of them than MaxDialogs, are cut short without a warning: each was
// handed on already, so DialogsLimited stays 0 (a busy, healthy capture is
// not a flood) and FrozenLimited counts them; every call is still handed
// on once and no more than MaxDialogs are held.
func TestMaxDialogsFrozen(t *testing.T) {
	const n, limit = 500, 60 // 30 calls up at once (3 s each, one per 100 ms)
	var sink countSink
	c := New(Options{Summaries: true, Early: true, MaxDialogs: limit}, &sink)
	runSynth(t, c, n)
	st := c.Stats()
	if st.MaxOpen > limit {
		t.Errorf("got %d dialogs open at most, want <= %d", st.MaxOpen, limit)
	}
	if st.DialogsLimited != 0 {
		t.Errorf("got DialogsLimited %d, want 0: every call was handed on at its end", st.DialogsLimited)
	}
	if st.FrozenLimited < n-limit-40 {
		t.Errorf("got FrozenLimited %d, want about %d", st.FrozenLimited, n-limit)
	}
	if sink.dialogs != n {
		t.Errorf("got %d dialogs handed on, want %d", sink.dialogs, n)
	}
}
