package correlate

import (
	"os"
	"testing"
)

// TestDiagnoseAllocs holds the rules and the media view to a few
// allocations per dialog on a healthy SIPp call (issue 12: no per-message
// allocation in the hot path). Before the grouping and the view's lists
// reused their storage, Diagnose took 30 allocations on this call and
// NewMediaView 15 (now 3 and 6).
func TestDiagnoseAllocs(t *testing.T) {
	const path = "../testdata/sipp/udp-basic.pcap"
	if _, err := os.Stat(path); err != nil {
		t.Skipf("capture %s not available (%v)", path, err)
	}
	col := correlatePath(t, path, Options{})
	var d *Dialog
	var msgs []*Message
	for i, x := range col.dialogs {
		if x.Kind == KindCall {
			d, msgs = x, col.msgs[i]
			break
		}
	}
	if d == nil || len(msgs) < 5 {
		t.Fatalf("%s: no call of 5 messages or more", path)
	}
	o := DefaultDiagnoseOptions()
	if fs := Diagnose(d, msgs, o); len(fs) != 0 {
		t.Fatalf("healthy call: findings %v", fs)
	}
	diag := testing.AllocsPerRun(200, func() { Diagnose(d, msgs, o) })
	view := testing.AllocsPerRun(200, func() { NewMediaView(d, msgs) })
	t.Logf("%d messages: Diagnose %.1f allocations, NewMediaView %.1f", len(msgs), diag, view)
	if diag > 3 {
		t.Errorf("Diagnose: %.1f allocations per dialog, want at most 3", diag)
	}
	if view > 6 {
		t.Errorf("NewMediaView: %.1f allocations per dialog, want at most 6", view)
	}
}
