package store

import (
	"fmt"
	"testing"

	"github.com/sipscope/sipscope/correlate"
)

// TestEncodeAllocs: making the rows of a dialog allocates per dialog (its
// frames arena, the transactions' JSON, the formatted addresses), none per
// message, and the Writer queues them without allocating (boxes).
func TestEncodeAllocs(t *testing.T) {
	_, w := openWriter(t)
	defer w.Close()
	e := w.Encoder()
	d, msgs := makeCall(t, callSpec{callID: "alloc-1", from: "alice", to: "bob", final: 200, start: t0})
	for _, m := range msgs {
		m.File, m.Frames[0].File = "-", "-"
	}
	var long []*correlate.Message
	for range 8 {
		long = append(long, msgs...)
	}
	perEncode := func(ms []*correlate.Message) float64 {
		return testing.AllocsPerRun(200, func() {
			enc := e.Encode(d, ms)
			if enc == nil || !enc.rows {
				t.Fatal("not encoded")
			}
			e.pool.put(enc)
		})
	}
	short, many := perEncode(msgs), perEncode(long)
	if per := (many - short) / float64(len(long)-len(msgs)); per > 0.05 {
		t.Errorf("Encode: %.2f allocations per message (%.1f for %d messages, %.1f for %d), want none",
			per, short, len(msgs), many, len(long))
	}
	if short > 8 {
		t.Errorf("Encode: %.1f allocations for a dialog of %d messages, want at most 8", short, len(msgs))
	}

	// The Writer: dialogs encoded ahead, then queued.
	const n = 400
	ds := make([]*correlate.Dialog, n)
	ms := make([][]*correlate.Message, n)
	encs := make([]*Encoded, n)
	for i := range n {
		ds[i], ms[i] = makeCall(t, callSpec{callID: fmt.Sprintf("alloc-w%d", i), from: "alice", to: "bob",
			final: 200, start: t0, seq: int64(10 * i)})
		for _, m := range ms[i] {
			m.File, m.Frames[0].File = "-", "-"
		}
		encs[i] = e.Encode(ds[i], ms[i])
	}
	i := 0
	write := testing.AllocsPerRun(n-1, func() {
		if err := w.DialogEncoded(ds[i], ms[i], encs[i]); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if write > 1 {
		t.Errorf("DialogEncoded: %.2f allocations per dialog of %d messages, want at most 1", write, len(msgs))
	}
	t.Logf("Encode: %.1f allocations (%d messages), %.1f (%d); DialogEncoded: %.2f", short, len(msgs), many, len(long), write)
}
