package store

import (
	"context"
	"testing"
	"time"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
)

// TestMessagesKeepDecoderView: Messages gives back what the decoder knew of
// a message beyond its bytes: the warnings parsing raw again cannot find
// (ExtraData: the bytes after the body are not in raw), and the messages of
// a Call-ID that is not valid UTF-8 (a fuzzed or broken capture), which a
// JSON argument would have turned into U+FFFD and missed. Media reads
// streams by Call-ID the same way.
func TestMessagesKeepDecoderView(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	ids := []string{"ok-1@example.com", "bad-\xf1\xff-2@example.com", "bad-\xc3-3@example.com"}
	s := openTest(t, Options{})
	var ds []*correlate.Dialog
	var ms [][]*correlate.Message
	for i, id := range ids {
		d, m := makeCall(t, callSpec{callID: id, from: "alice", to: "bob", final: 486, start: start.Add(time.Duration(i) * time.Second), seq: int64(10 * i)})
		m[1].Warnings |= decode.WarnExtraData
		ds, ms = append(ds, d), append(ms, m)
	}
	writeAll(t, s, ds, ms)
	for i, id := range ids {
		got, err := s.Messages(ctx, []string{id})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(ms[i]) {
			t.Errorf("Messages(%q): %d messages, want %d", id, len(got), len(ms[i]))
			continue
		}
		for j, m := range got {
			if m.Warnings != ms[i][j].Warnings {
				t.Errorf("Messages(%q)[%d]: warnings %v, want %v", id, j, m.Warnings, ms[i][j].Warnings)
			}
			if m.CallID != id {
				t.Errorf("Messages(%q)[%d]: Call-ID %q", id, j, m.CallID)
			}
		}
	}
	all, err := s.Messages(ctx, ids)
	if err != nil || len(all) != 9 {
		t.Errorf("Messages(all three): %d messages, %v; want 9", len(all), err)
	}
}

// TestDialogsByBadCallID: Filter.CallIDs finds a dialog whose Call-ID is
// not valid UTF-8 (see TestMessagesKeepDecoderView).
func TestDialogsByBadCallID(t *testing.T) {
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	s := openTest(t, Options{})
	id := "bad-\xf1\xff-2@example.com"
	d, m := makeCall(t, callSpec{callID: id, from: "alice", to: "bob", final: 486, start: start})
	writeAll(t, s, []*correlate.Dialog{d}, [][]*correlate.Message{m})
	if got := collect(t, s, Filter{CallIDs: []string{id}}); len(got) != 1 || got[0] != id {
		t.Errorf("Filter.CallIDs [%q]: got %q, want it", id, got)
	}
}
